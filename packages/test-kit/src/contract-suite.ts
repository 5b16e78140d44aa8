/**
 * The Store contract suite (keyv style): every store plugin's test file calls
 * `storeContractSuite(name, makeStore, { describe, it, expect, beforeEach, afterEach })` with its
 * runner's functions, so the same rules are checked for every implementation under any runner
 * with a jest-like `expect`.
 *
 * The rules checked here beyond the interface's own comments (they are the contract):
 * - `clearConnection` also forgets the serial remembered at that address.
 * - A unit holds at most one waveform per event key: `putWaveform` replaces the one with the same
 *   key whatever its timestamp; `getWaveform` answers only while (key, timestamp) both match.
 * - `appendEvents([], sync)` records a sync with no new events; `appendEvents([])` is a no-op.
 * - stats: `entries` counts info rows, events, waveforms and statuses; `bytes` is > 0 exactly when
 *   a kind holds something (an event sync state counts as holding something).
 * - `close()` twice is fine; any other call after it throws StoreError.
 */
import fc from 'fast-check';
import { CACHE_KINDS, StoreError } from '@sfm/core';
import type { CacheKind, EventSyncState, Store, StoredWaveform, UnitId } from '@sfm/core';
import { sampleInfo, sampleKey, sampleStatus, sampleWaveform, storedEvent, storedEvents } from './fixtures.js';
import { ReferenceStore } from './reference-store.js';

/** The subset of a jest-like `expect(…)` the suite uses. */
export interface ContractMatchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  toBeGreaterThan(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toBeInstanceOf(expected: any): void;
  readonly not: ContractMatchers;
}

type Hook = () => void | Promise<void>;

/** The test runner's functions (vitest's or jest's fit as they are). */
export interface ContractTestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => void | Promise<void>, timeout?: number): void;
  expect(actual: unknown): ContractMatchers;
  beforeEach(fn: Hook): void;
  afterEach(fn: Hook): void;
}

export interface ContractSuiteOptions {
  /** Runs of the model-based property test (default 100). */
  modelRuns?: number;
}

const A = 'tcp:10.20.0.7:12345';
const B = 'serial:/dev/ttyUSB0:38400';
const S1 = 'BE18189';
const S2 = 'BE20001';
const T0 = 1_775_000_000_000;

export function storeContractSuite(
  name: string,
  makeStore: () => Store | Promise<Store>,
  api: ContractTestApi,
  options: ContractSuiteOptions = {},
): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  const u1: UnitId = { connKey: A, serial: S1 };

  /** Asserts `fn` throws a StoreError (by class, or by name for a second copy of core). */
  const expectStoreError = (fn: () => unknown): void => {
    let thrown: unknown;
    try {
      fn();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown instanceof StoreError || (thrown as Error).name === 'StoreError').toBe(true);
  };

  /** Bit-exact comparison of two waveforms (channels compared as Int16Array bytes). */
  const expectSameWaveform = (actual: StoredWaveform | undefined, expected: StoredWaveform): void => {
    expect(actual).not.toBeUndefined();
    const a = actual!;
    const { channels: ac, ...aMeta } = a;
    const { channels: ec, ...eMeta } = expected;
    expect(aMeta).toEqual(eMeta);
    for (const ch of ['Tran', 'Vert', 'Long', 'MicL'] as const) {
      expect(ac[ch]).toBeInstanceOf(Int16Array);
      expect(ac[ch].length).toBe(ec[ch].length);
      expect(Buffer.compare(bytesOf(ac[ch]), bytesOf(ec[ch]))).toBe(0);
    }
  };

  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(() => {
      store.close();
    });

    it('names its kind and capabilities', () => {
      expect(typeof store.kind).toBe('string');
      expect(store.kind.length).toBeGreaterThan(0);
      expect(typeof store.capabilities.persistent).toBe('boolean');
      expect(typeof store.capabilities.evicts).toBe('boolean');
    });

    describe('serial at an address', () => {
      it('is undefined for an unknown address, then the last remembered serial', () => {
        expect(store.lastSerialAt(A)).toBeUndefined();
        store.rememberSerial(A, S1);
        expect(store.lastSerialAt(A)).toBe(S1);
        store.rememberSerial(A, S2);
        expect(store.lastSerialAt(A)).toBe(S2);
        expect(store.lastSerialAt(B)).toBeUndefined();
        store.rememberSerial(B, S1);
        expect(store.lastSerialAt(B)).toBe(S1);
        expect(store.lastSerialAt(A)).toBe(S2);
      });
    });

    describe('device_info', () => {
      it('is undefined when nothing is cached', () => {
        expect(store.getInfo(u1)).toBeUndefined();
      });

      it('round-trips with fetchedAt and dirty = false; a second put replaces', () => {
        store.putInfo(u1, sampleInfo(S1), T0);
        expect(store.getInfo(u1)).toEqual({ info: sampleInfo(S1), fetchedAt: T0, dirty: false });
        const changed = sampleInfo(S1, { event_count: 99, firmware: 'S338.18' });
        store.putInfo(u1, changed, T0 + 5);
        expect(store.getInfo(u1)).toEqual({ info: changed, fetchedAt: T0 + 5, dirty: false });
      });

      it('markInfoDirty returns false and caches nothing when nothing is cached', () => {
        expect(store.markInfoDirty(u1)).toBe(false);
        expect(store.getInfo(u1)).toBeUndefined();
        expect(store.stats().device_info.entries).toBe(0);
      });

      it('markInfoDirty marks the cached info; putInfo clears the mark', () => {
        store.putInfo(u1, sampleInfo(S1), T0);
        expect(store.markInfoDirty(u1)).toBe(true);
        expect(store.getInfo(u1)).toEqual({ info: sampleInfo(S1), fetchedAt: T0, dirty: true });
        expect(store.markInfoDirty(u1)).toBe(true);
        store.putInfo(u1, sampleInfo(S1), T0 + 1);
        expect(store.getInfo(u1)?.dirty).toBe(false);
      });

      it('keeps unicode text and nulls as given', () => {
        const info = sampleInfo(S1, { firmware: null, dsp_version: null });
        info.compliance.operator = 'Zoë Müller — 検査員 ✓';
        info.compliance.notes = null;
        store.putInfo(u1, info, T0);
        expect(store.getInfo(u1)?.info).toEqual(info);
      });
    });

    describe('events', () => {
      it('an unknown unit has none: [], undefined, 0, no JSON, no sync', () => {
        expect(store.getEvents(u1)).toEqual([]);
        expect(store.getEvent(u1, 0)).toBeUndefined();
        expect(store.eventCount(u1)).toBe(0);
        expect(store.getEventsJson(u1)).toBeUndefined();
        expect(store.getEventSync(u1)).toBeUndefined();
      });

      it('appends in order across calls; getEvents, getEvent and eventCount agree', () => {
        const all = storedEvents(0, 7, T0);
        store.appendEvents(u1, all.slice(0, 3));
        store.appendEvents(u1, all.slice(3, 4));
        store.appendEvents(u1, all.slice(4));
        expect(store.eventCount(u1)).toBe(7);
        expect(store.getEvents(u1)).toEqual(all);
        for (const e of all) expect(store.getEvent(u1, e.event.index)).toEqual(e);
      });

      it('keeps every StoredEvent field: key, null geoRange, fetchedAt, null timestamp', () => {
        const e0 = storedEvent(0, 0x01110000, T0, null);
        e0.event.timestamp = null;
        e0.event.peaks.mic_psi = null;
        const e1 = storedEvent(1, 0xfffffc00, T0 + 1, 'sensitive');
        store.appendEvents(u1, [e0, e1]);
        expect(store.getEvent(u1, 0)).toEqual(e0);
        expect(store.getEvent(u1, 1)).toEqual(e1);
      });

      it('getEvent is undefined outside 0..count-1', () => {
        store.appendEvents(u1, storedEvents(0, 2));
        expect(store.getEvent(u1, 2)).toBeUndefined();
        expect(store.getEvent(u1, -1)).toBeUndefined();
        expect(store.getEvent(u1, 0.5)).toBeUndefined();
        expect(store.getEvent(u1, Number.NaN)).toBeUndefined();
      });

      it('getEventsJson is one JSON array of the contract Events in index order', () => {
        const all = storedEvents(0, 25, T0);
        store.appendEvents(u1, all.slice(0, 10));
        store.appendEvents(u1, all.slice(10));
        const bytes = store.getEventsJson(u1);
        expect(bytes).toBeInstanceOf(Uint8Array);
        const json = new TextDecoder().decode(bytes);
        expect(JSON.parse(json)).toEqual(all.map((e) => e.event));
        expect(json).toBe(JSON.stringify(all.map((e) => e.event)));
      });

      it('getEventsJson carries unicode text exactly', () => {
        const e = storedEvent(0);
        e.event.project.notes = 'Zoë — 発破 №3 "quoted" \\ back\nslash';
        store.appendEvents(u1, [e]);
        expect(JSON.parse(new TextDecoder().decode(store.getEventsJson(u1)))).toEqual([e.event]);
      });

      it('a batch that does not continue the sequence throws StoreError and writes nothing', () => {
        const sync: EventSyncState = { first: sampleKey(0), last: sampleKey(9), syncedAt: T0 };
        expectStoreError(() => store.appendEvents(u1, [storedEvent(1)])); // must start at 0
        expectStoreError(() => store.appendEvents(u1, [storedEvent(0), storedEvent(2)], sync)); // a gap
        expect(store.eventCount(u1)).toBe(0);
        expect(store.getEventSync(u1)).toBeUndefined();
        expect(store.getEventsJson(u1)).toBeUndefined();

        store.appendEvents(u1, storedEvents(0, 3));
        expectStoreError(() => store.appendEvents(u1, [storedEvent(3), storedEvent(5)], sync)); // gap inside
        expectStoreError(() => store.appendEvents(u1, [storedEvent(2)])); // a repeat
        expectStoreError(() => store.appendEvents(u1, [storedEvent(4)])); // skips one
        expectStoreError(() => store.appendEvents(u1, [storedEvent(3), storedEvent(4), storedEvent(4)], sync)); // repeat at the end
        expect(store.eventCount(u1)).toBe(3);
        expect(store.getEvents(u1)).toEqual(storedEvents(0, 3));
        expect(store.getEventSync(u1)).toBeUndefined();
        expect(store.stats().events.entries).toBe(3);
        store.appendEvents(u1, [storedEvent(3)]);
        expect(store.eventCount(u1)).toBe(4);
      });

      it('appendEvents with a sync state stores both; a later sync replaces it', () => {
        const sync1: EventSyncState = { first: sampleKey(0), last: sampleKey(2), syncedAt: T0 };
        store.appendEvents(u1, storedEvents(0, 3), sync1);
        expect(store.eventCount(u1)).toBe(3);
        expect(store.getEventSync(u1)).toEqual(sync1);
        store.appendEvents(u1, storedEvents(3, 2));
        expect(store.getEventSync(u1)).toEqual(sync1);
        const sync2: EventSyncState = { first: sampleKey(0), last: sampleKey(4), syncedAt: T0 + 60_000 };
        store.appendEvents(u1, [], sync2);
        expect(store.getEventSync(u1)).toEqual(sync2);
        expect(store.eventCount(u1)).toBe(5);
      });

      it('a sync with no events records an empty, synced list; an empty append is a no-op', () => {
        store.appendEvents(u1, []);
        expect(store.getEventSync(u1)).toBeUndefined();
        expect(store.stats().events).toEqual({ entries: 0, bytes: 0 });
        const sync: EventSyncState = { first: 0, last: 0, syncedAt: T0 };
        store.appendEvents(u1, [], sync);
        expect(store.getEventSync(u1)).toEqual(sync);
        expect(store.eventCount(u1)).toBe(0);
        expect(store.getEvents(u1)).toEqual([]);
        expect(store.getEventsJson(u1)).toBeUndefined();
      });

      it("dropEvents drops the unit's events, sync and waveforms, returns the counts, spares other units", () => {
        const u2: UnitId = { connKey: A, serial: S2 };
        const u3: UnitId = { connKey: B, serial: S1 };
        for (const u of [u1, u2, u3]) {
          store.appendEvents(u, storedEvents(0, 4), { first: sampleKey(0), last: sampleKey(3), syncedAt: T0 });
          store.putWaveform(u, sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 64));
          store.putWaveform(u, sampleWaveform(sampleKey(1), '2026-04-09T07:00:01', 64));
        }
        store.putInfo(u1, sampleInfo(S1), T0);
        store.putStatus(u1, sampleStatus(), T0);

        expect(store.dropEvents(u1)).toEqual({ events: 4, waveforms: 2 });
        expect(store.eventCount(u1)).toBe(0);
        expect(store.getEvents(u1)).toEqual([]);
        expect(store.getEventsJson(u1)).toBeUndefined();
        expect(store.getEventSync(u1)).toBeUndefined();
        expect(store.getWaveform(u1, sampleKey(0), '2026-04-09T07:00:00')).toBeUndefined();
        expect(store.getWaveform(u1, sampleKey(1), '2026-04-09T07:00:01')).toBeUndefined();
        // info and status are not events
        expect(store.getInfo(u1)).not.toBeUndefined();
        expect(store.getStatus(u1)).not.toBeUndefined();
        // other units keep theirs
        for (const u of [u2, u3]) {
          expect(store.eventCount(u)).toBe(4);
          expect(store.getEventSync(u)).not.toBeUndefined();
          expect(store.getWaveform(u, sampleKey(1), '2026-04-09T07:00:01')).not.toBeUndefined();
        }
        expect(store.dropEvents(u1)).toEqual({ events: 0, waveforms: 0 });
        // the list starts again from index 0
        store.appendEvents(u1, storedEvents(0, 1));
        expect(store.eventCount(u1)).toBe(1);
      });

      it('dropEvents with keepWaveforms drops the events and sync but keeps the waveforms', () => {
        store.appendEvents(u1, storedEvents(0, 3), { first: sampleKey(0), last: sampleKey(2), syncedAt: T0 });
        store.putWaveform(u1, sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 64));
        expect(store.dropEvents(u1, { keepWaveforms: true })).toEqual({ events: 3, waveforms: 0 });
        expect(store.eventCount(u1)).toBe(0);
        expect(store.getEventSync(u1)).toBeUndefined();
        expectSameWaveform(store.getWaveform(u1, sampleKey(0), '2026-04-09T07:00:00'), sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 64));
      });

      it('dropEvents of an unknown unit returns zeros', () => {
        expect(store.dropEvents(u1)).toEqual({ events: 0, waveforms: 0 });
      });
    });

    describe('waveform', () => {
      it('round-trips bit-exact, every field', () => {
        const w = sampleWaveform(sampleKey(3), '2026-04-09T07:00:03', 10240, { index: 3, sampleRate: 2048, pretriggerSamples: 512, geoRange: 'sensitive', fetchedAt: T0 + 7 });
        store.putWaveform(u1, w);
        expectSameWaveform(store.getWaveform(u1, w.key, w.timestamp), w);
      });

      it('keeps extreme, odd-length, unequal and empty channels exactly', () => {
        const w = sampleWaveform(0xfffffc00, null, 3);
        w.channels.Tran = Int16Array.from([-32768, 32767, 0, -1, 1]);
        w.channels.Vert = new Int16Array(0);
        w.channels.Long = Int16Array.from([12345]);
        // a view at an odd element offset into a bigger buffer
        const big = Int16Array.from([9, 9, -2, -3, -4, 9]);
        w.channels.MicL = big.subarray(2, 5);
        store.putWaveform(u1, w);
        const got = store.getWaveform(u1, 0xfffffc00, null);
        expectSameWaveform(got, { ...w, channels: { ...w.channels, MicL: Int16Array.from([-2, -3, -4]) } });
      });

      it('answers only while (key, timestamp) match', () => {
        const w = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 32);
        store.putWaveform(u1, w);
        expect(store.getWaveform(u1, sampleKey(0), '2026-04-09T07:00:01')).toBeUndefined();
        expect(store.getWaveform(u1, sampleKey(0), null)).toBeUndefined();
        expect(store.getWaveform(u1, sampleKey(1), '2026-04-09T07:00:00')).toBeUndefined();
        expectSameWaveform(store.getWaveform(u1, sampleKey(0), '2026-04-09T07:00:00'), w);

        const n = sampleWaveform(sampleKey(5), null, 32);
        store.putWaveform(u1, n);
        expectSameWaveform(store.getWaveform(u1, sampleKey(5), null), n);
        expect(store.getWaveform(u1, sampleKey(5), '2026-04-09T07:00:05')).toBeUndefined();
      });

      it('a second put of the same identity replaces it', () => {
        const a = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 32, { seed: 1 });
        const b = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 48, { seed: 2, fetchedAt: T0 + 9 });
        store.putWaveform(u1, a);
        store.putWaveform(u1, b);
        expectSameWaveform(store.getWaveform(u1, b.key, b.timestamp), b);
        expect(store.stats().waveform.entries).toBe(1);
      });

      it('a put with the same key and a new timestamp replaces the stale one', () => {
        const old = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 32);
        const fresh = sampleWaveform(sampleKey(0), '2026-05-01T10:00:00', 32, { seed: 3 });
        store.putWaveform(u1, old);
        store.putWaveform(u1, fresh);
        expect(store.getWaveform(u1, old.key, old.timestamp)).toBeUndefined();
        expectSameWaveform(store.getWaveform(u1, fresh.key, fresh.timestamp), fresh);
        expect(store.stats().waveform.entries).toBe(1);
      });
    });

    describe('monitor_status', () => {
      it('put, get, replace, delete', () => {
        expect(store.getStatus(u1)).toBeUndefined();
        expect(store.deleteStatus(u1)).toBe(false);
        store.putStatus(u1, sampleStatus(), T0);
        expect(store.getStatus(u1)).toEqual({ status: sampleStatus(), fetchedAt: T0 });
        const stopped = sampleStatus({ is_monitoring: false, clock: null, battery_v: 6.1 });
        store.putStatus(u1, stopped, T0 + 30_000);
        expect(store.getStatus(u1)).toEqual({ status: stopped, fetchedAt: T0 + 30_000 });
        expect(store.deleteStatus(u1)).toBe(true);
        expect(store.getStatus(u1)).toBeUndefined();
        expect(store.deleteStatus(u1)).toBe(false);
      });
    });

    describe('unit identity: (connKey, serial)', () => {
      const fill = (s: Store, u: UnitId, n: number, tag: number): void => {
        s.putInfo(u, sampleInfo(u.serial, { event_count: n }), T0 + tag);
        s.appendEvents(u, storedEvents(0, n, T0 + tag), { first: sampleKey(0), last: sampleKey(n - 1), syncedAt: T0 + tag });
        s.putWaveform(u, sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 16, { seed: tag }));
        s.putStatus(u, sampleStatus({ battery_v: tag }), T0 + tag);
      };
      const check = (s: Store, u: UnitId, n: number, tag: number): void => {
        expect(s.getInfo(u)).toEqual({ info: sampleInfo(u.serial, { event_count: n }), fetchedAt: T0 + tag, dirty: false });
        expect(s.eventCount(u)).toBe(n);
        expect(s.getEvents(u)).toEqual(storedEvents(0, n, T0 + tag));
        expect(s.getEventSync(u)).toEqual({ first: sampleKey(0), last: sampleKey(n - 1), syncedAt: T0 + tag });
        expectSameWaveform(s.getWaveform(u, sampleKey(0), '2026-04-09T07:00:00'), sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 16, { seed: tag }));
        expect(s.getStatus(u)).toEqual({ status: sampleStatus({ battery_v: tag }), fetchedAt: T0 + tag });
      };

      it('two serials at one address are separate for every kind', () => {
        const a: UnitId = { connKey: A, serial: S1 };
        const b: UnitId = { connKey: A, serial: S2 };
        fill(store, a, 3, 1);
        expect(store.getInfo(b)).toBeUndefined();
        expect(store.eventCount(b)).toBe(0);
        expect(store.getEventsJson(b)).toBeUndefined();
        expect(store.getEventSync(b)).toBeUndefined();
        expect(store.getWaveform(b, sampleKey(0), '2026-04-09T07:00:00')).toBeUndefined();
        expect(store.getStatus(b)).toBeUndefined();
        expect(store.markInfoDirty(b)).toBe(false);
        expect(store.deleteStatus(b)).toBe(false);
        fill(store, b, 5, 2);
        check(store, a, 3, 1);
        check(store, b, 5, 2);
        store.markInfoDirty(a);
        expect(store.getInfo(b)?.dirty).toBe(false);
        store.deleteStatus(a);
        expect(store.getStatus(b)).not.toBeUndefined();
      });

      it('one serial at two addresses is two units', () => {
        const a: UnitId = { connKey: A, serial: S1 };
        const b: UnitId = { connKey: B, serial: S1 };
        fill(store, a, 2, 1);
        expect(store.getInfo(b)).toBeUndefined();
        expect(store.eventCount(b)).toBe(0);
        expect(store.getWaveform(b, sampleKey(0), '2026-04-09T07:00:00')).toBeUndefined();
        expect(store.getStatus(b)).toBeUndefined();
        fill(store, b, 4, 2);
        check(store, a, 2, 1);
        check(store, b, 4, 2);
        expect(store.dropEvents(a)).toEqual({ events: 2, waveforms: 1 });
        check(store, b, 4, 2);
      });

      it('connection keys and serials are compared exactly (no prefix or case folding)', () => {
        const a: UnitId = { connKey: 'tcp:10.0.0.1:1', serial: 'BE1' };
        const lookalikes: UnitId[] = [
          { connKey: 'tcp:10.0.0.1:12', serial: 'BE1' },
          { connKey: 'tcp:10.0.0.1:1', serial: 'BE12' },
          { connKey: 'TCP:10.0.0.1:1', serial: 'BE1' },
          { connKey: 'tcp:10.0.0.1:1', serial: 'be1' },
          { connKey: 'tcp:10.0.0.1:1\u0000BE1', serial: '' },
        ];
        fill(store, a, 1, 1);
        for (const u of lookalikes) {
          expect(store.getInfo(u)).toBeUndefined();
          expect(store.eventCount(u)).toBe(0);
          expect(store.getStatus(u)).toBeUndefined();
        }
        for (const c of ['tcp:10.0.0.1:12', 'TCP:10.0.0.1:1', 'tcp:10.0.0.1']) {
          expect(store.clearConnection(c)).toEqual({ device_info: 0, events: 0, waveform: 0, monitor_status: 0 });
        }
        check(store, a, 1, 1);
      });
    });

    describe('clearConnection', () => {
      it('clears every kind of every serial at the address, returns counts, spares other addresses', () => {
        const a1: UnitId = { connKey: A, serial: S1 };
        const a2: UnitId = { connKey: A, serial: S2 };
        const b1: UnitId = { connKey: B, serial: S1 };
        store.rememberSerial(A, S2);
        store.rememberSerial(B, S1);
        store.putInfo(a1, sampleInfo(S1), T0);
        store.putInfo(a2, sampleInfo(S2), T0);
        store.appendEvents(a1, storedEvents(0, 3), { first: 1, last: 3, syncedAt: T0 });
        store.appendEvents(a2, storedEvents(0, 2));
        store.putWaveform(a1, sampleWaveform(sampleKey(0), null, 8));
        store.putWaveform(a2, sampleWaveform(sampleKey(0), null, 8));
        store.putWaveform(a2, sampleWaveform(sampleKey(1), null, 8));
        store.putStatus(a2, sampleStatus(), T0);
        store.putInfo(b1, sampleInfo(S1), T0);
        store.appendEvents(b1, storedEvents(0, 6));
        store.putWaveform(b1, sampleWaveform(sampleKey(0), null, 8));
        store.putStatus(b1, sampleStatus(), T0);

        expect(store.clearConnection(A)).toEqual({ device_info: 2, events: 5, waveform: 3, monitor_status: 1 });
        for (const u of [a1, a2]) {
          expect(store.getInfo(u)).toBeUndefined();
          expect(store.eventCount(u)).toBe(0);
          expect(store.getEventSync(u)).toBeUndefined();
          expect(store.getWaveform(u, sampleKey(0), null)).toBeUndefined();
          expect(store.getStatus(u)).toBeUndefined();
        }
        expect(store.lastSerialAt(A)).toBeUndefined();
        expect(store.lastSerialAt(B)).toBe(S1);
        expect(store.getInfo(b1)).not.toBeUndefined();
        expect(store.eventCount(b1)).toBe(6);
        expect(store.getWaveform(b1, sampleKey(0), null)).not.toBeUndefined();
        expect(store.getStatus(b1)).not.toBeUndefined();
        const s = store.stats();
        expect([s.device_info.entries, s.events.entries, s.waveform.entries, s.monitor_status.entries]).toEqual([1, 6, 1, 1]);
        expect(store.clearConnection(A)).toEqual({ device_info: 0, events: 0, waveform: 0, monitor_status: 0 });
      });

      it('of an unknown address returns zeros for every kind', () => {
        const counts = store.clearConnection('tcp:192.0.2.1:1');
        expect(Object.keys(counts).sort()).toEqual([...CACHE_KINDS].sort());
        expect(counts).toEqual({ device_info: 0, events: 0, waveform: 0, monitor_status: 0 });
      });
    });

    describe('stats', () => {
      it('is zero for every kind when empty', () => {
        const s = store.stats();
        expect(Object.keys(s).sort()).toEqual([...CACHE_KINDS].sort());
        for (const k of CACHE_KINDS) expect(s[k]).toEqual({ entries: 0, bytes: 0 });
      });

      it('counts entries and bytes per kind, and drops back when cleared', () => {
        store.putInfo(u1, sampleInfo(S1), T0);
        store.appendEvents(u1, storedEvents(0, 10));
        store.putWaveform(u1, sampleWaveform(sampleKey(0), null, 1024));
        store.putWaveform(u1, sampleWaveform(sampleKey(1), null, 1024));
        store.putStatus(u1, sampleStatus(), T0);
        const s = store.stats();
        expect(s.device_info.entries).toBe(1);
        expect(s.events.entries).toBe(10);
        expect(s.waveform.entries).toBe(2);
        expect(s.monitor_status.entries).toBe(1);
        for (const k of CACHE_KINDS) expect(s[k].bytes).toBeGreaterThan(0);
        // honest sizes: at least the payload (events as JSON, waveforms as int16 samples)
        expect(s.events.bytes).toBeGreaterThan(10 * 400);
        expect(s.waveform.bytes).toBeGreaterThan(2 * 4 * 1024 * 2 - 1);

        store.appendEvents(u1, storedEvents(10, 10));
        const more = store.stats();
        expect(more.events.entries).toBe(20);
        expect(more.events.bytes).toBeGreaterThan(s.events.bytes);

        store.deleteStatus(u1);
        expect(store.stats().monitor_status).toEqual({ entries: 0, bytes: 0 });
        store.dropEvents(u1);
        const dropped = store.stats();
        expect(dropped.events).toEqual({ entries: 0, bytes: 0 });
        expect(dropped.waveform).toEqual({ entries: 0, bytes: 0 });
        expect(dropped.device_info.entries).toBe(1);
        store.clearConnection(A);
        for (const k of CACHE_KINDS) expect(store.stats()[k]).toEqual({ entries: 0, bytes: 0 });
      });
    });

    describe('no aliasing', () => {
      it('mutating returned values does not change the store', () => {
        store.putInfo(u1, sampleInfo(S1), T0);
        store.appendEvents(u1, storedEvents(0, 3), { first: 1, last: 3, syncedAt: T0 });
        store.putWaveform(u1, sampleWaveform(sampleKey(0), null, 16));
        store.putStatus(u1, sampleStatus(), T0);

        const info = store.getInfo(u1)!;
        info.info.compliance.project = 'changed';
        info.dirty = true;
        info.fetchedAt = 1;
        const events = store.getEvents(u1);
        events[0]!.event.peaks.tran_ips = 99;
        events[1]!.key = 1;
        events.pop();
        const one = store.getEvent(u1, 2)!;
        one.event.project.notes = 'changed';
        const sync = store.getEventSync(u1)!;
        sync.last = 99;
        const w = store.getWaveform(u1, sampleKey(0), null)!;
        w.channels.Tran[0] = 12345;
        w.channels.MicL.fill(7);
        w.sampleRate = 1;
        const status = store.getStatus(u1)!;
        status.status.battery_v = 0;
        status.fetchedAt = 1;
        store.getEventsJson(u1)!.fill(0x20);

        expect(store.getInfo(u1)).toEqual({ info: sampleInfo(S1), fetchedAt: T0, dirty: false });
        expect(store.getEvents(u1)).toEqual(storedEvents(0, 3));
        expect(store.getEvent(u1, 2)).toEqual(storedEvent(2));
        expect(JSON.parse(new TextDecoder().decode(store.getEventsJson(u1)))).toEqual(storedEvents(0, 3).map((e) => e.event));
        expect(store.getEventSync(u1)).toEqual({ first: 1, last: 3, syncedAt: T0 });
        expectSameWaveform(store.getWaveform(u1, sampleKey(0), null), sampleWaveform(sampleKey(0), null, 16));
        expect(store.getStatus(u1)).toEqual({ status: sampleStatus(), fetchedAt: T0 });
      });

      it('mutating values after putting them does not change the store', () => {
        const info = sampleInfo(S1);
        store.putInfo(u1, info, T0);
        info.compliance.client = 'changed';
        const events = storedEvents(0, 2);
        const sync: EventSyncState = { first: 1, last: 2, syncedAt: T0 };
        store.appendEvents(u1, events, sync);
        events[0]!.event.project.project = 'changed';
        events[1]!.fetchedAt = 0;
        sync.last = 99;
        const w = sampleWaveform(sampleKey(0), null, 16);
        store.putWaveform(u1, w);
        w.channels.Vert[3] = -1;
        w.index = 42;
        const status = sampleStatus();
        store.putStatus(u1, status, T0);
        status.memory_free = 0;

        expect(store.getInfo(u1)?.info).toEqual(sampleInfo(S1));
        expect(store.getEvents(u1)).toEqual(storedEvents(0, 2));
        expect(store.getEventSync(u1)).toEqual({ first: 1, last: 2, syncedAt: T0 });
        expectSameWaveform(store.getWaveform(u1, sampleKey(0), null), sampleWaveform(sampleKey(0), null, 16));
        expect(store.getStatus(u1)?.status).toEqual(sampleStatus());
      });
    });

    describe('close', () => {
      it('then any call throws StoreError; closing again is harmless', () => {
        store.putInfo(u1, sampleInfo(S1), T0);
        store.close();
        const w = sampleWaveform(1, null, 4);
        const calls: Array<() => unknown> = [
          () => store.lastSerialAt(A),
          () => store.rememberSerial(A, S1),
          () => store.getInfo(u1),
          () => store.putInfo(u1, sampleInfo(S1), T0),
          () => store.markInfoDirty(u1),
          () => store.getEventSync(u1),
          () => store.getEvents(u1),
          () => store.getEvent(u1, 0),
          () => store.getEventsJson(u1),
          () => store.eventCount(u1),
          () => store.appendEvents(u1, [storedEvent(0)]),
          () => store.appendEvents(u1, []),
          () => store.dropEvents(u1),
          () => store.getWaveform(u1, 1, null),
          () => store.putWaveform(u1, w),
          () => store.getStatus(u1),
          () => store.putStatus(u1, sampleStatus(), T0),
          () => store.deleteStatus(u1),
          () => store.clearConnection(A),
          () => store.stats(),
        ];
        for (const call of calls) expectStoreError(call);
        store.close();
      });
    });

    describe('model-based', () => {
      it(
        'random operation sequences give the same observable results as the reference model',
        async () => {
          await fc.assert(
            fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 50, size: 'max' }), async (ops) => {
              const real = await makeStore();
              const model = new ReferenceStore();
              try {
                ops.forEach((op, step) => {
                  const got = outcome(() => runOp(real, op, model));
                  const want = outcome(() => runOp(model, op, model));
                  if (!sameOutcome(got, want)) {
                    throw new Error(`step ${step} ${describeOp(op)}: store gave ${show(got)}, model ${show(want)}`);
                  }
                });
              } finally {
                real.close();
              }
            }),
            { numRuns: options.modelRuns ?? 100 },
          );
        },
        60_000,
      );
    });
  });
}

// --- the model-based test's operations -------------------------------------------------------

// Mostly one unit, so histories grow long enough to matter; the others check isolation.
const unitArb: fc.Arbitrary<UnitId> = fc.oneof(
  { arbitrary: fc.constant({ connKey: A, serial: S1 }), weight: 4 },
  fc.constant({ connKey: A, serial: S2 }),
  fc.constant({ connKey: B, serial: S1 }),
  fc.constant({ connKey: B, serial: S2 }),
);
const wkeyArb = fc.constantFrom(sampleKey(0), sampleKey(1), sampleKey(2));
const tsArb = fc.constantFrom<string | null>(null, '2026-04-09T07:00:00', '2026-04-09T07:00:01');

type Op =
  | { op: 'rememberSerial'; connKey: string; serial: string }
  | { op: 'lastSerialAt'; connKey: string }
  | { op: 'putInfo'; u: UnitId; variant: number; at: number }
  | { op: 'getInfo'; u: UnitId }
  | { op: 'markInfoDirty'; u: UnitId }
  | { op: 'appendEvents'; u: UnitId; n: number; skew: number; sync: boolean; at: number }
  | { op: 'getEvents'; u: UnitId }
  | { op: 'getEvent'; u: UnitId; index: number }
  | { op: 'getEventsJson'; u: UnitId }
  | { op: 'eventCount'; u: UnitId }
  | { op: 'getEventSync'; u: UnitId }
  | { op: 'dropEvents'; u: UnitId }
  | { op: 'putWaveform'; u: UnitId; key: number; ts: string | null; seed: number; samples: number }
  | { op: 'getWaveform'; u: UnitId; key: number; ts: string | null }
  | { op: 'putStatus'; u: UnitId; variant: number; at: number }
  | { op: 'getStatus'; u: UnitId }
  | { op: 'deleteStatus'; u: UnitId }
  | { op: 'clearConnection'; connKey: string }
  | { op: 'stats' };

const atArb = fc.integer({ min: T0, max: T0 + 1_000_000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('rememberSerial' as const), connKey: fc.constantFrom(A, B), serial: fc.constantFrom(S1, S2) }),
  fc.record({ op: fc.constant('lastSerialAt' as const), connKey: fc.constantFrom(A, B) }),
  fc.record({ op: fc.constant('putInfo' as const), u: unitArb, variant: fc.nat(3), at: atArb }),
  fc.record({ op: fc.constant('getInfo' as const), u: unitArb }),
  fc.record({ op: fc.constant('markInfoDirty' as const), u: unitArb }),
  {
    arbitrary: fc.record({ op: fc.constant('appendEvents' as const), u: unitArb, n: fc.nat(4), skew: fc.constantFrom(0, 0, 0, 0, 1, -1), sync: fc.boolean(), at: atArb }),
    weight: 4,
  },
  fc.record({ op: fc.constant('getEvents' as const), u: unitArb }),
  fc.record({ op: fc.constant('getEvent' as const), u: unitArb, index: fc.integer({ min: -1, max: 6 }) }),
  { arbitrary: fc.record({ op: fc.constant('getEventsJson' as const), u: unitArb }), weight: 2 },
  fc.record({ op: fc.constant('eventCount' as const), u: unitArb }),
  fc.record({ op: fc.constant('getEventSync' as const), u: unitArb }),
  fc.record({ op: fc.constant('dropEvents' as const), u: unitArb }),
  {
    arbitrary: fc.record({ op: fc.constant('putWaveform' as const), u: unitArb, key: wkeyArb, ts: tsArb, seed: fc.nat(5), samples: fc.nat(40) }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('getWaveform' as const), u: unitArb, key: wkeyArb, ts: tsArb }), weight: 2 },
  fc.record({ op: fc.constant('putStatus' as const), u: unitArb, variant: fc.nat(3), at: atArb }),
  fc.record({ op: fc.constant('getStatus' as const), u: unitArb }),
  fc.record({ op: fc.constant('deleteStatus' as const), u: unitArb }),
  fc.record({ op: fc.constant('clearConnection' as const), connKey: fc.constantFrom(A, B) }),
  fc.record({ op: fc.constant('stats' as const) }),
);

/** Runs one operation; what it returns is normalised to plain data for comparison. */
function runOp(s: Store, op: Op, model: ReferenceStore): unknown {
  switch (op.op) {
    case 'rememberSerial':
      return s.rememberSerial(op.connKey, op.serial);
    case 'lastSerialAt':
      return s.lastSerialAt(op.connKey);
    case 'putInfo':
      return s.putInfo(op.u, sampleInfo(op.u.serial, { event_count: op.variant, firmware: op.variant % 2 ? null : 'S338.17' }), op.at);
    case 'getInfo':
      return s.getInfo(op.u);
    case 'markInfoDirty':
      return s.markInfoDirty(op.u);
    case 'appendEvents': {
      // The batch starts where the model's list ends, shifted by `skew`: a skew ≠ 0 must fail.
      const from = model.eventCount(op.u) + op.skew;
      const events = storedEvents(from, op.skew === 0 ? op.n : Math.max(op.n, 1), op.at);
      const sync: EventSyncState | undefined = op.sync ? { first: sampleKey(0), last: sampleKey(from + op.n), syncedAt: op.at } : undefined;
      return s.appendEvents(op.u, events, sync);
    }
    case 'getEvents':
      return s.getEvents(op.u);
    case 'getEvent':
      return s.getEvent(op.u, op.index);
    case 'getEventsJson':
      return s.getEventsJson(op.u);
    case 'eventCount':
      return s.eventCount(op.u);
    case 'getEventSync':
      return s.getEventSync(op.u);
    case 'dropEvents':
      return s.dropEvents(op.u);
    case 'putWaveform':
      return s.putWaveform(op.u, sampleWaveform(op.key, op.ts, op.samples, { seed: op.seed, index: op.seed }));
    case 'getWaveform': {
      const w = s.getWaveform(op.u, op.key, op.ts);
      return w && { ...w, channels: Object.fromEntries(Object.entries(w.channels).map(([k, v]) => [k, Array.from(v)])) };
    }
    case 'putStatus':
      return s.putStatus(op.u, sampleStatus({ battery_v: 6 + op.variant / 10, is_monitoring: op.variant % 2 === 0 }), op.at);
    case 'getStatus':
      return s.getStatus(op.u);
    case 'deleteStatus':
      return s.deleteStatus(op.u);
    case 'clearConnection':
      return s.clearConnection(op.connKey);
    case 'stats': {
      // Entries must match exactly; bytes only in whether the kind holds anything.
      const st = s.stats();
      return Object.fromEntries(CACHE_KINDS.map((k: CacheKind) => [k, { entries: st[k].entries, holds: st[k].bytes > 0 }]));
    }
  }
}

type Outcome = { ok: unknown } | { error: string };

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: e instanceof Error ? e.name : String(e) };
  }
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with object keys sorted, so field order never matters. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)))
      : x,
  );
}

function show(o: Outcome): string {
  const text = JSON.stringify(o) ?? 'undefined';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function describeOp(op: Op): string {
  return JSON.stringify(op);
}

function bytesOf(a: Int16Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
