/**
 * Crash safety of the SQLite store: a child process writes event batches and waveforms in a tight
 * loop (crash-writer.ts, run from the build) and is killed with SIGKILL at a random moment, five
 * times on the same file. After each kill the file passes PRAGMA integrity_check, every stored
 * waveform decodes whole (four channels of 10 240 samples, sample for sample), the events are
 * indexes 0..n-1 in whole batches of 10, the stats triggers agree, and the store takes new writes
 * (the next run continues the file; the last check writes in-process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { FIRST_KEY } from '@sfm/core/protocol';
import { SqliteStore } from '@sfm/store-sqlite';
import { BATCH, CHANNELS, CRASH_UNIT, SAMPLES, crashBatch, crashChannel, crashEvent, crashWaveform, eventKey } from './crash-writer.js';

const WRITER = fileURLToPath(new URL('../dist/crash-writer.js', import.meta.url));
const ROUNDS = 5;

const dir = mkdtempSync(join(tmpdir(), 'sfm-crash-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the writer on `file` and kills it with SIGKILL once it has reported `afterWrites` writes,
 * at once or up to `jitterMs` later (it is in the middle of its next write either way).
 */
function runAndKill(file: string, afterWrites: number, jitterMs: number): Promise<{ reported: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let reported = 0;
    let pending = '';
    let stderr = '';
    let killing = false;
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop()!;
      for (const line of lines) reported = Math.max(reported, Number(line));
      if (reported >= afterWrites && !killing) {
        killing = true;
        if (jitterMs > 0) setTimeout(() => child.kill('SIGKILL'), jitterMs);
        else child.kill('SIGKILL');
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (signal) resolve({ reported, signal });
      else reject(new Error(`crash-writer ended by itself (exit ${code}) after ${reported} writes: ${stderr.trim()}`));
    });
  });
}

const bytesOf = (a: Int16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Everything a reopened file must hold; returns what it holds. */
async function verify(file: string, label: string): Promise<{ events: number; waveforms: number }> {
  // The raw file first, as the next process finds it (the WAL is recovered on open).
  const db = new Database(file);
  let rows: { key: number; timestamp: string }[];
  try {
    expect(db.pragma('integrity_check', { simple: true }), label).toBe('ok');
    expect(db.pragma('foreign_key_check'), label).toEqual([]);
    rows = db.prepare('SELECT key, ts AS timestamp FROM waveforms WHERE serial = ? ORDER BY key').all(CRASH_UNIT) as typeof rows;
  } finally {
    db.close();
  }
  const store = new SqliteStore(file);
  try {
    const events = await store.getEvents(CRASH_UNIT);
    expect(events.length % BATCH, `${label}: no half batch`).toBe(0);
    events.forEach((e, i) => {
      expect(e.event.index, label).toBe(i);
      expect(e.key).toBe(eventKey(i));
      expect(e.event).toEqual(crashEvent(i));
    });
    expect(await store.eventCount(CRASH_UNIT)).toBe(events.length);
    for (const r of rows) {
      const index = (r.key - FIRST_KEY) / 0x400;
      const w = await store.getWaveform(CRASH_UNIT, r.key, r.timestamp);
      expect(w, `${label}: waveform ${index} decodes`).toBeDefined();
      CHANNELS.forEach((name, c) => {
        expect(w!.channels[name].length, `${label}: waveform ${index} ${name}`).toBe(SAMPLES);
        expect(bytesOf(w!.channels[name]).equals(bytesOf(crashChannel(index, c))), `${label}: waveform ${index} ${name} samples`).toBe(true);
      });
    }
    const stats = await store.stats();
    expect([stats.events.entries, stats.waveform.entries], `${label}: stats`).toEqual([events.length, rows.length]);
    return { events: events.length, waveforms: rows.length };
  } finally {
    await store.close();
  }
}

describe('the SQLite store killed with SIGKILL mid-write', () => {
  it(`${ROUNDS} kills at random moments: integrity ok, whole waveforms, whole event batches, new writes work`, async () => {
    expect(existsSync(WRITER), `${WRITER} is missing: build first (tsc -b, or pnpm test)`).toBe(true);
    const file = join(dir, 'cache.db');
    const summary: { killAfter: number; reported: number; events: number; waveforms: number }[] = [];
    let before = { events: 0, waveforms: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      const killAfter = 1 + Math.floor(Math.random() * 40);
      const jitterMs = round % 2 === 0 ? Math.random() * 3 : 0;
      const { reported, signal } = await runAndKill(file, killAfter, jitterMs);
      expect(signal).toBe('SIGKILL');
      const held = await verify(file, `round ${round} (killed after ${reported} reported writes, asked ${killAfter})`);
      // Every write it reported was committed; nothing it did not start is there.
      const batches = Math.ceil(reported / 2);
      expect(held.events).toBeGreaterThanOrEqual(before.events + batches * BATCH);
      expect(held.waveforms).toBeGreaterThanOrEqual(before.waveforms + Math.floor(reported / 2));
      summary.push({ killAfter, reported, ...held });
      before = held;
    }
    // The store works for new writes after the last kill.
    const store = new SqliteStore(file);
    try {
      const n = await store.eventCount(CRASH_UNIT);
      await store.appendEvents(CRASH_UNIT, crashBatch(n), { first: eventKey(0), last: eventKey(n + BATCH - 1), counter: n + BATCH, complete: true, probedAt: Date.now() });
      await store.putWaveform(CRASH_UNIT, crashWaveform(n));
      expect(await store.eventCount(CRASH_UNIT)).toBe(n + BATCH);
      expect((await store.getEvent(CRASH_UNIT, n + BATCH - 1))?.event).toEqual(crashEvent(n + BATCH - 1));
      expect(bytesOf((await store.getWaveform(CRASH_UNIT, eventKey(n), crashEvent(n).timestamp))!.channels.MicL).equals(bytesOf(crashChannel(n, 3)))).toBe(true);
    } finally {
      await store.close();
    }
    await verify(file, 'after new writes');
    if (process.env.SFM_FAULT_SUMMARY) console.info(`crash: ${JSON.stringify(summary)}`);
  });
});
