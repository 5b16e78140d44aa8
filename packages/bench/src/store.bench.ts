/**
 * S1–S6 (shared/bench/WORKLOADS.md): store-level operations for one unit with 1000 events and a
 * 4 × 10 240-sample waveform, as operations per second, against the Python peer
 * (peer_store_bench.py, READY_BYTES=1) — interleaved: peer, sqlite, memory, postgres, relay,
 * relay on postgres, peer, … for ROUNDS rounds (compare.ts), each round on fresh stores (a fresh
 * database for postgres, on a local server: postgres.ts), reported as medians with min–max. The
 * PostgreSQL rows are informational (no target): every call crosses a socket to another process.
 *
 * Two kinds of rows, each with its own ratio:
 * - store level (the targets): the store's own calls and what the relay does to their results to
 *   answer (core's listDocument, gunzipWhole, JSON.stringify), ending in the bytes a response
 *   sends — checked once per store to equal what the relay serves from that store, hot tier off
 *   and on; writes store what the relay stores (a waveform with its JSON document, made once per
 *   download);
 * - relay hits (informational): the relay's in-memory hot tier (info, status, waveform, and the
 *   events list within max_age), as the HTTP adapter serves a hit, against the same peer rows.
 * Both paths give the same bytes (checked once per store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayService, keptWaveform, listDocument, type Store, type StoredEvent, type StoredWaveform } from '@sfm/core/cache';
import type { Event } from '@sfm/core';
import { gunzipWhole } from '@sfm/core/service';
import { TransportRegistry, type DeviceTarget } from '@sfm/core/transport';
import { SqliteStore } from '@sfm/store-sqlite';
import { MemoryStore } from '@sfm/store-memory';
import { PostgresStore } from '@sfm/store-postgres';
import { POSTGRES_SETTINGS, freshPostgres } from './postgres.js';
import { report } from './report.js';
import { ensurePeerDeps, runPeerStoreBench, sharedBenchDir } from './peer.js';
import { compare, fmtRatio, fmtSpread, fmtTarget, interleave, seriesOf, ROUNDS, type Comparison, type Metrics } from './compare.js';

const N_EVENTS = 1000;
const SAMPLES = 10_240;
/** Seconds per workload per round, on both sides. */
const BUDGET_S = Number(process.env.BUDGET_S ?? '1.5');
const BUDGET_MS = BUDGET_S * 1000;
const TARGET: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: 12345 };
const UNIT = { connKey: 'tcp:127.0.0.1:12345', serial: 'BE18189' };
const KEY0 = 0x01110000;
const HOUR_MS = 3_600_000;

const IDS = ['S1_list_events', 'S2_waveform_hit', 'S3_append_10', 'S4_status_hit', 'S5_waveform_put', 'S6_info_hit'] as const;
type Id = (typeof IDS)[number];
/** × the peer, on the median ratio, for each store-level row (S2: the store's waveform read, without the hot tier). */
const TARGETS: Record<Id, number> = { S1_list_events: 10, S2_waveform_hit: 5, S3_append_10: 10, S4_status_hit: 50, S5_waveform_put: 10, S6_info_hit: 10 };
/** The relay's hot-tier hits and the peer row each is set beside (informational). */
const RELAY_HITS = [
  ['relay_events_hit', 'S1_list_events', 'relay.events(max_age)'],
  ['relay_waveform_hit', 'S2_waveform_hit', 'relay.waveform'],
  ['relay_status_hit', 'S4_status_hit', 'relay.status'],
  ['relay_info_hit', 'S6_info_hit', 'relay.info'],
] as const;

/** The peer's event shape, in the contract's field names (peer_store_bench.py: event()). */
function event(i: number): StoredEvent {
  const key = KEY0 + i * 0x400;
  const e: Event = {
    index: i, key: key.toString(16).toUpperCase().padStart(8, '0'), timestamp: `2026-04-09T07:${String(i % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`, end_timestamp: null,
    record_type: 'waveform', sample_rate: 1024, record_time_s: 10, total_samples: SAMPLES, pretrigger_samples: 256, trigger_level_ips: null,
    peaks: { tran_ips: 0.1234, vert_ips: 0.2345, long_ips: 0.0345, mic_psi: 0.0021, pvs_ips: 0.2612 },
    project: { project: 'Quarry North Expansion', client: 'Acme Aggregates', operator: 'J. Smith', sensor_location: 'House 14 foundation', notes: 'shot 2026-117' },
    project_pending: false,
  };
  return { event: e, key, geoRange: 'normal', fetchedAt: Date.now() };
}

/**
 * The peer's waveform: int(8000·e^(−k/2000)·sin(k/(7+c))) per channel (peer_store_bench.py:
 * waveform()), as the relay stores a download: the samples and its JSON document.
 */
function waveform(index: number): StoredWaveform {
  const ch = (c: number) => Int16Array.from({ length: SAMPLES }, (_, k) => Math.trunc(8000 * Math.exp(-k / 2000) * Math.sin(k / (7 + c))));
  const e = event(index);
  const w: StoredWaveform = { key: e.key, timestamp: e.event.timestamp, index, sampleRate: 1024, pretriggerSamples: 256, geoRange: 'normal', fetchedAt: Date.now(), channels: { Tran: ch(0), Vert: ch(1), Long: ch(2), MicL: ch(3) } };
  return keptWaveform(UNIT.serial, w).stored;
}

/** Operations per second of `fn` over BUDGET_MS (or `maxRuns` runs, whichever ends first). */
async function rate(fn: () => unknown, maxRuns = Infinity): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  for (;;) {
    await fn();
    n++;
    const dt = performance.now() - t0;
    if (dt >= BUDGET_MS || n >= maxRuns) return (n * 1000) / dt;
  }
}

const info = {
  serial: 'BE18189', firmware: 'S338.17', firmware_minor: 17, dsp_version: '10.72', calibration_date: '2025-11-03', event_count: N_EVENTS,
  compliance: { recording_mode: 'single_shot', sample_rate: 1024, record_time_s: 10, histogram_interval_s: 300, geo_range: 'normal', geo_full_scale_ips: 10, trigger_level_ips: 0.5, alarm_level_ips: 1, mic_trigger_psi: 0.045, mic_alarm_psi: 0.021, project: 'Quarry North Expansion', client: 'Acme Aggregates', operator: 'J. Smith', sensor_location: 'House 14 foundation', notes: '' },
} as const;
const status = { is_monitoring: true, battery_v: 6.8, memory_total: 983040, memory_free: 512000, clock: '2026-04-09T07:00:00' };

async function fill(store: Store): Promise<void> {
  await store.putIdentity(UNIT.connKey, { serial: UNIT.serial, confirmedAt: Date.now() });
  await store.appendEvents(UNIT.serial, Array.from({ length: N_EVENTS }, (_, i) => event(i)), { first: KEY0, last: KEY0 + N_EVENTS * 0x400, counter: N_EVENTS, complete: true, probedAt: Date.now() });
  await store.putWaveform(UNIT.serial, waveform(0));
  await store.putStatus(UNIT.serial, status, Date.now());
  await store.putInfo(UNIT.serial, structuredClone(info) as never, Date.now());
}

type ReadId = 'S1_list_events' | 'S2_waveform_hit' | 'S4_status_hit' | 'S6_info_hit';

/** The store-level reads: the store's calls and what the relay does to answer from them. */
function storeReads(store: Store): Record<ReadId, () => Promise<Uint8Array>> {
  const S = UNIT.serial;
  const w0 = event(0);
  return {
    S1_list_events: async () => {
      const [json, count] = await Promise.all([store.getEventsJson(S), store.eventCount(S)]);
      return listDocument(S, count, json!);
    },
    S2_waveform_hit: async () => gunzipWhole((await store.getWaveformDocument(S, w0.key, w0.event.timestamp))!.gzip),
    S4_status_hit: async () => Buffer.from(JSON.stringify((await store.getStatus(S))!.status)),
    S6_info_hit: async () => Buffer.from(JSON.stringify((await store.getInfo(S))!.info)),
  };
}

/** The relay's reads, each ending in the bytes a response sends; with `hotTier: false` every one goes to the store. */
function reads(store: Store, hotTier: boolean): Record<ReadId, () => Promise<Uint8Array>> {
  // Identity and status stay fresh for the whole run: every call is a hit, no device I/O.
  const relay = new RelayService(new TransportRegistry(), store, { statusTtlMs: HOUR_MS, identityTtlMs: HOUR_MS, ...(hotTier ? {} : { hotTierBytes: 0 }) });
  return {
    S1_list_events: async () => (await relay.events(TARGET, { maxAgeS: 3600 })).bytes(),
    S2_waveform_hit: async () => (await relay.waveform(TARGET, 0)).bytes(),
    S4_status_hit: async () => (await relay.status(TARGET)).bytes(),
    S6_info_hit: async () => (await relay.info(TARGET)).bytes(),
  };
}

/** One round on a fresh store: S1–S6, no relay. */
async function storeLevel(store: Store): Promise<Metrics> {
  try {
    await fill(store);
    const r = storeReads(store);
    const S = UNIT.serial;
    let next = N_EVENTS;
    let wi = 1;
    const wf0 = waveform(0);
    return {
      S1_list_events: await rate(r.S1_list_events),
      S2_waveform_hit: await rate(r.S2_waveform_hit),
      // Bounded so the list stays a realistic size (the memory store would otherwise evict it).
      S3_append_10: await rate(() => store.appendEvents(S, Array.from({ length: 10 }, () => event(next++))), 2000),
      S4_status_hit: await rate(r.S4_status_hit),
      // Bounded (~80 MB of waveforms) so the memory store's byte budget does not evict the rest.
      S5_waveform_put: await rate(() => store.putWaveform(S, { ...wf0, key: 0x02000000 + wi++ }), 1000),
      S6_info_hit: await rate(r.S6_info_hit),
    };
  } finally {
    await store.close();
  }
}

/** One round of the relay's hit path (hot tier), as the HTTP adapter serves a hit. */
async function relayHits(store: Store): Promise<Metrics> {
  try {
    await fill(store);
    const hot = reads(store, true);
    const calls: Record<(typeof RELAY_HITS)[number][0], () => Promise<Uint8Array>> = {
      relay_events_hit: hot.S1_list_events,
      relay_waveform_hit: hot.S2_waveform_hit,
      relay_status_hit: hot.S4_status_hit,
      relay_info_hit: hot.S6_info_hit,
    };
    const out: Metrics = {};
    for (const [id] of RELAY_HITS) {
      await calls[id](); // the first call fills the hot tier
      out[id] = await rate(calls[id]);
    }
    return out;
  } finally {
    await store.close();
  }
}

/** The store-level reads give the bytes the relay serves, from the store (hot tier off) and from the hot tier (read twice). */
async function checkBytes(store: Store): Promise<Record<string, { bytes: number; same_as_relay: boolean }>> {
  try {
    await fill(store);
    const mine = storeReads(store);
    const cold = reads(store, false);
    const hot = reads(store, true);
    const out: Record<string, { bytes: number; same_as_relay: boolean }> = {};
    for (const id of Object.keys(mine) as ReadId[]) {
      const bytes = Buffer.from(await mine[id]());
      await hot[id]();
      const same = [await cold[id](), await hot[id]()].every((b) => bytes.equals(Buffer.from(b)));
      out[id] = { bytes: bytes.length, same_as_relay: same };
    }
    return out;
  } finally {
    await store.close();
  }
}

export async function runStoreBench(): Promise<{ ok: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'sfm-bench-'));
  const peerError = sharedBenchDir() ? ensurePeerDeps() : 'shared/bench not found beside the repository';
  if (BUDGET_S * 3 + 5 > 30) process.stderr.write(`[store] BUDGET_S=${BUDGET_S}: the peer's S4 may run past its 30 s status TTL and read nothing\n`);
  let n = 0;
  const fresh = () => join(dir, `bench-${n++}.db`);
  const measured = await (async () => {
    try {
      const bytesCheck: Record<string, Awaited<ReturnType<typeof checkBytes>>> = { sqlite: await checkBytes(new SqliteStore(fresh())), memory: await checkBytes(new MemoryStore()) };
      const postgresError = await checkBytes(await PostgresStore.open(await freshPostgres())).then(
        (c) => void (bytesCheck.postgres = c),
        (e: Error) => e.message,
      );
      const series = await interleave('store', [
        {
          name: 'peer',
          run: () => {
            if (peerError) throw new Error(peerError);
            return runPeerStoreBench(BUDGET_S);
          },
        },
        { name: 'sqlite', run: () => storeLevel(new SqliteStore(fresh())) },
        { name: 'memory', run: () => storeLevel(new MemoryStore()) },
        { name: 'postgres', run: async () => storeLevel(await PostgresStore.open(await freshPostgres())) },
        { name: 'relay', run: () => relayHits(new SqliteStore(fresh())) },
        { name: 'relay-postgres', run: async () => relayHits(await PostgresStore.open(await freshPostgres())) },
      ]);
      return { bytesCheck, series, postgresError };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  const { bytesCheck, series, postgresError } = measured;
  const PEER = 'peer_store_bench.py';
  const peer = (id: string) => seriesOf(series, 'peer', id);
  const storeRows: Comparison[] = [];
  for (const id of IDS) {
    for (const impl of ['sqlite', 'memory'] as const) {
      storeRows.push(compare({ id, impl: `${impl} store`, peer_impl: PEER, unit: 'ops/s', sfm: seriesOf(series, impl, id), peer: peer(id), target: TARGETS[id] }));
    }
    storeRows.push(compare({ id, impl: 'postgres store', peer_impl: PEER, unit: 'ops/s', sfm: seriesOf(series, 'postgres', id), peer: peer(id), target: null, note: POSTGRES_SETTINGS }));
  }
  const relayRows = RELAY_HITS.flatMap(([id, peerId, call]) =>
    (['sqlite', 'postgres'] as const).map((below) =>
      compare({ id, impl: `relay hot tier (${below} below)`, peer_impl: `${PEER} ${peerId}`, unit: 'ops/s', sfm: seriesOf(series, below === 'sqlite' ? 'relay' : 'relay-postgres', id), peer: peer(peerId), target: null, note: call }),
    ),
  );
  const bytesOk = Object.values(bytesCheck).every((c) => Object.values(c).every((x) => x.same_as_relay));
  const ok = bytesOk && storeRows.filter((r) => r.target !== null).every((r) => r.met === true);
  const errors = Object.fromEntries(Object.entries(series.errors).filter(([, e]) => e.length > 0));
  report(
    {
      group: 'store', n_events: N_EVENTS, samples: SAMPLES, rounds: series.rounds, budget_s_per_workload: BUDGET_S,
      order: 'peer, sqlite, memory, postgres, relay, relay-postgres — every round; fresh stores each round',
      peer: peerError ? { error: peerError } : { impl: PEER, ready_bytes: true },
      postgres: postgresError ? { error: postgresError } : { server: POSTGRES_SETTINGS },
      bytes_check: bytesCheck, store_rows: storeRows, relay_hit_rows: relayRows, errors, ok,
    },
    [
      ['workload', 'sfm', 'sfm ops/s median (min–max)', 'peer ops/s median (min–max)', '× peer median (min–max)', 'target'],
      ...storeRows.map((r) => [r.id, r.impl, fmtSpread(r.sfm), fmtSpread(r.peer), fmtRatio(r.ratio), fmtTarget(r)]),
      ...relayRows.map((r) => [`${r.id} (vs peer ${r.peer_impl.split(' ')[1]})`, r.impl, fmtSpread(r.sfm), fmtSpread(r.peer), fmtRatio(r.ratio), fmtTarget(r)]),
      ['bytes: store reads = relay bytes', '', bytesOk ? 'yes' : 'NO', '', '', ''],
      ...Object.entries(errors).map(([step, e]) => [`errors (${step})`, '', e.join('; '), '', '', '']),
    ],
  );
  return { ok };
}
