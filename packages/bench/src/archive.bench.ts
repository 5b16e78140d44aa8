/**
 * The archive: a GET /db/events page of 100 out of 10,000 and 100,000 archived events on a
 * SQLite file — through the whole HTTP server, the first page, one unit's first page, a page deep
 * in the history (by its cursor) and a filtered page — as p50/p99 of one request at a time from
 * another process (wrk -t1 -c1), plain and br-compressed, to show the cost does not grow with the
 * archive (target: p99 < 5 ms). And what the archive costs on disk:
 * bytes per event, and bytes per second of waveform (4 channels at 1024 Sa/s).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayService, keptWaveform, type StoredEvent, type StoredWaveform } from '@sfm/core/cache';
import { DeviceRegistry, silentLogger } from '@sfm/core/kernel';
import { TransportRegistry } from '@sfm/core/transport';
import type { Event } from '@sfm/core';
import { SqliteStore } from '@sfm/store-sqlite';
import { defaultHttpSettings, startHttpServer } from '@sfm/adapter-http';
import { report } from './report.js';
import { ensureWrk, wrk } from './http.bench.js';

const SIZES = [10_000, 100_000];
const UNITS = 20;
/** ARCHIVE_DURATION_S: seconds of wrk per query and coding (default 3). */
const DURATION_S = Number(process.env.ARCHIVE_DURATION_S ?? '3');
const CODINGS: [string, string[]][] = [['plain', []], ['br', ['Accept-Encoding: br']]];
const TARGET_P99_MS = 5;
const WAVEFORMS = 20;
const WAVEFORM_SECONDS = 10;

function event(unit: number, i: number, index = i): StoredEvent {
  const key = 0x01110000 + (i % 2000) * 0x400;
  const day = 1 + Math.floor(i / 1440) % 28;
  const minute = i % 1440;
  const ts = `2026-${String(1 + Math.floor(i / 40320) % 12).padStart(2, '0')}-${String(day).padStart(2, '0')}T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:${String(unit % 60).padStart(2, '0')}`;
  const pvs = Math.round(((i * 7919) % 1000) / 10) / 100;
  const e: Event = {
    index, key: key.toString(16).toUpperCase().padStart(8, '0'), timestamp: ts, end_timestamp: null, record_type: 'waveform', sample_rate: 1024,
    record_time_s: 10, total_samples: 10240, pretrigger_samples: 256, trigger_level_ips: null,
    peaks: { tran_ips: pvs / 2, vert_ips: pvs / 3, long_ips: pvs / 4, mic_psi: 0.002, pvs_ips: pvs },
    project: { project: `Quarry ${unit % 4}`, client: 'Acme Aggregates', operator: 'J. Smith', sensor_location: `House ${unit}`, notes: 'shot' }, project_pending: false,
  };
  return { event: e, key, geoRange: 'normal', fetchedAt: Date.now() };
}

/** Fills a store with `n` events over UNITS units (each unit's history appended, then its live list dropped as an erase would). */
async function fill(store: SqliteStore, n: number): Promise<void> {
  const perUnit = Math.ceil(n / UNITS);
  for (let u = 0; u < UNITS; u++) {
    const serial = `BE${String(10000 + u)}`;
    for (let from = 0; from < perUnit; from += 1000) {
      const batch = Array.from({ length: Math.min(1000, perUnit - from) }, (_, k) => event(u, from + k, k));
      await store.appendEvents(serial, batch);
      // An erase every thousand: the next events reuse the keys, the archive keeps all.
      await store.dropEvents(serial);
    }
  }
}

function waveform(i: number): StoredWaveform {
  const n = 1024 * WAVEFORM_SECONDS;
  const ch = (c: number) => Int16Array.from({ length: n }, (_, k) => Math.trunc(3000 * Math.exp(-k / 3000) * Math.sin(k / (5 + c + i)) + ((k * 31 + c) % 23) - 11));
  const e = event(0, i);
  return keptWaveform('BE10000', { key: e.key, timestamp: e.event.timestamp, index: i, sampleRate: 1024, pretriggerSamples: 256, geoRange: 'normal', fetchedAt: Date.now(), channels: { Tran: ch(0), Vert: ch(1), Long: ch(2), MicL: ch(3) } }).stored;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function runArchiveBench(): Promise<{ ok: boolean }> {
  if (!ensureWrk('archive')) return { ok: false };
  const dir = mkdtempSync(join(tmpdir(), 'sfm-archive-bench-'));
  const rows: { size: number; query: string; coding: string; p50_ms: number; p99_ms: number; met: boolean }[] = [];
  const disk: Record<string, number> = {};
  try {
    for (const size of SIZES) {
      const path = join(dir, `archive-${size}.db`);
      const store = new SqliteStore(path);
      await fill(store, size);
      const relay = new RelayService(new TransportRegistry(), store);
      const server = await startHttpServer({ relay, devices: new DeviceRegistry(), logger: silentLogger, version: 'bench', settings: defaultHttpSettings({ port: 0, bodyLimitBytes: 4096 }) });
      try {
        const deep = (await relay.store.archive.events({ limit: Math.floor(size / 2) })).nextCursor!;
        const queries: [string, string][] = [
          ['first page', '/db/events?limit=100'],
          ['one unit', '/db/events?serial=BE10007&limit=100'],
          ['deep page (cursor)', `/db/events?limit=100&cursor=${encodeURIComponent(deep)}`],
          ['filtered (pvs ≥ 5, project)', '/db/events?min_pvs_ips=5&project=quarry%201&limit=100'],
        ];
        // One request at a time from another process (wrk -t1 -c1): a request's own latency, not
        // queueing; plain, and as a browser asks (br), which adds the compression of each page.
        for (const [name, path] of queries) {
          for (const [coding, headers] of CODINGS) {
            const w = await wrk(server.url.replace(/\/$/, '') + path, headers, DURATION_S, { threads: 1, connections: 1 });
            if (w.non2xx > 0 || w.errors > 0) throw new Error(`${path}: ${w.non2xx} non-2xx answers, ${w.errors} socket errors`);
            rows.push({ size, query: name, coding, p50_ms: +w.p50_ms.toFixed(2), p99_ms: +w.p99_ms.toFixed(2), met: w.p99_ms < TARGET_P99_MS });
          }
        }
        if (size === SIZES.at(-1)) {
          const before = await relay.store.archive.stats();
          for (let i = 0; i < WAVEFORMS; i++) await store.putWaveform('BE10000', waveform(i));
          const after = await relay.store.archive.stats();
          store.close();
          disk.file_bytes_per_event = Math.round(statSync(path).size / size);
          disk.event_bytes_per_event = Math.round(before.event_bytes / before.events);
          disk.waveform_bytes_per_second = Math.round((after.waveform_bytes - before.waveform_bytes) / (WAVEFORMS * WAVEFORM_SECONDS));
        }
      } finally {
        await server.close();
        await store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ok = rows.every((r) => r.met);
  report(
    { group: 'archive', tool: `wrk -t1 -c1 -d${DURATION_S}s --latency`, target_p99_ms: TARGET_P99_MS, rows, disk, ok },
    [
      ['archive size', 'query (100 a page, over HTTP, one at a time)', 'p50 ms', 'p99 ms', `target p99 < ${TARGET_P99_MS} ms`],
      ...rows.map((r) => [r.size.toLocaleString('en'), `${r.query}, ${r.coding}`, r.p50_ms.toFixed(2), r.p99_ms.toFixed(2), r.met ? 'met' : 'NOT MET']),
      ['disk', `bytes per event: ${disk.file_bytes_per_event} in the file (${disk.event_bytes_per_event} of event text)`, '', '', ''],
      ['disk', `bytes per waveform second (4 ch × 1024 Sa/s, samples + gzip document): ${disk.waveform_bytes_per_second}`, '', '', ''],
    ],
  );
  return { ok };
}
