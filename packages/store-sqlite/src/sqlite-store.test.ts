import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError, type UnitId } from '@sfm/core';
import { sampleInfo, sampleKey, sampleStatus, sampleWaveform, storedEvent, storedEvents, storeContractSuite } from '@sfm/test-kit';
import { DEFAULT_SQLITE_PATH, MIGRATIONS, SCHEMA_VERSION, SqliteStore, migrate, type Migration } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'sfm-store-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `t${++n}`, 'sfm.db');

storeContractSuite('sqlite (file)', () => new SqliteStore(freshPath()), { describe, it, expect, beforeEach, afterEach });
storeContractSuite('sqlite (:memory:)', () => new SqliteStore(':memory:'), { describe, it, expect, beforeEach, afterEach });

const u: UnitId = { connKey: 'tcp:10.20.0.7:12345', serial: 'BE18189' };
const T0 = 1_775_000_000_000;

/** Everything of every kind for one unit, as the relay would leave it. */
function fill(s: SqliteStore): void {
  s.rememberSerial(u.connKey, u.serial);
  s.putInfo(u, sampleInfo(u.serial), T0);
  s.markInfoDirty(u);
  s.appendEvents(u, storedEvents(0, 50, T0), { first: sampleKey(0), last: sampleKey(49), syncedAt: T0 + 1 });
  s.putWaveform(u, sampleWaveform(sampleKey(7), '2026-04-09T07:00:07', 10240, { index: 7 }));
  s.putStatus(u, sampleStatus(), T0 + 2);
}

function expectFilled(s: SqliteStore): void {
  expect(s.lastSerialAt(u.connKey)).toBe(u.serial);
  expect(s.getInfo(u)).toEqual({ info: sampleInfo(u.serial), fetchedAt: T0, dirty: true });
  expect(s.eventCount(u)).toBe(50);
  expect(s.getEvents(u)).toEqual(storedEvents(0, 50, T0));
  expect(s.getEventSync(u)).toEqual({ first: sampleKey(0), last: sampleKey(49), syncedAt: T0 + 1 });
  const w = s.getWaveform(u, sampleKey(7), '2026-04-09T07:00:07');
  const want = sampleWaveform(sampleKey(7), '2026-04-09T07:00:07', 10240, { index: 7 });
  expect(w && { ...w, channels: null }).toEqual({ ...want, channels: null });
  for (const ch of ['Tran', 'Vert', 'Long', 'MicL'] as const) expect(Buffer.from(w!.channels[ch].buffer, w!.channels[ch].byteOffset, w!.channels[ch].byteLength).equals(Buffer.from(want.channels[ch].buffer))).toBe(true);
  expect(s.getStatus(u)).toEqual({ status: sampleStatus(), fetchedAt: T0 + 2 });
}

/** A second, plain connection to inspect the file. */
function raw(path: string): Database.Database {
  return new Database(path, { readonly: false, timeout: 5000 });
}

describe('SqliteStore', () => {
  it("is kind 'sqlite', persistent and not evicting; opens with WAL, NORMAL sync, busy timeout and foreign keys", () => {
    const s = new SqliteStore(freshPath());
    try {
      expect(s.kind).toBe('sqlite');
      expect(s.capabilities).toEqual({ persistent: true, evicts: false });
      const db = s['db'];
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      s.close();
    }
  });

  it('creates the missing parent folders of its file', () => {
    const path = join(dir, 'deep', 'er', 'still', 'sfm.db');
    const s = new SqliteStore(path);
    s.close();
    expect(existsSync(path)).toBe(true);
  });

  it('defaults to ./data/sfm.db under the working folder', () => {
    expect(DEFAULT_SQLITE_PATH).toBe('./data/sfm.db');
    const cwd = process.cwd();
    const here = join(dir, 'default-path');
    mkdirSync(here);
    process.chdir(here);
    try {
      const s = new SqliteStore();
      s.close();
      expect(existsSync(join(here, 'data', 'sfm.db'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
  });

  it('keeps everything across a close and a reopen of the same file', () => {
    const path = freshPath();
    const a = new SqliteStore(path);
    fill(a);
    const before = a.stats();
    a.close();
    const b = new SqliteStore(path);
    try {
      expectFilled(b);
      expect(b.stats()).toEqual(before);
      // and keeps going where it stopped
      b.appendEvents(u, [storedEvent(50)]);
      expect(b.eventCount(u)).toBe(51);
    } finally {
      b.close();
    }
  });

  it('close() folds the WAL into the database file', () => {
    const path = freshPath();
    const s = new SqliteStore(path);
    fill(s);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    s.close();
    expect(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0).toBe(true);
  });

  it('an abandoned connection (never closed) leaves committed data readable and the file intact', () => {
    const path = freshPath();
    const crashed = new SqliteStore(path);
    fill(crashed);
    // A snapshot of the files as a crash would leave them: database plus WAL, never checkpointed.
    const copy = join(dir, `crash-copy-${n}.db`);
    copyFileSync(path, copy);
    copyFileSync(`${path}-wal`, `${copy}-wal`);

    const second = new SqliteStore(path); // a second connection while the first is still open
    try {
      expectFilled(second);
      expect(second['db'].pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      second.close();
    }
    const recovered = new SqliteStore(copy);
    try {
      expectFilled(recovered);
      expect(recovered['db'].pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      recovered.close();
    }
    crashed['db'].close(); // let go of the file handle without the store's checkpoint
  });

  it('two connections to one file see each other’s committed writes', () => {
    const path = freshPath();
    const a = new SqliteStore(path);
    const b = new SqliteStore(path);
    try {
      a.appendEvents(u, storedEvents(0, 3));
      expect(b.eventCount(u)).toBe(3);
      b.appendEvents(u, storedEvents(3, 2));
      expect(new TextDecoder().decode(a.getEventsJson(u))).toBe(JSON.stringify(storedEvents(0, 5).map((e) => e.event)));
      expect(() => a.appendEvents(u, [storedEvent(3)])).toThrow(StoreError);
    } finally {
      a.close();
      b.close();
    }
  });

  it('stores events as contract-Event JSON text and waveforms as a compact BLOB', () => {
    const path = freshPath();
    const s = new SqliteStore(path);
    s.appendEvents(u, storedEvents(0, 3, T0));
    const w = sampleWaveform(sampleKey(1), '2026-04-09T07:00:01', 10240, { index: 1 });
    s.putWaveform(u, w);
    s.close();
    const db = raw(path);
    try {
      const events = db.prepare('SELECT idx, key, timestamp, geo_range, fetched_at, typeof(json) AS t, json FROM events ORDER BY idx').all() as Array<Record<string, unknown>>;
      expect(events.map((r) => r.t)).toEqual(['text', 'text', 'text']);
      expect(events.map((r) => r.json)).toEqual(storedEvents(0, 3).map((e) => JSON.stringify(e.event)));
      expect(events[1]).toMatchObject({ idx: 1, key: sampleKey(1), timestamp: '2026-04-09T07:00:01', geo_range: 'normal', fetched_at: T0 });
      const wf = db.prepare('SELECT typeof(data) AS t, length(data) AS len, key, timestamp FROM waveforms').get() as Record<string, unknown>;
      expect(wf).toEqual({ t: 'blob', len: 40 + 4 * 10240 * 2, key: sampleKey(1), timestamp: '2026-04-09T07:00:01' });
    } finally {
      db.close();
    }
  });

  it('builds getEventsJson in SQL for a long list, exactly', () => {
    const s = new SqliteStore(':memory:');
    try {
      const all = storedEvents(0, 1000);
      for (let i = 0; i < 1000; i += 100) s.appendEvents(u, all.slice(i, i + 100));
      expect(new TextDecoder().decode(s.getEventsJson(u))).toBe(JSON.stringify(all.map((e) => e.event)));
      expect(s.eventCount(u)).toBe(1000);
    } finally {
      s.close();
    }
  });

  it('rolls back a batch a constraint rejects halfway and reports it as StoreError', () => {
    const s = new SqliteStore(':memory:');
    try {
      const bad = storedEvent(1);
      (bad as { geoRange: string }).geoRange = 'bogus';
      expect(() => s.appendEvents(u, [storedEvent(0), bad], { first: 1, last: 2, syncedAt: T0 })).toThrow(StoreError);
      expect(s.eventCount(u)).toBe(0);
      expect(s.getEventSync(u)).toBeUndefined();
      expect(() => s.putWaveform(u, { ...sampleWaveform(1, null, 4), geoRange: 'bogus' as never })).toThrow(StoreError);
      expect(s.stats().waveform.entries).toBe(0);
    } finally {
      s.close();
    }
  });
});

describe('stats kept by triggers', () => {
  it('always equal a full recount of the tables, through every kind of write', () => {
    const s = new SqliteStore(':memory:');
    const recount = (): Record<string, { entries: number; bytes: number }> => {
      const db = s['db'];
      const one = (sql: string) => {
        const [entries, bytes] = db.prepare(sql).raw().get() as [number, number];
        return { entries, bytes };
      };
      const events = one('SELECT count(*), coalesce(sum(octet_length(json)), 0) + 32 * count(*) FROM events');
      events.bytes += 24 * (db.prepare('SELECT count(*) FROM event_sync').pluck().get() as number);
      return {
        device_info: one('SELECT count(*), coalesce(sum(octet_length(json)), 0) + 32 * count(*) FROM device_info'),
        events,
        waveform: one('SELECT count(*), coalesce(sum(length(data)), 0) + 32 * count(*) FROM waveforms'),
        monitor_status: one('SELECT count(*), coalesce(sum(octet_length(json)), 0) + 32 * count(*) FROM monitor_status'),
      };
    };
    const units: UnitId[] = [u, { connKey: u.connKey, serial: 'BE2' }, { connKey: 'serial:/dev/ttyS0:38400', serial: 'BE18189' }];
    const op = fc.record({ t: fc.nat(7), u: fc.nat(2), k: fc.nat(3), n: fc.nat(5), len: fc.nat(50), s: fc.boolean() });
    try {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
          for (const o of ops) {
            const x = units[o.u]!;
            if (o.t === 0) s.putInfo(x, sampleInfo(x.serial, { firmware: 'é'.repeat(o.n) }), T0);
            else if (o.t === 1) s.appendEvents(x, storedEvents(s.eventCount(x), o.n), o.s ? { first: 0, last: o.n, syncedAt: T0 } : undefined);
            else if (o.t === 2) s.putWaveform(x, sampleWaveform(sampleKey(o.k), o.s ? null : 'T', o.len));
            else if (o.t === 3) s.putStatus(x, sampleStatus({ clock: o.s ? null : 'x'.repeat(o.n) }), T0);
            else if (o.t === 4) s.deleteStatus(x);
            else if (o.t === 5) s.dropEvents(x);
            else if (o.t === 6) s.clearConnection(x.connKey);
            else s.markInfoDirty(x);
            expect(s.stats()).toEqual(recount());
          }
        }),
        { numRuns: 30 },
      );
    } finally {
      s.close();
    }
  });
});

describe('schema migrations', () => {
  it('a new file gets every migration; reopening applies none', () => {
    const path = freshPath();
    new SqliteStore(path).close();
    const db = raw(path);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
      expect(tables).toEqual(['device_info', 'event_sync', 'events', 'kind_totals', 'monitor_status', 'unit_serial', 'waveforms']);
      expect(migrate(db)).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('applies the missing migrations in order, and none of them when one fails', () => {
    const db = new Database(':memory:');
    try {
      const applied: string[] = [];
      const m = (name: string, sql: string): Migration => ({ name, up: (d) => (applied.push(name), d.exec(sql)) });
      const list = [m('one', 'CREATE TABLE a (x)'), m('two', 'CREATE TABLE b (x)')];
      expect(migrate(db, list.slice(0, 1))).toBe(0);
      expect(migrate(db, list)).toBe(1);
      expect(applied).toEqual(['one', 'two']);
      expect(db.pragma('user_version', { simple: true })).toBe(2);

      const failing = [...list, m('three', 'CREATE TABLE c (x)'), m('four', 'THIS IS NOT SQL')];
      expect(() => migrate(db, failing)).toThrow(/migration 4 \(four\) failed/);
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'c'").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer sfm, and leaves it untouched', () => {
    const path = freshPath();
    new SqliteStore(path).close();
    const db = raw(path);
    db.pragma('journal_mode = DELETE');
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    let error: unknown;
    try {
      new SqliteStore(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(new RegExp(`schema version ${SCHEMA_VERSION + 5}, newer than this sfm knows \\(${SCHEMA_VERSION}\\)`));
    const check = raw(path);
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 5);
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete'); // not even switched to WAL
    check.close();
  });
});

// Regression: creating the folder and opening the file happened outside the StoreError wrapping,
// so a bad --store path surfaced as a bare "EEXIST: file already exists, mkdir …" or "unable to
// open database file" (no path), not as a cache-store error.
describe('a store path that cannot be used', () => {
  it('a folder that cannot be created (a file is in the way): StoreError naming the path and why', () => {
    const base = join(dir, 'blocked');
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'afile'), 'not a folder');
    for (const path of [join(base, 'afile', 'cache.db'), join(base, 'afile', 'sub', 'cache.db')]) {
      let error: unknown;
      try {
        new SqliteStore(path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(`for the SQLite store at ${path}: a part of that path is a file, not a folder`);
    }
  });

  it('a path that is a folder: StoreError naming the path', () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    expect(() => new SqliteStore(folder)).toThrow(StoreError);
    expect(() => new SqliteStore(folder)).toThrow(`cannot open the SQLite store at ${folder}: unable to open database file`);
  });
});
