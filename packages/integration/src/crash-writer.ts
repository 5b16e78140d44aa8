/**
 * Used only by crash.test.ts (run from the build: `node packages/integration/dist/crash-writer.js
 * FILE`): opens a SqliteStore on FILE and writes in a tight loop — a batch of 10 events, then a
 * waveform of 4 × 10 240 samples, and so on — printing how many writes are done after each one,
 * until it is killed (or 20 s pass). It continues after what FILE already holds, so it can be run
 * again on a file a killed run left behind. The test recomputes every value it reads back with the
 * builders below.
 */
import { pathToFileURL } from 'node:url';
import { type StoredEvent, type StoredWaveform } from '@sfm/core/cache';
import { FIRST_KEY, keyToHex } from '@sfm/core/protocol';
import type { Event } from '@sfm/core';
import { SqliteStore } from '@sfm/store-sqlite';

export const CRASH_UNIT = 'BE77001';
export const BATCH = 10;
export const SAMPLES = 10_240;
export const CHANNELS = ['Tran', 'Vert', 'Long', 'MicL'] as const;

export function eventKey(index: number): number {
  return (FIRST_KEY + index * 0x400) >>> 0;
}

function timestamp(index: number): string {
  const s = index % 60;
  const m = Math.floor(index / 60) % 60;
  const h = Math.floor(index / 3600) % 24;
  return `2026-05-01T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

export function crashEvent(index: number): Event {
  return {
    index,
    key: keyToHex(eventKey(index)),
    timestamp: timestamp(index),
    end_timestamp: null,
    record_type: 'waveform',
    sample_rate: 1024,
    record_time_s: 10,
    total_samples: SAMPLES,
    pretrigger_samples: 256,
    trigger_level_ips: null,
    peaks: { tran_ips: 0.1 + (index % 7) / 100, vert_ips: 0.2, long_ips: 0.03, mic_psi: 0.002, pvs_ips: 0.25 },
    project: { project: 'Crash safety', client: 'sfm', operator: 'kill -9', sensor_location: `shot ${index}`, notes: 'x'.repeat(200) },
    project_pending: false,
  };
}

export function crashBatch(from: number): StoredEvent[] {
  return Array.from({ length: BATCH }, (_, i) => ({ event: crashEvent(from + i), key: eventKey(from + i), geoRange: 'normal' as const, fetchedAt: 1_777_000_000_000 + from + i }));
}

/** The samples of channel `c` of the waveform of event `index`: a pattern that a torn write would break. */
export function crashChannel(index: number, c: number): Int16Array {
  const out = new Int16Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) out[i] = ((index * 7919 + c * 104_729 + i * 31) % 65_536) - 32_768;
  return out;
}

export function crashWaveform(index: number): StoredWaveform {
  return {
    key: eventKey(index), timestamp: timestamp(index), index, sampleRate: 1024, pretriggerSamples: 256, geoRange: 'normal', fetchedAt: 1_777_000_000_000 + index,
    channels: { Tran: crashChannel(index, 0), Vert: crashChannel(index, 1), Long: crashChannel(index, 2), MicL: crashChannel(index, 3) },
  };
}

async function main(file: string): Promise<void> {
  const store = new SqliteStore(file);
  const deadline = performance.now() + 20_000;
  let next = await store.eventCount(CRASH_UNIT);
  for (let writes = 1; performance.now() < deadline; writes++) {
    if (writes % 2 === 1) {
      await store.appendEvents(CRASH_UNIT, crashBatch(next));
      next += BATCH;
    } else {
      await store.putWaveform(CRASH_UNIT, crashWaveform(next - BATCH));
    }
    process.stdout.write(`${writes}\n`);
  }
  await store.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.argv[2]) {
    process.stderr.write('usage: node crash-writer.js FILE\n');
    process.exit(2);
  }
  await main(process.argv[2]);
}
