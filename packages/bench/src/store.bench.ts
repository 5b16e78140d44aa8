/**
 * S1–S6 (shared/bench/WORKLOADS.md): store-level operations for one unit with 1000 events and a
 * 4 × 10 240-sample waveform, on both stores and on the relay's hit path (store + hot tier), side
 * by side with the Python peer run in the same invocation. Reported as operations per second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayService, type Store, type StoredEvent, type StoredWaveform } from '@sfm/core/cache';
import { keyToHex } from '@sfm/core/protocol';
import type { Event } from '@sfm/core';
import { buildWaveform } from '@sfm/core/service';
import { TransportRegistry, type DeviceTarget } from '@sfm/core/transport';
import { SqliteStore } from '@sfm/store-sqlite';
import { MemoryStore } from '@sfm/store-memory';
import { report } from './report.js';
import { runPeerStoreBench } from './peer.js';

const N_EVENTS = 1000;
const SAMPLES = 10_240;
const BUDGET_MS = Number(process.env.BUDGET_S ?? '1.5') * 1000;
const TARGET: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: 12345 };
const UNIT = { connKey: 'tcp:127.0.0.1:12345', serial: 'BE18189' };

/** The peer's event shape, in the contract's field names (peer_store_bench.py: event()). */
function event(i: number): StoredEvent {
  const key = 0x01110000 + i * 0x400;
  const e: Event = {
    index: i, key: key.toString(16).toUpperCase().padStart(8, '0'), timestamp: `2026-04-09T07:${String(i % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
    record_type: 'waveform', sample_rate: 1024, record_time_s: 10, total_samples: SAMPLES, pretrigger_samples: 256,
    peaks: { tran_ips: 0.1234, vert_ips: 0.2345, long_ips: 0.0345, mic_psi: 0.0021, pvs_ips: 0.2612 },
    project: { project: 'Quarry North Expansion', client: 'Acme Aggregates', operator: 'J. Smith', sensor_location: 'House 14 foundation', notes: 'shot 2026-117' },
    project_pending: false,
  };
  return { event: e, key, geoRange: 'normal', fetchedAt: Date.now() };
}

/** The peer's waveform: int(8000·e^(−k/2000)·sin(k/(7+c))) per channel (peer_store_bench.py: waveform()). */
function waveform(index: number): StoredWaveform {
  const ch = (c: number) => Int16Array.from({ length: SAMPLES }, (_, k) => Math.trunc(8000 * Math.exp(-k / 2000) * Math.sin(k / (7 + c))));
  const e = event(index);
  return { key: e.key, timestamp: e.event.timestamp, index, sampleRate: 1024, pretriggerSamples: 256, geoRange: 'normal', fetchedAt: Date.now(), channels: { Tran: ch(0), Vert: ch(1), Long: ch(2), MicL: ch(3) } };
}

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

function toWaveform(w: StoredWaveform) {
  const ch = (a: Int16Array) => Int32Array.from(a);
  return buildWaveform({
    serial: UNIT.serial, index: w.index, key: keyToHex(w.key), timestamp: w.timestamp, sample_rate: w.sampleRate, pretrigger_samples: w.pretriggerSamples,
    geo_range: w.geoRange, body: { channels: { Tran: ch(w.channels.Tran), Vert: ch(w.channels.Vert), Long: ch(w.channels.Long), MicL: ch(w.channels.MicL) }, truncated: false },
  });
}

async function fill(store: Store): Promise<void> {
  // Confirmed far in the future: the relay's hit path never needs the unit here.
  await store.putIdentity(UNIT.connKey, { serial: UNIT.serial, confirmedAt: Date.now() + 3600_000 });
  await store.appendEvents(UNIT.serial, Array.from({ length: N_EVENTS }, (_, i) => event(i)), { first: 0x01110000, last: 0x01110000 + N_EVENTS * 0x400, counter: N_EVENTS, complete: true, probedAt: Date.now() });
  await store.putWaveform(UNIT.serial, waveform(0));
  await store.putStatus(UNIT.serial, status, Date.now() + 3600_000);
  await store.putInfo(UNIT.serial, structuredClone(info) as never, Date.now());
}

/** Store-level: each read produces the JSON text a response sends. */
async function storeLevel(store: Store): Promise<Record<string, number>> {
  await fill(store);
  const relay = new RelayService(new TransportRegistry(), store);
  const S = UNIT.serial;
  let next = N_EVENTS;
  let wi = 1;
  const wf0 = waveform(0);
  const out: Record<string, number> = {
    S1_list_events: await rate(async () => Buffer.concat([Buffer.from(`{"serial":"BE18189","count":${await store.eventCount(S)},"events":`), (await store.getEventsJson(S))!, Buffer.from('}')])),
    // Without the hot tier: read the blob, convert to physical units, serialise.
    S2_waveform_hit: await rate(async () => Buffer.from(JSON.stringify(toWaveform((await store.getWaveform(S, 0x01110000, event(0).event.timestamp))!)))),
    // Bounded so the list stays a realistic size (the memory store would otherwise evict it).
    S3_append_10: await rate(() => store.appendEvents(S, Array.from({ length: 10 }, () => event(next++))), 2000),
    S4_status_hit: await rate(async () => Buffer.from(JSON.stringify((await store.getStatus(S))!.status))),
    // Bounded (~80 MB of waveforms) so the memory store's byte budget does not evict the rest.
    S5_waveform_put: await rate(() => store.putWaveform(S, { ...wf0, key: 0x02000000 + wi++ }), 1000),
    S6_info_hit: await rate(async () => Buffer.from(JSON.stringify((await store.getInfo(S))!.info))),
  };
  Object.assign(out, await relayHits(relay));
  await store.close();
  return out;
}

/** The relay's hit path (store + hot tier), as the HTTP adapter serves a hit: no device I/O. */
async function relayHits(relay: RelayService): Promise<Record<string, number>> {
  return {
    relay_S2_waveform_hit: await rateAsync(async () => (await relay.waveform(TARGET, 0)).bytes()),
    relay_S4_status_hit: await rateAsync(async () => (await relay.status(TARGET)).bytes()),
    relay_S6_info_hit: await rateAsync(async () => (await relay.info(TARGET)).bytes()),
  };
}

async function rateAsync(fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  for (;;) {
    await fn();
    n++;
    const dt = performance.now() - t0;
    if (dt >= BUDGET_MS) return (n * 1000) / dt;
  }
}

export async function runStoreBench(): Promise<{ ok: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'sfm-bench-'));
  const sqlite = await storeLevel(new SqliteStore(join(dir, 'bench.db')));
  const memory = await storeLevel(new MemoryStore());
  rmSync(dir, { recursive: true, force: true });
  const peer = runPeerStoreBench(BUDGET_MS / 1000);
  const ids = ['S1_list_events', 'S2_waveform_hit', 'S3_append_10', 'S4_status_hit', 'S5_waveform_put', 'S6_info_hit'] as const;
  const peerOf = (id: string) => ('error' in peer ? null : (peer[id] as number | null));
  const ratio = (a: number | undefined, b: number | null) => (a && b ? +(a / b).toFixed(1) : null);
  const targetOf = (id: string) => (id === 'S2_waveform_hit' || id === 'S4_status_hit' ? 50 : 10);
  const rows = ids.map((id) => {
    const hot = sqlite[`relay_${id}`];
    const best = Math.max(sqlite[id]!, hot ?? 0);
    return { id, peer: peerOf(id), sqlite: sqlite[id]!, memory: memory[id]!, sqlite_relay_hit: hot ?? null, ratio_sqlite: ratio(sqlite[id], peerOf(id)), ratio_best_sqlite_path: ratio(best, peerOf(id)), target: targetOf(id) };
  });
  const ok = rows.every((r) => r.ratio_best_sqlite_path === null || r.ratio_best_sqlite_path >= r.target);
  report(
    { group: 'store', n_events: N_EVENTS, samples: SAMPLES, peer: 'error' in peer ? peer : { impl: peer.impl }, rows, ok },
    [
      ['workload', 'peer ops/s', 'sqlite', '×peer', 'memory', '×peer', 'relay hit (sqlite)', '×peer', 'target'],
      ...rows.map((r) => [r.id, fmt(r.peer), fmt(r.sqlite), fmtX(r.ratio_sqlite), fmt(r.memory), fmtX(ratio(r.memory, r.peer)), fmt(r.sqlite_relay_hit), fmtX(ratio(r.sqlite_relay_hit ?? undefined, r.peer)), `≥${r.target}×`]),
    ],
  );
  return { ok };
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined || v === 0 ? '—' : v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(1);
}
function fmtX(v: number | null): string {
  return v === null ? '—' : `${v}×`;
}
