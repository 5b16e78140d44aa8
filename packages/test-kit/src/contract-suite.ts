/**
 * The Store contract suite (keyv style): every store plugin's test file calls
 * `storeContractSuite(name, makeStore, { describe, it, expect, beforeEach, afterEach }, options)`
 * with its runner's functions, so the same rules are checked for every implementation under any
 * runner with a jest-like `expect`.
 *
 * The rules checked here beyond the interface's own comments (they are the contract):
 * - Every method answers with a promise; a failure is a rejection with a StoreError, never a
 *   synchronous throw.
 * - Data is keyed by serial alone; an address only names a serial through its identity.
 *   `clearConnection(connKey)` forgets that address's identity and every entry of the serial it
 *   named (info, live list and sync state, waveforms, status); other addresses keep their
 *   identities, even one naming the same serial.
 * - A unit holds at most one waveform per event key: `putWaveform` replaces the one with the same
 *   key whatever its timestamp; `getWaveform` answers only while (key, timestamp) both match.
 * - `appendEvents(serial, [], sync)` records a sync with no new events; `appendEvents(serial, [])`
 *   is a no-op; `putEventSync` replaces the sync state and never touches events.
 * - `pendingTexts` lists events whose `project_pending` is true; `fillEventText` rewrites only the
 *   event at that index, only while it holds that key, and leaves every other row and the sync
 *   state as they were (the list JSON stays byte-for-byte what getEvents gives).
 * - Leases: taken when free, expired (`now >= expiresAt`), already the caller's (its holder record
 *   is replaced, so its expiry moves) or held by `takeOverFrom`. `renew` and `release` act only for
 *   the current owner; ownership alone decides `renew` (an expired lease nobody took renews).
 *   `wanted` tells the owner whether a tryAcquire failed since the lease was last taken.
 * - stats: `entries` counts info rows, events, waveforms and statuses; `bytes` is > 0 exactly when
 *   a kind holds something (an event sync state counts as holding something). Identities and
 *   leases are not cache kinds.
 * - Change feed (`capabilities.shared`, checked with two stores on one backing): by the time
 *   `pollChanges()` returns, the listener has been told, as scope lists (not 'all'), of every
 *   write another store made since the last poll (`unit:<serial>` for a unit's data,
 *   `addr:<connKey>` for an identity, both for `clearConnection`); reads are not changes; a poll
 *   with nothing new calls nothing. A store that is not shared still answers `pollChanges()` and
 *   `onChange()` without throwing; whether a store reports its own writes to itself is open.
 * - `close()` twice is fine; any other call after it (leases included) rejects with StoreError.
 */
import fc from 'fast-check';
import { addressScope, CACHE_KINDS, StoreError, unitScope } from '@sfm/core/cache';
import type { CacheKind, EventSyncState, LeaseHolder, Store, StoredWaveform } from '@sfm/core/cache';
import { pendingEvent, sampleEvent, sampleHolder, sampleMonitorLog, sampleInfo, sampleKey, sampleStatus, sampleSync, sampleTimestamp, sampleWaveform, storedEvent, storedEvents, storedPendingEvent } from './fixtures.js';
import { ReferenceStore } from './reference-store.js';

/** The subset of a jest-like `expect(…)` the suite uses. */
export interface ContractMatchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  toBeGreaterThan(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toBeInstanceOf(expected: any): void;
  toContain(expected: unknown): void;
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
  /**
   * Runs of the model-based property test against ReferenceStore (default 100). 0 leaves it out:
   * only for ReferenceStore itself, which would be compared with itself.
   */
  modelRuns?: number;
  /**
   * Two stores on one backing (two SqliteStore objects on one file), as two processes would
   * open it. Required exactly when the store's `capabilities.shared` is true: the change feed
   * and cross-store leases are checked with it.
   */
  makeSharedPair?: () => Promise<[Store, Store]>;
}

const A = 'tcp:10.20.0.7:12345';
const B = 'serial:/dev/ttyUSB0:38400';
const C = 'tcp:unit-7.example.net:12345';
const S1 = 'BE18189';
const S2 = 'BE20001';
/** S1 followed by one more character: a store keying by prefix would mix the two up. */
const S1_LONGER = 'BE181890';
const T0 = 1_775_000_000_000;
const NO_COUNTS: Record<CacheKind, number> = { device_info: 0, events: 0, waveform: 0, monitor_status: 0 };

/** A StoreError by class, or by name for a second copy of core. */
function isStoreError(e: unknown): boolean {
  return e instanceof StoreError || (e instanceof Error && e.name === 'StoreError');
}

export function storeContractSuite(name: string, makeStore: () => Store | Promise<Store>, api: ContractTestApi, options: ContractSuiteOptions = {}): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  const modelRuns = options.modelRuns ?? 100;
  const makeSharedPair = options.makeSharedPair;

  /** Asserts `call` returns a promise that rejects with a StoreError (and does not throw). */
  const expectStoreError = async (call: () => Promise<unknown>): Promise<void> => {
    let pending: Promise<unknown> | undefined;
    let thrownSynchronously: unknown;
    try {
      pending = call();
    } catch (e) {
      thrownSynchronously = e;
    }
    expect(thrownSynchronously).toBeUndefined();
    let rejection: unknown;
    try {
      await pending;
    } catch (e) {
      rejection = e;
    }
    expect(rejection).toBeInstanceOf(Error);
    expect(isStoreError(rejection)).toBe(true);
  };

  /** Bit-exact comparison of two waveforms (channels compared as Int16Array bytes). */
  const expectSameWaveform = (actual: StoredWaveform | undefined, expected: StoredWaveform): void => {
    expect(actual).not.toBeUndefined();
    const a = actual!;
    const { channels: ac, document: ad, ...aMeta } = a;
    const { channels: ec, document: ed, ...eMeta } = expected;
    expect(aMeta).toEqual(eMeta);
    expect(ad?.index).toBe(ed?.index);
    expect(ad && Buffer.from(ad.gzip).toString('hex')).toBe(ed && Buffer.from(ed.gzip).toString('hex'));
    for (const ch of ['Tran', 'Vert', 'Long', 'MicL'] as const) {
      expect(ac[ch]).toBeInstanceOf(Int16Array);
      expect(ac[ch].length).toBe(ec[ch].length);
      expect(Buffer.compare(bytesOf(ac[ch]), bytesOf(ec[ch]))).toBe(0);
    }
  };

  const decodeJson = (bytes: Uint8Array | undefined): unknown => JSON.parse(new TextDecoder().decode(bytes));

  /** Every kind for one unit, distinguishable by `tag`. */
  const fill = async (s: Store, serial: string, n: number, tag: number): Promise<void> => {
    await s.putInfo(serial, sampleInfo(serial, { event_count: n }), T0 + tag);
    await s.appendEvents(serial, storedEvents(0, n, T0 + tag), sampleSync(n, { probedAt: T0 + tag }));
    await s.putWaveform(serial, sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 16, { seed: tag }));
    await s.putStatus(serial, sampleStatus({ battery_v: tag }), T0 + tag);
  };
  const check = async (s: Store, serial: string, n: number, tag: number): Promise<void> => {
    expect(await s.getInfo(serial)).toEqual({ info: sampleInfo(serial, { event_count: n }), fetchedAt: T0 + tag, dirty: false });
    expect(await s.eventCount(serial)).toBe(n);
    expect(await s.getEvents(serial)).toEqual(storedEvents(0, n, T0 + tag));
    expect(await s.getEventSync(serial)).toEqual(sampleSync(n, { probedAt: T0 + tag }));
    expectSameWaveform(await s.getWaveform(serial, sampleKey(0), '2026-04-09T07:00:00'), sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 16, { seed: tag }));
    expect(await s.getStatus(serial)).toEqual({ status: sampleStatus({ battery_v: tag }), fetchedAt: T0 + tag });
  };
  const expectNothingOf = async (s: Store, serial: string): Promise<void> => {
    expect(await s.getInfo(serial)).toBeUndefined();
    expect(await s.eventCount(serial)).toBe(0);
    expect(await s.getEvents(serial)).toEqual([]);
    expect(await s.getEventsJson(serial)).toBeUndefined();
    expect(await s.getEventSync(serial)).toBeUndefined();
    expect(await s.getWaveform(serial, sampleKey(0), '2026-04-09T07:00:00')).toBeUndefined();
    expect(await s.getStatus(serial)).toBeUndefined();
  };

  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('names its kind and capabilities; it is shared exactly when a shared pair is given to the suite', () => {
      expect(typeof store.kind).toBe('string');
      expect(store.kind.length).toBeGreaterThan(0);
      expect(typeof store.capabilities.persistent).toBe('boolean');
      expect(typeof store.capabilities.evicts).toBe('boolean');
      expect(store.capabilities.shared).toBe(makeSharedPair !== undefined);
    });

    describe('identity', () => {
      it('is undefined for an unknown address, round-trips, a later put replaces it, addresses are independent', async () => {
        expect(await store.getIdentity(A)).toBeUndefined();
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        expect(await store.getIdentity(A)).toEqual({ serial: S1, confirmedAt: T0 });
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 + 60_000 });
        expect(await store.getIdentity(A)).toEqual({ serial: S1, confirmedAt: T0 + 60_000 });
        await store.putIdentity(A, { serial: S2, confirmedAt: T0 + 120_000 });
        expect(await store.getIdentity(A)).toEqual({ serial: S2, confirmedAt: T0 + 120_000 });
        expect(await store.getIdentity(B)).toBeUndefined();
        await store.putIdentity(B, { serial: S1, confirmedAt: T0 + 1 });
        expect(await store.getIdentity(B)).toEqual({ serial: S1, confirmedAt: T0 + 1 });
        expect(await store.getIdentity(A)).toEqual({ serial: S2, confirmedAt: T0 + 120_000 });
      });

      it('addresses are compared exactly (no prefix or case folding)', async () => {
        await store.putIdentity('tcp:10.0.0.1:1', { serial: S1, confirmedAt: T0 });
        for (const lookalike of ['tcp:10.0.0.1:12', 'TCP:10.0.0.1:1', 'tcp:10.0.0.1', 'tcp:10.0.0.1:1 ']) {
          expect(await store.getIdentity(lookalike)).toBeUndefined();
          expect(await store.clearConnection(lookalike)).toEqual(NO_COUNTS);
        }
        expect(await store.getIdentity('tcp:10.0.0.1:1')).toEqual({ serial: S1, confirmedAt: T0 });
      });

      it('is not cache data: it changes no stats', async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        const s = await store.stats();
        for (const k of CACHE_KINDS) expect(s[k]).toEqual({ entries: 0, bytes: 0 });
      });
    });

    describe('device_info', () => {
      it('is undefined when nothing is cached', async () => {
        expect(await store.getInfo(S1)).toBeUndefined();
      });

      it('round-trips with fetchedAt and dirty = false; a second put replaces', async () => {
        await store.putInfo(S1, sampleInfo(S1), T0);
        expect(await store.getInfo(S1)).toEqual({ info: sampleInfo(S1), fetchedAt: T0, dirty: false });
        const changed = sampleInfo(S1, { event_count: 99, firmware: 'S338.18' });
        await store.putInfo(S1, changed, T0 + 5);
        expect(await store.getInfo(S1)).toEqual({ info: changed, fetchedAt: T0 + 5, dirty: false });
      });

      it('markInfoDirty returns false and caches nothing when nothing is cached', async () => {
        expect(await store.markInfoDirty(S1)).toBe(false);
        expect(await store.getInfo(S1)).toBeUndefined();
        expect((await store.stats()).device_info.entries).toBe(0);
      });

      it('markInfoDirty marks the cached info; putInfo clears the mark', async () => {
        await store.putInfo(S1, sampleInfo(S1), T0);
        expect(await store.markInfoDirty(S1)).toBe(true);
        expect(await store.getInfo(S1)).toEqual({ info: sampleInfo(S1), fetchedAt: T0, dirty: true });
        expect(await store.markInfoDirty(S1)).toBe(true);
        await store.putInfo(S1, sampleInfo(S1), T0 + 1);
        expect((await store.getInfo(S1))?.dirty).toBe(false);
      });

      it('keeps unicode text and nulls as given', async () => {
        const info = sampleInfo(S1, { firmware: null, dsp_version: null });
        info.compliance.operator = 'Zoë Müller — 検査員 ✓';
        info.compliance.notes = null;
        await store.putInfo(S1, info, T0);
        expect((await store.getInfo(S1))?.info).toEqual(info);
      });
    });

    describe('events', () => {
      it('an unknown unit has none: [], undefined, 0, no JSON, no sync', async () => {
        expect(await store.getEvents(S1)).toEqual([]);
        expect(await store.getEvent(S1, 0)).toBeUndefined();
        expect(await store.eventCount(S1)).toBe(0);
        expect(await store.getEventsJson(S1)).toBeUndefined();
        expect(await store.getEventSync(S1)).toBeUndefined();
      });

      it('appends in order across calls; getEvents, getEvent and eventCount agree', async () => {
        const all = storedEvents(0, 7, T0);
        await store.appendEvents(S1, all.slice(0, 3));
        await store.appendEvents(S1, all.slice(3, 4));
        await store.appendEvents(S1, all.slice(4));
        expect(await store.eventCount(S1)).toBe(7);
        expect(await store.getEvents(S1)).toEqual(all);
        for (const e of all) expect(await store.getEvent(S1, e.event.index)).toEqual(e);
      });

      it('keeps every StoredEvent field: key, null geoRange, fetchedAt, null timestamp', async () => {
        const e0 = storedEvent(0, 0x01110000, T0, null);
        e0.event.timestamp = null;
        e0.event.peaks.mic_psi = null;
        const e1 = storedEvent(1, 0xfffffc00, T0 + 1, 'sensitive');
        await store.appendEvents(S1, [e0, e1]);
        expect(await store.getEvent(S1, 0)).toEqual(e0);
        expect(await store.getEvent(S1, 1)).toEqual(e1);
      });

      it("keeps a monitor-log record's interval and trigger level, and an event's nulls for them", async () => {
        const log = { event: sampleMonitorLog(1), key: sampleKey(1), geoRange: null, fetchedAt: T0 };
        const all = [storedEvent(0), log, storedEvent(2)];
        await store.appendEvents(S1, all);
        expect(await store.getEvent(S1, 1)).toEqual(log);
        const served = decodeJson(await store.getEventsJson(S1)) as Record<string, unknown>[];
        expect(served).toEqual(all.map((e) => e.event));
        expect([served[0]!.end_timestamp, served[0]!.trigger_level_ips]).toEqual([null, null]);
        expect([served[1]!.end_timestamp, served[1]!.trigger_level_ips]).toEqual([log.event.end_timestamp, 0.5]);
      });

      it('getEvent is undefined outside 0..count-1', async () => {
        await store.appendEvents(S1, storedEvents(0, 2));
        expect(await store.getEvent(S1, 2)).toBeUndefined();
        expect(await store.getEvent(S1, -1)).toBeUndefined();
        expect(await store.getEvent(S1, 0.5)).toBeUndefined();
        expect(await store.getEvent(S1, Number.NaN)).toBeUndefined();
      });

      it('getEventsJson is one JSON array of the contract Events in index order, byte for byte', async () => {
        const all = storedEvents(0, 25, T0);
        await store.appendEvents(S1, all.slice(0, 10));
        await store.appendEvents(S1, all.slice(10));
        const bytes = await store.getEventsJson(S1);
        expect(bytes).toBeInstanceOf(Uint8Array);
        const json = new TextDecoder().decode(bytes);
        expect(JSON.parse(json)).toEqual(all.map((e) => e.event));
        expect(json).toBe(JSON.stringify(all.map((e) => e.event)));
      });

      it('getEventsJson carries unicode text exactly', async () => {
        const e = storedEvent(0);
        e.event.project.notes = 'Zoë — 発破 №3 "quoted" \\ back\nslash';
        await store.appendEvents(S1, [e]);
        expect(decodeJson(await store.getEventsJson(S1))).toEqual([e.event]);
      });

      it('pendingTexts lists the events whose text is still to be read, in index order', async () => {
        expect(await store.pendingTexts(S1)).toEqual([]);
        await store.appendEvents(S1, [storedPendingEvent(0), storedEvent(1), storedPendingEvent(2), storedPendingEvent(3)]);
        expect(await store.pendingTexts(S1)).toEqual([0, 2, 3].map((index) => ({ index, key: sampleKey(index), timestamp: sampleTimestamp(index) })));
        expect(await store.pendingTexts(S2)).toEqual([]);
      });

      it('fillEventText fills one event in place: every read agrees, the rest are untouched', async () => {
        await store.appendEvents(S1, [storedPendingEvent(0), storedPendingEvent(1), storedPendingEvent(2)], sampleSync(3));
        const text = { ...sampleEvent(1).project, notes: 'Zoë — 発破 "quoted"' };
        expect(await store.fillEventText(S1, 1, sampleKey(1), text)).toBe(true);
        const filled = { ...storedPendingEvent(1), event: { ...pendingEvent(1), project: text, project_pending: false } };
        expect(await store.getEvent(S1, 1)).toEqual(filled);
        const all = [storedPendingEvent(0), filled, storedPendingEvent(2)];
        expect(await store.getEvents(S1)).toEqual(all);
        expect(new TextDecoder().decode(await store.getEventsJson(S1))).toBe(JSON.stringify(all.map((e) => e.event)));
        expect(await store.pendingTexts(S1)).toEqual([0, 2].map((index) => ({ index, key: sampleKey(index), timestamp: sampleTimestamp(index) })));
        expect(await store.getEventSync(S1)).toEqual(sampleSync(3));
      });

      it('fillEventText is false and changes nothing when the index no longer holds that key', async () => {
        await store.appendEvents(S1, [storedPendingEvent(0)]);
        const text = sampleEvent(0).project;
        expect(await store.fillEventText(S1, 0, sampleKey(5), text)).toBe(false);
        expect(await store.fillEventText(S1, 1, sampleKey(1), text)).toBe(false);
        expect(await store.fillEventText(S2, 0, sampleKey(0), text)).toBe(false);
        await store.dropEvents(S1);
        await store.appendEvents(S1, [storedPendingEvent(0, sampleKey(9))]);
        expect(await store.fillEventText(S1, 0, sampleKey(0), text)).toBe(false);
        expect(await store.getEvents(S1)).toEqual([storedPendingEvent(0, sampleKey(9))]);
      });

      it('a batch that does not continue the sequence rejects with StoreError and writes nothing', async () => {
        const sync = sampleSync(9);
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(1)])); // must start at 0
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(0), storedEvent(2)], sync)); // a gap
        expect(await store.eventCount(S1)).toBe(0);
        expect(await store.getEventSync(S1)).toBeUndefined();
        expect(await store.getEventsJson(S1)).toBeUndefined();

        await store.appendEvents(S1, storedEvents(0, 3));
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(3), storedEvent(5)], sync)); // gap inside
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(2)])); // a repeat
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(4)])); // skips one
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(3), storedEvent(4), storedEvent(4)], sync)); // repeat at the end
        expect(await store.eventCount(S1)).toBe(3);
        expect(await store.getEvents(S1)).toEqual(storedEvents(0, 3));
        expect(await store.getEventSync(S1)).toBeUndefined();
        expect((await store.stats()).events.entries).toBe(3);
        await store.appendEvents(S1, [storedEvent(3)]);
        expect(await store.eventCount(S1)).toBe(4);
      });

      it('appendEvents with a sync state stores both; a later sync replaces it', async () => {
        const sync1 = sampleSync(3, { probedAt: T0 });
        await store.appendEvents(S1, storedEvents(0, 3), sync1);
        expect(await store.eventCount(S1)).toBe(3);
        expect(await store.getEventSync(S1)).toEqual(sync1);
        await store.appendEvents(S1, storedEvents(3, 2));
        expect(await store.getEventSync(S1)).toEqual(sync1);
        const sync2 = sampleSync(5, { probedAt: T0 + 60_000 });
        await store.appendEvents(S1, [], sync2);
        expect(await store.getEventSync(S1)).toEqual(sync2);
        expect(await store.eventCount(S1)).toBe(5);
      });

      it('a sync with no events records an empty, synced list; an empty append is a no-op', async () => {
        await store.appendEvents(S1, []);
        expect(await store.getEventSync(S1)).toBeUndefined();
        expect((await store.stats()).events).toEqual({ entries: 0, bytes: 0 });
        const sync: EventSyncState = { first: 0, last: 0, counter: null, complete: true, probedAt: T0 };
        await store.appendEvents(S1, [], sync);
        expect(await store.getEventSync(S1)).toEqual(sync);
        expect(await store.eventCount(S1)).toBe(0);
        expect(await store.getEvents(S1)).toEqual([]);
        expect(await store.getEventsJson(S1)).toBeUndefined();
        const s = await store.stats();
        expect(s.events.entries).toBe(0);
        expect(s.events.bytes).toBeGreaterThan(0); // the sync state is held
      });

      it('putEventSync records every field of the sync state and replaces it, without touching events', async () => {
        await store.appendEvents(S1, storedEvents(0, 3), sampleSync(3));
        const before = await store.stats();
        const partial: EventSyncState = { first: sampleKey(0), last: sampleKey(40), counter: null, complete: false, probedAt: T0 + 1 };
        await store.putEventSync(S1, partial);
        expect(await store.getEventSync(S1)).toEqual(partial);
        const confirmed: EventSyncState = { first: sampleKey(0), last: sampleKey(40), counter: 0xffff_fff0, complete: true, probedAt: T0 + 2 };
        await store.putEventSync(S1, confirmed);
        expect(await store.getEventSync(S1)).toEqual(confirmed);
        expect(await store.eventCount(S1)).toBe(3);
        expect(await store.getEvents(S1)).toEqual(storedEvents(0, 3));
        expect(decodeJson(await store.getEventsJson(S1))).toEqual(storedEvents(0, 3).map((e) => e.event));
        expect((await store.stats()).events.entries).toBe(before.events.entries);
        // the list still continues where it was
        await store.appendEvents(S1, [storedEvent(3)]);
        expect(await store.getEventSync(S1)).toEqual(confirmed);
      });

      it('putEventSync on a unit with no list records an empty, synced list', async () => {
        const sync = sampleSync(0, { counter: 7 });
        await store.putEventSync(S1, sync);
        expect(await store.getEventSync(S1)).toEqual(sync);
        expect(await store.eventCount(S1)).toBe(0);
        expect(await store.getEventsJson(S1)).toBeUndefined();
        await store.appendEvents(S1, storedEvents(0, 2));
        expect(await store.eventCount(S1)).toBe(2);
        expect(await store.getEventSync(S1)).toEqual(sync);
      });

      it("dropEvents drops the unit's list, sync and waveforms, returns the counts, spares other units", async () => {
        for (const serial of [S1, S2, S1_LONGER]) {
          await store.appendEvents(serial, storedEvents(0, 4), sampleSync(4));
          await store.putWaveform(serial, sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 64));
          await store.putWaveform(serial, sampleWaveform(sampleKey(1), '2026-04-09T07:00:01', 64));
        }
        await store.putInfo(S1, sampleInfo(S1), T0);
        await store.putStatus(S1, sampleStatus(), T0);

        expect(await store.dropEvents(S1)).toEqual({ events: 4, waveforms: 2 });
        expect(await store.eventCount(S1)).toBe(0);
        expect(await store.getEvents(S1)).toEqual([]);
        expect(await store.getEventsJson(S1)).toBeUndefined();
        expect(await store.getEventSync(S1)).toBeUndefined();
        expect(await store.getWaveform(S1, sampleKey(0), '2026-04-09T07:00:00')).toBeUndefined();
        expect(await store.getWaveform(S1, sampleKey(1), '2026-04-09T07:00:01')).toBeUndefined();
        // info and status are not events
        expect(await store.getInfo(S1)).not.toBeUndefined();
        expect(await store.getStatus(S1)).not.toBeUndefined();
        // other units keep theirs
        for (const serial of [S2, S1_LONGER]) {
          expect(await store.eventCount(serial)).toBe(4);
          expect(await store.getEventSync(serial)).toEqual(sampleSync(4));
          expect(await store.getWaveform(serial, sampleKey(1), '2026-04-09T07:00:01')).not.toBeUndefined();
        }
        expect(await store.dropEvents(S1)).toEqual({ events: 0, waveforms: 0 });
        // the list starts again from index 0
        await store.appendEvents(S1, storedEvents(0, 1));
        expect(await store.eventCount(S1)).toBe(1);
      });

      it('dropEvents with keepWaveforms drops the list and sync but keeps the waveforms', async () => {
        await store.appendEvents(S1, storedEvents(0, 3), sampleSync(3));
        await store.putWaveform(S1, sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 64));
        expect(await store.dropEvents(S1, { keepWaveforms: true })).toEqual({ events: 3, waveforms: 0 });
        expect(await store.eventCount(S1)).toBe(0);
        expect(await store.getEventSync(S1)).toBeUndefined();
        expectSameWaveform(await store.getWaveform(S1, sampleKey(0), '2026-04-09T07:00:00'), sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 64));
        expect((await store.stats()).waveform.entries).toBe(1);
      });

      it('dropEvents drops a sync state held without events', async () => {
        await store.putEventSync(S1, sampleSync(0));
        expect(await store.dropEvents(S1)).toEqual({ events: 0, waveforms: 0 });
        expect(await store.getEventSync(S1)).toBeUndefined();
        expect((await store.stats()).events).toEqual({ entries: 0, bytes: 0 });
      });

      it('dropEvents of an unknown unit returns zeros', async () => {
        expect(await store.dropEvents(S1)).toEqual({ events: 0, waveforms: 0 });
        expect(await store.dropEvents(S1, { keepWaveforms: true })).toEqual({ events: 0, waveforms: 0 });
      });
    });

    describe('waveform', () => {
      it('round-trips bit-exact, every field', async () => {
        const w = sampleWaveform(sampleKey(3), '2026-04-09T07:00:03', 10240, { index: 3, sampleRate: 2048, pretriggerSamples: 512, geoRange: 'sensitive', fetchedAt: T0 + 7 });
        await store.putWaveform(S1, w);
        expectSameWaveform(await store.getWaveform(S1, w.key, w.timestamp), w);
      });

      it('keeps its document when given and answers it alone while (key, timestamp) match; a put without one has none', async () => {
        const gzip = Uint8Array.from({ length: 3000 }, (_, i) => (i * 37) % 256);
        const w = { ...sampleWaveform(sampleKey(3), '2026-04-09T07:00:03', 256, { index: 3, fetchedAt: T0 + 9 }), document: { index: 3, gzip } };
        await store.putWaveform(S1, w);
        expectSameWaveform(await store.getWaveform(S1, w.key, w.timestamp), w);
        const doc = await store.getWaveformDocument(S1, w.key, w.timestamp);
        expect({ ...doc, gzip: Buffer.from(doc!.gzip).toString('hex') }).toEqual({ index: 3, gzip: Buffer.from(gzip).toString('hex'), fetchedAt: T0 + 9 });
        expect(await store.getWaveformDocument(S1, w.key, '2026-04-09T07:00:04')).toBeUndefined();
        expect(await store.getWaveformDocument(S2, w.key, w.timestamp)).toBeUndefined();
        const withDoc = (await store.stats()).waveform.bytes;
        await store.putWaveform(S1, sampleWaveform(sampleKey(3), '2026-04-09T07:00:03', 256, { index: 3 }));
        expect(await store.getWaveformDocument(S1, w.key, w.timestamp)).toBeUndefined();
        expect((await store.getWaveform(S1, w.key, w.timestamp))?.document).toBeUndefined();
        expect((await store.stats()).waveform.bytes).toBeLessThanOrEqual(withDoc - 3000);
      });

      it('keeps extreme, odd-length, unequal and empty channels exactly', async () => {
        const w = sampleWaveform(0xfffffc00, null, 3);
        w.channels.Tran = Int16Array.from([-32768, 32767, 0, -1, 1]);
        w.channels.Vert = new Int16Array(0);
        w.channels.Long = Int16Array.from([12345]);
        // a view at an odd element offset into a bigger buffer
        const big = Int16Array.from([9, 9, -2, -3, -4, 9]);
        w.channels.MicL = big.subarray(2, 5);
        await store.putWaveform(S1, w);
        const got = await store.getWaveform(S1, 0xfffffc00, null);
        expectSameWaveform(got, { ...w, channels: { ...w.channels, MicL: Int16Array.from([-2, -3, -4]) } });
      });

      it('answers only while (key, timestamp) match', async () => {
        const w = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 32);
        await store.putWaveform(S1, w);
        expect(await store.getWaveform(S1, sampleKey(0), '2026-04-09T07:00:01')).toBeUndefined();
        expect(await store.getWaveform(S1, sampleKey(0), null)).toBeUndefined();
        expect(await store.getWaveform(S1, sampleKey(1), '2026-04-09T07:00:00')).toBeUndefined();
        expectSameWaveform(await store.getWaveform(S1, sampleKey(0), '2026-04-09T07:00:00'), w);

        const n = sampleWaveform(sampleKey(5), null, 32);
        await store.putWaveform(S1, n);
        expectSameWaveform(await store.getWaveform(S1, sampleKey(5), null), n);
        expect(await store.getWaveform(S1, sampleKey(5), '2026-04-09T07:00:05')).toBeUndefined();
      });

      it('a second put of the same identity replaces it', async () => {
        const a = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 32, { seed: 1 });
        const b = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 48, { seed: 2, fetchedAt: T0 + 9 });
        await store.putWaveform(S1, a);
        await store.putWaveform(S1, b);
        expectSameWaveform(await store.getWaveform(S1, b.key, b.timestamp), b);
        expect((await store.stats()).waveform.entries).toBe(1);
      });

      it('a put with the same key and a new timestamp replaces the stale one', async () => {
        const old = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 32);
        const fresh = sampleWaveform(sampleKey(0), '2026-05-01T10:00:00', 32, { seed: 3 });
        await store.putWaveform(S1, old);
        await store.putWaveform(S1, fresh);
        expect(await store.getWaveform(S1, old.key, old.timestamp)).toBeUndefined();
        expectSameWaveform(await store.getWaveform(S1, fresh.key, fresh.timestamp), fresh);
        expect((await store.stats()).waveform.entries).toBe(1);
      });
    });

    describe('monitor_status', () => {
      it('put, get, replace, delete', async () => {
        expect(await store.getStatus(S1)).toBeUndefined();
        expect(await store.deleteStatus(S1)).toBe(false);
        await store.putStatus(S1, sampleStatus(), T0);
        expect(await store.getStatus(S1)).toEqual({ status: sampleStatus(), fetchedAt: T0 });
        const stopped = sampleStatus({ is_monitoring: false, clock: null, battery_v: 6.1 });
        await store.putStatus(S1, stopped, T0 + 30_000);
        expect(await store.getStatus(S1)).toEqual({ status: stopped, fetchedAt: T0 + 30_000 });
        expect(await store.deleteStatus(S1)).toBe(true);
        expect(await store.getStatus(S1)).toBeUndefined();
        expect(await store.deleteStatus(S1)).toBe(false);
      });
    });

    describe('data is keyed by serial', () => {
      it('two serials are separate for every kind', async () => {
        await fill(store, S1, 3, 1);
        await expectNothingOf(store, S2);
        expect(await store.markInfoDirty(S2)).toBe(false);
        expect(await store.deleteStatus(S2)).toBe(false);
        expect(await store.dropEvents(S2)).toEqual({ events: 0, waveforms: 0 });
        await fill(store, S2, 5, 2);
        await check(store, S1, 3, 1);
        await check(store, S2, 5, 2);
        await store.markInfoDirty(S1);
        expect((await store.getInfo(S2))?.dirty).toBe(false);
        await store.deleteStatus(S1);
        expect(await store.getStatus(S2)).not.toBeUndefined();
        await store.putEventSync(S1, sampleSync(9));
        expect(await store.getEventSync(S2)).toEqual(sampleSync(5, { probedAt: T0 + 2 }));
      });

      it('a unit reached at two addresses is one unit; another unit at an address moves no data', async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await fill(store, S1, 3, 1);
        await store.putIdentity(B, { serial: S1, confirmedAt: T0 + 5 });
        const viaA = (await store.getIdentity(A))?.serial;
        const viaB = (await store.getIdentity(B))?.serial;
        expect(viaB).toBe(S1);
        expect(viaB).toBe(viaA);
        await check(store, S1, 3, 1);
        // another unit answers at A now: S1's data stays, S2 has none
        await store.putIdentity(A, { serial: S2, confirmedAt: T0 + 9 });
        await check(store, S1, 3, 1);
        await expectNothingOf(store, S2);
        // clearing through B clears the unit first reached at A
        expect(await store.clearConnection(B)).toEqual({ device_info: 1, events: 3, waveform: 1, monitor_status: 1 });
        await expectNothingOf(store, S1);
        expect(await store.getIdentity(A)).toEqual({ serial: S2, confirmedAt: T0 + 9 });
      });

      it('serials are compared exactly (no prefix or case folding), also inside waveform keys', async () => {
        const serial = 'BE1';
        const lookalikes = ['BE12', 'be1', 'BE1 ', '', 'BE1#5', 'BE'];
        await fill(store, serial, 1, 1);
        for (const other of lookalikes) await expectNothingOf(store, other);
        // (BE1, key 12) and (BE11, key 2) concatenate alike
        await store.putWaveform(serial, sampleWaveform(12, null, 8, { seed: 1 }));
        await store.putWaveform('BE11', sampleWaveform(2, null, 8, { seed: 2 }));
        expect(await store.getWaveform('BE11', 12, null)).toBeUndefined();
        expect(await store.getWaveform(serial, 2, null)).toBeUndefined();
        // a unit's drop leaves the lookalikes' waveforms
        for (const other of lookalikes) await store.putWaveform(other, sampleWaveform(3, null, 8, { seed: 3 }));
        expect(await store.dropEvents(serial)).toEqual({ events: 1, waveforms: 2 });
        for (const other of lookalikes) expectSameWaveform(await store.getWaveform(other, 3, null), sampleWaveform(3, null, 8, { seed: 3 }));
        expectSameWaveform(await store.getWaveform('BE11', 2, null), sampleWaveform(2, null, 8, { seed: 2 }));
      });
    });

    describe('clearConnection', () => {
      it("forgets the address's identity and every entry of its unit, returns the counts, spares the rest", async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await store.putIdentity(B, { serial: S1, confirmedAt: T0 + 1 }); // the same unit at another address
        await store.putIdentity(C, { serial: S2, confirmedAt: T0 + 2 });
        await store.putInfo(S1, sampleInfo(S1), T0);
        await store.appendEvents(S1, storedEvents(0, 3), sampleSync(3));
        await store.putWaveform(S1, sampleWaveform(sampleKey(0), null, 8));
        await store.putWaveform(S1, sampleWaveform(sampleKey(1), null, 8));
        await store.putStatus(S1, sampleStatus(), T0);
        await fill(store, S2, 6, 2);
        await fill(store, S1_LONGER, 2, 3);

        expect(await store.clearConnection(A)).toEqual({ device_info: 1, events: 3, waveform: 2, monitor_status: 1 });
        expect(await store.getIdentity(A)).toBeUndefined();
        await expectNothingOf(store, S1);
        expect(await store.getWaveform(S1, sampleKey(1), null)).toBeUndefined();
        // other addresses keep their identity, even the one that names the cleared unit
        expect(await store.getIdentity(B)).toEqual({ serial: S1, confirmedAt: T0 + 1 });
        expect(await store.getIdentity(C)).toEqual({ serial: S2, confirmedAt: T0 + 2 });
        await check(store, S2, 6, 2);
        await check(store, S1_LONGER, 2, 3);
        const s = await store.stats();
        expect([s.device_info.entries, s.events.entries, s.waveform.entries, s.monitor_status.entries]).toEqual([2, 8, 2, 2]);

        // nothing is identified at A any more
        expect(await store.clearConnection(A)).toEqual(NO_COUNTS);
        // B names a unit with nothing cached: zeros, and B's identity goes
        expect(await store.clearConnection(B)).toEqual(NO_COUNTS);
        expect(await store.getIdentity(B)).toBeUndefined();
        await check(store, S2, 6, 2);
      });

      it('counts a sync-only list as no events and still drops its sync state', async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await store.putEventSync(S1, sampleSync(0));
        expect(await store.clearConnection(A)).toEqual(NO_COUNTS);
        expect(await store.getEventSync(S1)).toBeUndefined();
      });

      it('of an unknown address returns zeros for every kind and changes nothing', async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await fill(store, S1, 2, 1);
        const counts = await store.clearConnection('tcp:192.0.2.1:1');
        expect(Object.keys(counts).sort()).toEqual([...CACHE_KINDS].sort());
        expect(counts).toEqual(NO_COUNTS);
        expect(await store.getIdentity(A)).toEqual({ serial: S1, confirmedAt: T0 });
        await check(store, S1, 2, 1);
      });
    });

    describe('leases', () => {
      const KEY = unitScope(S1);
      const TTL = 30_000;

      it('a free lease is taken; another owner is told who holds it', async () => {
        const first = sampleHolder('relay-1:4242:aa#1', T0 + TTL);
        expect(await store.leases.tryAcquire(KEY, first, { now: T0 })).toEqual({ acquired: true });
        const second = sampleHolder('cli-host:777:bb#1', T0 + 1 + TTL, { host: 'cli-host', pid: 777 });
        expect(await store.leases.tryAcquire(KEY, second, { now: T0 + 1 })).toEqual({ acquired: false, heldBy: first });
        // keys are independent
        expect(await store.leases.tryAcquire(addressScope(A), second, { now: T0 + 1 })).toEqual({ acquired: true });
        expect(await store.leases.tryAcquire(unitScope(S1_LONGER), second, { now: T0 + 1 })).toEqual({ acquired: true });
      });

      it('wanted: once someone fails to take it, until it changes hands or is released; only its owner is told', async () => {
        const owner = 'relay-1:4242:aa#1';
        const other = sampleHolder('cli-host:777:bb#1', T0 + TTL, { host: 'cli-host', pid: 777 });
        await store.leases.tryAcquire(KEY, sampleHolder(owner, T0 + TTL), { now: T0 });
        expect(await store.leases.wanted(KEY, owner)).toBe(false);
        expect((await store.leases.tryAcquire(KEY, other, { now: T0 + 1 })).acquired).toBe(false);
        expect(await store.leases.wanted(KEY, owner)).toBe(true);
        expect(await store.leases.wanted(KEY, other.owner)).toBe(false);
        expect(await store.leases.wanted(addressScope(A), owner)).toBe(false);
        await store.leases.release(KEY, owner);
        expect(await store.leases.wanted(KEY, owner)).toBe(false);
        expect(await store.leases.tryAcquire(KEY, other, { now: T0 + 2 })).toEqual({ acquired: true });
        expect(await store.leases.wanted(KEY, other.owner)).toBe(false);
        // taken over at expiry: the new holder starts unwanted
        expect((await store.leases.tryAcquire(KEY, sampleHolder(owner, T0 + 3 + TTL), { now: T0 + 3 })).acquired).toBe(false);
        expect(await store.leases.tryAcquire(KEY, sampleHolder(owner, T0 + 2 * TTL + 4), { now: T0 + TTL + 4 })).toEqual({ acquired: true });
        expect(await store.leases.wanted(KEY, owner)).toBe(false);
      });

      it('the same owner takes it again, and its expiry moves', async () => {
        const owner = 'relay-1:4242:aa#1';
        await store.leases.tryAcquire(KEY, sampleHolder(owner, T0 + TTL), { now: T0 });
        const again = sampleHolder(owner, T0 + 10_000 + TTL);
        expect(await store.leases.tryAcquire(KEY, again, { now: T0 + 10_000 })).toEqual({ acquired: true });
        // at the old expiry it is still held, with the new one
        const other = sampleHolder('relay-2:1:cc#1', T0 + 2 * TTL);
        expect(await store.leases.tryAcquire(KEY, other, { now: T0 + TTL })).toEqual({ acquired: false, heldBy: again });
      });

      it('expires at expiresAt: another owner takes it then, not a millisecond before', async () => {
        const first = sampleHolder('relay-1:4242:aa#1', T0 + TTL);
        await store.leases.tryAcquire(KEY, first, { now: T0 });
        const second = sampleHolder('relay-2:1:cc#1', T0 + 2 * TTL);
        expect(await store.leases.tryAcquire(KEY, second, { now: T0 + TTL - 1 })).toEqual({ acquired: false, heldBy: first });
        expect(await store.leases.tryAcquire(KEY, second, { now: T0 + TTL })).toEqual({ acquired: true });
        expect(await store.leases.tryAcquire(KEY, first, { now: T0 + TTL + 1 })).toEqual({ acquired: false, heldBy: second });
      });

      it('takeOverFrom the current owner takes it before expiry; naming anyone else does not', async () => {
        const dead = sampleHolder('relay-1:4242:aa#1', T0 + TTL);
        await store.leases.tryAcquire(KEY, dead, { now: T0 });
        const heir = sampleHolder('relay-1:5151:dd#1', T0 + 1 + TTL, { pid: 5151 });
        expect(await store.leases.tryAcquire(KEY, heir, { now: T0 + 1, takeOverFrom: 'relay-1:9999:ee#1' })).toEqual({ acquired: false, heldBy: dead });
        expect(await store.leases.tryAcquire(KEY, heir, { now: T0 + 1, takeOverFrom: dead.owner })).toEqual({ acquired: true });
        // the old holder is no longer the owner: naming it takes nothing from the heir
        const late = sampleHolder('relay-3:1:ff#1', T0 + 2 + TTL);
        expect(await store.leases.tryAcquire(KEY, late, { now: T0 + 2, takeOverFrom: dead.owner })).toEqual({ acquired: false, heldBy: heir });
      });

      it('renew extends a lease only for its holder', async () => {
        const owner = 'relay-1:4242:aa#1';
        expect(await store.leases.renew(KEY, owner, T0 + TTL)).toBe(false); // never taken
        await store.leases.tryAcquire(KEY, sampleHolder(owner, T0 + TTL), { now: T0 });
        expect(await store.leases.renew(KEY, owner, T0 + 3 * TTL)).toBe(true);
        const other = sampleHolder('relay-2:1:cc#1', T0 + 4 * TTL);
        // the old expiry no longer frees it; the renewed one does
        expect(await store.leases.tryAcquire(KEY, other, { now: T0 + TTL })).toEqual({ acquired: false, heldBy: sampleHolder(owner, T0 + 3 * TTL) });
        // a non-holder's renew is refused and moves nothing
        expect(await store.leases.renew(KEY, other.owner, T0 + 10 * TTL)).toBe(false);
        expect(await store.leases.tryAcquire(KEY, other, { now: T0 + 3 * TTL })).toEqual({ acquired: true });
        // the lease was taken: the old holder's renew is refused and does not take it back
        expect(await store.leases.renew(KEY, owner, T0 + 10 * TTL)).toBe(false);
        expect(await store.leases.tryAcquire(KEY, sampleHolder(owner, T0 + 5 * TTL), { now: T0 + 3 * TTL + 1 })).toEqual({ acquired: false, heldBy: other });
      });

      it('renew needs no clock: ownership alone decides, even long past the expiry', async () => {
        // Times in 1970: a store judging expiry by its own clock would refuse this renewal.
        const owner = 'relay-1:4242:aa#1';
        await store.leases.tryAcquire(KEY, sampleHolder(owner, 1_000), { now: 0 });
        expect(await store.leases.renew(KEY, owner, 3_000)).toBe(true);
        const other = sampleHolder('relay-2:1:cc#1', 5_000);
        expect(await store.leases.tryAcquire(KEY, other, { now: 2_000 })).toEqual({ acquired: false, heldBy: sampleHolder(owner, 3_000) });
        expect(await store.leases.tryAcquire(KEY, other, { now: 3_000 })).toEqual({ acquired: true });
      });

      it('release frees it for its holder only', async () => {
        const owner = 'relay-1:4242:aa#1';
        const other = sampleHolder('relay-2:1:cc#1', T0 + 1 + TTL);
        await store.leases.release(KEY, owner); // releasing a free lease is harmless
        await store.leases.tryAcquire(KEY, sampleHolder(owner, T0 + TTL), { now: T0 });
        await store.leases.release(KEY, other.owner); // not the holder: nothing happens
        expect(await store.leases.tryAcquire(KEY, other, { now: T0 + 1 })).toEqual({ acquired: false, heldBy: sampleHolder(owner, T0 + TTL) });
        await store.leases.release(KEY, owner);
        expect(await store.leases.renew(KEY, owner, T0 + 2 * TTL)).toBe(false);
        expect(await store.leases.tryAcquire(KEY, other, { now: T0 + 1 })).toEqual({ acquired: true });
      });

      it('are not cache data: they change no stats and survive clearConnection', async () => {
        const holder = sampleHolder('relay-1:4242:aa#1', T0 + TTL);
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await store.leases.tryAcquire(KEY, holder, { now: T0 });
        await store.leases.tryAcquire(addressScope(A), holder, { now: T0 });
        for (const k of CACHE_KINDS) expect((await store.stats())[k]).toEqual({ entries: 0, bytes: 0 });
        await store.clearConnection(A);
        const other = sampleHolder('relay-2:1:cc#1', T0 + 1 + TTL);
        expect(await store.leases.tryAcquire(KEY, other, { now: T0 + 1 })).toEqual({ acquired: false, heldBy: holder });
        expect(await store.leases.tryAcquire(addressScope(A), other, { now: T0 + 1 })).toEqual({ acquired: false, heldBy: holder });
      });
    });

    describe('stats', () => {
      it('is zero for every kind when empty', async () => {
        const s = await store.stats();
        expect(Object.keys(s).sort()).toEqual([...CACHE_KINDS].sort());
        for (const k of CACHE_KINDS) expect(s[k]).toEqual({ entries: 0, bytes: 0 });
      });

      it('counts entries and bytes per kind, and drops back when cleared', async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await store.putInfo(S1, sampleInfo(S1), T0);
        await store.appendEvents(S1, storedEvents(0, 10));
        await store.putWaveform(S1, sampleWaveform(sampleKey(0), null, 1024));
        await store.putWaveform(S1, sampleWaveform(sampleKey(1), null, 1024));
        await store.putStatus(S1, sampleStatus(), T0);
        const s = await store.stats();
        expect(s.device_info.entries).toBe(1);
        expect(s.events.entries).toBe(10);
        expect(s.waveform.entries).toBe(2);
        expect(s.monitor_status.entries).toBe(1);
        for (const k of CACHE_KINDS) expect(s[k].bytes).toBeGreaterThan(0);
        // honest sizes: at least the payload (events as JSON, waveforms as int16 samples)
        expect(s.events.bytes).toBeGreaterThan(10 * 400);
        expect(s.waveform.bytes).toBeGreaterThan(2 * 4 * 1024 * 2 - 1);

        await store.appendEvents(S1, storedEvents(10, 10));
        const more = await store.stats();
        expect(more.events.entries).toBe(20);
        expect(more.events.bytes).toBeGreaterThan(s.events.bytes);

        await store.deleteStatus(S1);
        expect((await store.stats()).monitor_status).toEqual({ entries: 0, bytes: 0 });
        await store.dropEvents(S1);
        const dropped = await store.stats();
        expect(dropped.events).toEqual({ entries: 0, bytes: 0 });
        expect(dropped.waveform).toEqual({ entries: 0, bytes: 0 });
        expect(dropped.device_info.entries).toBe(1);
        await store.clearConnection(A);
        for (const k of CACHE_KINDS) expect((await store.stats())[k]).toEqual({ entries: 0, bytes: 0 });
      });
    });

    describe('no aliasing', () => {
      it('mutating returned values does not change the store', async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await store.putInfo(S1, sampleInfo(S1), T0);
        await store.appendEvents(S1, storedEvents(0, 3), sampleSync(3));
        await store.putWaveform(S1, sampleWaveform(sampleKey(0), null, 16));
        await store.putStatus(S1, sampleStatus(), T0);
        const holder = sampleHolder('relay-1:4242:aa#1', T0 + 30_000);
        await store.leases.tryAcquire(unitScope(S1), holder, { now: T0 });

        const id = (await store.getIdentity(A))!;
        id.serial = S2;
        id.confirmedAt = 1;
        const info = (await store.getInfo(S1))!;
        info.info.compliance.project = 'changed';
        info.dirty = true;
        info.fetchedAt = 1;
        const events = await store.getEvents(S1);
        events[0]!.event.peaks.tran_ips = 99;
        events[1]!.key = 1;
        events.pop();
        const one = (await store.getEvent(S1, 2))!;
        one.event.project.notes = 'changed';
        const sync = (await store.getEventSync(S1))!;
        sync.last = 99;
        sync.complete = false;
        const w = (await store.getWaveform(S1, sampleKey(0), null))!;
        w.channels.Tran[0] = 12345;
        w.channels.MicL.fill(7);
        w.sampleRate = 1;
        const status = (await store.getStatus(S1))!;
        status.status.battery_v = 0;
        status.fetchedAt = 1;
        (await store.getEventsJson(S1))!.fill(0x20);
        const refused = await store.leases.tryAcquire(unitScope(S1), sampleHolder('relay-2:1:cc#1', T0 + 60_000), { now: T0 + 1 });
        if (!refused.acquired) refused.heldBy.expiresAt = T0;

        expect(await store.getIdentity(A)).toEqual({ serial: S1, confirmedAt: T0 });
        expect(await store.getInfo(S1)).toEqual({ info: sampleInfo(S1), fetchedAt: T0, dirty: false });
        expect(await store.getEvents(S1)).toEqual(storedEvents(0, 3));
        expect(await store.getEvent(S1, 2)).toEqual(storedEvent(2));
        expect(decodeJson(await store.getEventsJson(S1))).toEqual(storedEvents(0, 3).map((e) => e.event));
        expect(await store.getEventSync(S1)).toEqual(sampleSync(3));
        expectSameWaveform(await store.getWaveform(S1, sampleKey(0), null), sampleWaveform(sampleKey(0), null, 16));
        expect(await store.getStatus(S1)).toEqual({ status: sampleStatus(), fetchedAt: T0 });
        expect(await store.leases.tryAcquire(unitScope(S1), sampleHolder('relay-2:1:cc#1', T0 + 60_000), { now: T0 + 2 })).toEqual({ acquired: false, heldBy: holder });
      });

      it('mutating values after putting them does not change the store', async () => {
        const id = { serial: S1, confirmedAt: T0 };
        await store.putIdentity(A, id);
        id.serial = S2;
        const info = sampleInfo(S1);
        await store.putInfo(S1, info, T0);
        info.compliance.client = 'changed';
        const events = storedEvents(0, 2);
        const sync = sampleSync(2);
        await store.appendEvents(S1, events, sync);
        events[0]!.event.project.project = 'changed';
        events[1]!.fetchedAt = 0;
        sync.last = 99;
        const sync2 = sampleSync(2, { probedAt: T0 + 5 });
        await store.putEventSync(S2, sync2);
        sync2.counter = null;
        const w = sampleWaveform(sampleKey(0), null, 16);
        await store.putWaveform(S1, w);
        w.channels.Vert[3] = -1;
        w.index = 42;
        const status = sampleStatus();
        await store.putStatus(S1, status, T0);
        status.memory_free = 0;
        const holder = sampleHolder('relay-1:4242:aa#1', T0 + 30_000);
        await store.leases.tryAcquire(unitScope(S1), holder, { now: T0 });
        holder.expiresAt = T0;
        holder.owner = 'changed';

        expect(await store.getIdentity(A)).toEqual({ serial: S1, confirmedAt: T0 });
        expect((await store.getInfo(S1))?.info).toEqual(sampleInfo(S1));
        expect(await store.getEvents(S1)).toEqual(storedEvents(0, 2));
        expect(await store.getEventSync(S1)).toEqual(sampleSync(2));
        expect(await store.getEventSync(S2)).toEqual(sampleSync(2, { probedAt: T0 + 5 }));
        expectSameWaveform(await store.getWaveform(S1, sampleKey(0), null), sampleWaveform(sampleKey(0), null, 16));
        expect((await store.getStatus(S1))?.status).toEqual(sampleStatus());
        expect(await store.leases.tryAcquire(unitScope(S1), sampleHolder('relay-2:1:cc#1', T0 + 60_000), { now: T0 + 1 })).toEqual({
          acquired: false,
          heldBy: sampleHolder('relay-1:4242:aa#1', T0 + 30_000),
        });
      });
    });

    describe('pollChanges and onChange', () => {
      it('take a listener and poll without throwing, before and after writes', async () => {
        const calls: (readonly string[] | 'all')[] = [];
        store.onChange((scopes) => calls.push(scopes));
        expect(store.pollChanges()).toBeUndefined();
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await fill(store, S1, 2, 1);
        expect(store.pollChanges()).toBeUndefined();
        expect(store.pollChanges()).toBeUndefined();
        // whether a store reports its own writes to itself is left open
      });
    });

    if (makeSharedPair) {
      describe('change feed between two stores on one backing', () => {
        let a: Store;
        let b: Store;
        const heard: { a: (readonly string[] | 'all')[]; b: (readonly string[] | 'all')[] } = { a: [], b: [] };

        /** Polls `side` and answers every scope its listener heard ('all' kept as the word). */
        const poll = (side: 'a' | 'b'): { calls: number; scopes: string[] } => {
          heard[side] = [];
          (side === 'a' ? a : b).pollChanges();
          const calls = heard[side];
          return { calls: calls.length, scopes: calls.flatMap((c) => (c === 'all' ? ['all'] : [...c])) };
        };

        beforeEach(async () => {
          [a, b] = await makeSharedPair();
          a.onChange((scopes) => heard.a.push(scopes));
          b.onChange((scopes) => heard.b.push(scopes));
          poll('a');
          poll('b');
        });
        afterEach(async () => {
          await a.close();
          await b.close();
        });

        it('both stores say they are shared', () => {
          expect(a.capabilities.shared).toBe(true);
          expect(b.capabilities.shared).toBe(true);
        });

        interface UnitWrite {
          what: string;
          setup?: (s: Store) => Promise<unknown>;
          write: (s: Store) => Promise<unknown>;
          readBack: (s: Store) => Promise<void>;
        }
        const unitWrites: UnitWrite[] = [
          {
            what: 'putInfo',
            write: (s) => s.putInfo(S1, sampleInfo(S1), T0),
            readBack: async (s) => expect(await s.getInfo(S1)).toEqual({ info: sampleInfo(S1), fetchedAt: T0, dirty: false }),
          },
          {
            what: 'markInfoDirty',
            setup: (s) => s.putInfo(S1, sampleInfo(S1), T0),
            write: (s) => s.markInfoDirty(S1),
            readBack: async (s) => expect((await s.getInfo(S1))?.dirty).toBe(true),
          },
          {
            what: 'putEventSync',
            write: (s) => s.putEventSync(S1, sampleSync(0, { counter: 3 })),
            readBack: async (s) => expect(await s.getEventSync(S1)).toEqual(sampleSync(0, { counter: 3 })),
          },
          {
            what: 'appendEvents',
            write: (s) => s.appendEvents(S1, storedEvents(0, 3), sampleSync(3)),
            readBack: async (s) => {
              expect(await s.getEvents(S1)).toEqual(storedEvents(0, 3));
              expect(decodeJson(await s.getEventsJson(S1))).toEqual(storedEvents(0, 3).map((e) => e.event));
              expect(await s.getEventSync(S1)).toEqual(sampleSync(3));
            },
          },
          {
            what: 'fillEventText',
            setup: (s) => s.appendEvents(S1, [storedPendingEvent(0)]),
            write: (s) => s.fillEventText(S1, 0, sampleKey(0), sampleEvent(0).project),
            readBack: async (s) => expect(await s.pendingTexts(S1)).toEqual([]),
          },
          {
            what: 'dropEvents',
            setup: async (s) => {
              await s.appendEvents(S1, storedEvents(0, 3), sampleSync(3));
              await s.putWaveform(S1, sampleWaveform(sampleKey(0), null, 16));
            },
            write: (s) => s.dropEvents(S1),
            readBack: async (s) => {
              expect(await s.eventCount(S1)).toBe(0);
              expect(await s.getEventSync(S1)).toBeUndefined();
              expect(await s.getWaveform(S1, sampleKey(0), null)).toBeUndefined();
            },
          },
          {
            what: 'putWaveform',
            write: (s) => s.putWaveform(S1, sampleWaveform(sampleKey(2), '2026-04-09T07:00:02', 256, { seed: 4 })),
            readBack: async (s) => expectSameWaveform(await s.getWaveform(S1, sampleKey(2), '2026-04-09T07:00:02'), sampleWaveform(sampleKey(2), '2026-04-09T07:00:02', 256, { seed: 4 })),
          },
          {
            what: 'putStatus',
            write: (s) => s.putStatus(S1, sampleStatus(), T0),
            readBack: async (s) => expect(await s.getStatus(S1)).toEqual({ status: sampleStatus(), fetchedAt: T0 }),
          },
          {
            what: 'deleteStatus',
            setup: (s) => s.putStatus(S1, sampleStatus(), T0),
            write: (s) => s.deleteStatus(S1),
            readBack: async (s) => expect(await s.getStatus(S1)).toBeUndefined(),
          },
        ];

        for (const { what, setup, write, readBack } of unitWrites) {
          it(`${what} through one store reaches the other as unit:<serial>, once`, async () => {
            await setup?.(a);
            poll('b');
            await write(a);
            expect(poll('b').scopes).toContain(unitScope(S1));
            expect(poll('b').calls).toBe(0);
            await readBack(b);
          });
        }

        it('putIdentity reaches the other store as addr:<connKey>, once', async () => {
          await a.putIdentity(A, { serial: S1, confirmedAt: T0 });
          expect(poll('b').scopes).toContain(addressScope(A));
          expect(poll('b').calls).toBe(0);
          expect(await b.getIdentity(A)).toEqual({ serial: S1, confirmedAt: T0 });
        });

        it('clearConnection reaches the other store as both the address and the unit', async () => {
          await a.putIdentity(A, { serial: S1, confirmedAt: T0 });
          await fill(a, S1, 2, 1);
          poll('b');
          await check(b, S1, 2, 1);
          expect(await a.clearConnection(A)).toEqual({ device_info: 1, events: 2, waveform: 1, monitor_status: 1 });
          const { scopes } = poll('b');
          expect(scopes).toContain(addressScope(A));
          expect(scopes).toContain(unitScope(S1));
          expect(poll('b').calls).toBe(0);
          expect(await b.getIdentity(A)).toBeUndefined();
          await expectNothingOf(b, S1);
        });

        it('works both ways, and every write since the last poll is reported', async () => {
          await b.putInfo(S2, sampleInfo(S2), T0);
          await b.putIdentity(C, { serial: S2, confirmedAt: T0 });
          await b.putStatus(S1, sampleStatus(), T0);
          const { scopes } = poll('a');
          expect(scopes).toContain(unitScope(S2));
          expect(scopes).toContain(addressScope(C));
          expect(scopes).toContain(unitScope(S1));
          expect(poll('a').calls).toBe(0);
          expect(await a.getInfo(S2)).toEqual({ info: sampleInfo(S2), fetchedAt: T0, dirty: false });
        });

        it('reads are not changes', async () => {
          await a.putIdentity(A, { serial: S1, confirmedAt: T0 });
          await fill(a, S1, 2, 1);
          poll('b');
          await check(a, S1, 2, 1);
          await a.getIdentity(A);
          await a.getEventsJson(S1);
          await a.getEvent(S1, 1);
          await a.stats();
          expect(poll('b').calls).toBe(0);
        });

        it('a lease taken through one store is held through the other', async () => {
          const key = unitScope(S1);
          const mine = sampleHolder('relay-1:4242:aa#1', T0 + 30_000);
          const theirs = sampleHolder('cli-host:777:bb#1', T0 + 30_001, { host: 'cli-host', pid: 777 });
          expect(await a.leases.tryAcquire(key, mine, { now: T0 })).toEqual({ acquired: true });
          expect(await b.leases.tryAcquire(key, theirs, { now: T0 + 1 })).toEqual({ acquired: false, heldBy: mine });
          expect(await a.leases.wanted(key, mine.owner)).toBe(true); // the other process waits
          expect(await b.leases.renew(key, theirs.owner, T0 + 60_000)).toBe(false);
          expect(await b.leases.renew(key, mine.owner, T0 + 60_000)).toBe(true);
          expect(await a.leases.tryAcquire(key, theirs, { now: T0 + 30_000 })).toEqual({ acquired: false, heldBy: { ...mine, expiresAt: T0 + 60_000 } });
          await a.leases.release(key, mine.owner);
          expect(await b.leases.tryAcquire(key, theirs, { now: T0 + 2 })).toEqual({ acquired: true });
          expect(await a.leases.tryAcquire(key, mine, { now: T0 + 3 })).toEqual({ acquired: false, heldBy: theirs });
        });
      });
    }

    describe('close', () => {
      it('then every call rejects with StoreError; closing again is harmless', async () => {
        await store.putInfo(S1, sampleInfo(S1), T0);
        await store.close();
        const w = sampleWaveform(1, null, 4);
        const holder = sampleHolder('relay-1:4242:aa#1', T0 + 30_000);
        const calls: Array<() => Promise<unknown>> = [
          () => store.getIdentity(A),
          () => store.putIdentity(A, { serial: S1, confirmedAt: T0 }),
          () => store.getInfo(S1),
          () => store.putInfo(S1, sampleInfo(S1), T0),
          () => store.markInfoDirty(S1),
          () => store.getEventSync(S1),
          () => store.putEventSync(S1, sampleSync(0)),
          () => store.getEvents(S1),
          () => store.getEvent(S1, 0),
          () => store.getEventsJson(S1),
          () => store.eventCount(S1),
          () => store.appendEvents(S1, [storedEvent(0)]),
          () => store.appendEvents(S1, []),
          () => store.dropEvents(S1),
          () => store.getWaveform(S1, 1, null),
          () => store.putWaveform(S1, w),
          () => store.getStatus(S1),
          () => store.putStatus(S1, sampleStatus(), T0),
          () => store.deleteStatus(S1),
          () => store.clearConnection(A),
          () => store.stats(),
          () => store.leases.tryAcquire(unitScope(S1), holder, { now: T0 }),
          () => store.leases.renew(unitScope(S1), holder.owner, T0 + 60_000),
          () => store.leases.release(unitScope(S1), holder.owner),
          () => store.leases.wanted(unitScope(S1), holder.owner),
          () => store.getWaveformDocument(S1, 1, null),
          () => store.pendingTexts(S1),
          () => store.fillEventText(S1, 0, 1, sampleEvent(0).project),
        ];
        for (const call of calls) await expectStoreError(call);
        await store.close();
      });
    });

    if (modelRuns > 0) {
      describe('model-based', () => {
        it(
          'random operation sequences give the same observable results as the reference model',
          () => checkAgainstModel(async () => makeStore(), { runs: modelRuns }),
          60_000,
        );
      });
    }
  });
}

// --- the model-based test ----------------------------------------------------------------------

/**
 * Runs random operation sequences on a fresh store from `makeStore` and on a ReferenceStore, and
 * rejects (with the shrunk sequence) at the first observable difference. The suite's model test;
 * exported so test-kit can show it catches a store that breaks a rule.
 */
export async function checkAgainstModel(makeStore: () => Promise<Store>, opts: { runs?: number } = {}): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 50, size: 'max' }), async (ops) => {
      const real = await makeStore();
      const model = new ReferenceStore();
      try {
        for (const [step, op] of ops.entries()) {
          // The batch an append sends depends on the list before the step, so both get the same one.
          const got = await outcome(() => runOp(real, op, model));
          const want = await outcome(() => runOp(model, op, model));
          if (canonical(got) !== canonical(want)) {
            throw new Error(`step ${step} ${JSON.stringify(op)}: store gave ${show(got)}, model ${show(want)}`);
          }
        }
      } finally {
        await real.close();
      }
    }),
    // The divergence goes in the message itself, so every runner shows it.
    { numRuns: opts.runs ?? 100, includeErrorInReport: true },
  );
}

// Mostly one unit, so histories grow long enough to matter; the others check isolation.
const serialArb = fc.oneof({ arbitrary: fc.constant(S1), weight: 4 }, fc.constant(S2), fc.constant(S1_LONGER));
const connKeyArb = fc.constantFrom(A, B);
const wkeyArb = fc.constantFrom(sampleKey(0), sampleKey(1), sampleKey(2));
const tsArb = fc.constantFrom<string | null>(null, '2026-04-09T07:00:00', '2026-04-09T07:00:01');
const atArb = fc.integer({ min: T0, max: T0 + 1_000_000 });

// Leases: few keys and owners, and times on a coarse grid so expiries land on both sides of `now`.
const LEASE_OWNERS: readonly LeaseHolder[] = [
  sampleHolder('relay-1:100:aa#1', 0, { pid: 100 }),
  sampleHolder('relay-1:200:bb#1', 0, { pid: 200 }),
  sampleHolder('cli-host:300:cc#1', 0, { host: 'cli-host', pid: 300 }),
];
const leaseKeyArb = fc.constantFrom(unitScope(S1), addressScope(A));
const ownerArb = fc.nat(LEASE_OWNERS.length - 1);
const leaseTimeArb = fc.integer({ min: 0, max: 6 }).map((n) => T0 + n * 10_000);
const ttlArb = fc.constantFrom(5_000, 10_000, 30_000);

type Op =
  | { op: 'putIdentity'; connKey: string; serial: string; at: number }
  | { op: 'getIdentity'; connKey: string }
  | { op: 'putInfo'; serial: string; variant: number; at: number }
  | { op: 'getInfo'; serial: string }
  | { op: 'markInfoDirty'; serial: string }
  | { op: 'putEventSync'; serial: string; variant: number; at: number }
  | { op: 'appendEvents'; serial: string; n: number; skew: number; sync: boolean; pending: boolean; at: number }
  | { op: 'pendingTexts'; serial: string }
  | { op: 'fillEventText'; serial: string; index: number; keyIndex: number; variant: number }
  | { op: 'getEvents'; serial: string }
  | { op: 'getEvent'; serial: string; index: number }
  | { op: 'getEventsJson'; serial: string }
  | { op: 'eventCount'; serial: string }
  | { op: 'getEventSync'; serial: string }
  | { op: 'dropEvents'; serial: string; keepWaveforms: boolean }
  | { op: 'putWaveform'; serial: string; key: number; ts: string | null; seed: number; samples: number; doc: boolean }
  | { op: 'getWaveformDocument'; serial: string; key: number; ts: string | null }
  | { op: 'getWaveform'; serial: string; key: number; ts: string | null }
  | { op: 'putStatus'; serial: string; variant: number; at: number }
  | { op: 'getStatus'; serial: string }
  | { op: 'deleteStatus'; serial: string }
  | { op: 'clearConnection'; connKey: string }
  | { op: 'stats' }
  | { op: 'tryAcquire'; key: string; owner: number; now: number; ttl: number; takeOverFrom: number | null }
  | { op: 'renew'; key: string; owner: number; expiresAt: number }
  | { op: 'release'; key: string; owner: number }
  | { op: 'wanted'; key: string; owner: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('putIdentity' as const), connKey: connKeyArb, serial: serialArb, at: atArb }),
  fc.record({ op: fc.constant('getIdentity' as const), connKey: connKeyArb }),
  fc.record({ op: fc.constant('putInfo' as const), serial: serialArb, variant: fc.nat(3), at: atArb }),
  fc.record({ op: fc.constant('getInfo' as const), serial: serialArb }),
  fc.record({ op: fc.constant('markInfoDirty' as const), serial: serialArb }),
  fc.record({ op: fc.constant('putEventSync' as const), serial: serialArb, variant: fc.nat(3), at: atArb }),
  {
    arbitrary: fc.record({ op: fc.constant('appendEvents' as const), serial: serialArb, n: fc.nat(4), skew: fc.constantFrom(0, 0, 0, 0, 1, -1), sync: fc.boolean(), pending: fc.boolean(), at: atArb }),
    weight: 4,
  },
  fc.record({ op: fc.constant('pendingTexts' as const), serial: serialArb }),
  {
    arbitrary: fc.record({ op: fc.constant('fillEventText' as const), serial: serialArb, index: fc.integer({ min: -1, max: 6 }), keyIndex: fc.integer({ min: 0, max: 6 }), variant: fc.nat(2) }),
    weight: 2,
  },
  fc.record({ op: fc.constant('getEvents' as const), serial: serialArb }),
  fc.record({ op: fc.constant('getEvent' as const), serial: serialArb, index: fc.integer({ min: -1, max: 6 }) }),
  { arbitrary: fc.record({ op: fc.constant('getEventsJson' as const), serial: serialArb }), weight: 2 },
  fc.record({ op: fc.constant('eventCount' as const), serial: serialArb }),
  fc.record({ op: fc.constant('getEventSync' as const), serial: serialArb }),
  fc.record({ op: fc.constant('dropEvents' as const), serial: serialArb, keepWaveforms: fc.boolean() }),
  {
    arbitrary: fc.record({ op: fc.constant('putWaveform' as const), serial: serialArb, key: wkeyArb, ts: tsArb, seed: fc.nat(5), samples: fc.nat(40), doc: fc.boolean() }),
    weight: 2,
  },
  fc.record({ op: fc.constant('getWaveformDocument' as const), serial: serialArb, key: wkeyArb, ts: tsArb }),
  { arbitrary: fc.record({ op: fc.constant('getWaveform' as const), serial: serialArb, key: wkeyArb, ts: tsArb }), weight: 2 },
  fc.record({ op: fc.constant('putStatus' as const), serial: serialArb, variant: fc.nat(3), at: atArb }),
  fc.record({ op: fc.constant('getStatus' as const), serial: serialArb }),
  fc.record({ op: fc.constant('deleteStatus' as const), serial: serialArb }),
  fc.record({ op: fc.constant('clearConnection' as const), connKey: connKeyArb }),
  fc.record({ op: fc.constant('stats' as const) }),
  {
    arbitrary: fc.record({
      op: fc.constant('tryAcquire' as const),
      key: leaseKeyArb,
      owner: ownerArb,
      now: leaseTimeArb,
      ttl: ttlArb,
      takeOverFrom: fc.option(ownerArb, { nil: null, freq: 3 }),
    }),
    weight: 2,
  },
  fc.record({ op: fc.constant('renew' as const), key: leaseKeyArb, owner: ownerArb, expiresAt: leaseTimeArb }),
  fc.record({ op: fc.constant('release' as const), key: leaseKeyArb, owner: ownerArb }),
  fc.record({ op: fc.constant('wanted' as const), key: leaseKeyArb, owner: ownerArb }),
);

function leaseHolder(owner: number, expiresAt: number): LeaseHolder {
  return { ...LEASE_OWNERS[owner]!, expiresAt };
}

/** Runs one operation; what it answers is normalised to plain data for comparison. */
async function runOp(s: Store, op: Op, model: ReferenceStore): Promise<unknown> {
  switch (op.op) {
    case 'putIdentity':
      return s.putIdentity(op.connKey, { serial: op.serial, confirmedAt: op.at });
    case 'getIdentity':
      return s.getIdentity(op.connKey);
    case 'putInfo':
      return s.putInfo(op.serial, sampleInfo(op.serial, { event_count: op.variant, firmware: op.variant % 2 ? null : 'S338.17' }), op.at);
    case 'getInfo':
      return s.getInfo(op.serial);
    case 'markInfoDirty':
      return s.markInfoDirty(op.serial);
    case 'putEventSync':
      return s.putEventSync(op.serial, sampleSync(op.variant, { counter: op.variant === 3 ? null : op.variant, complete: op.variant % 2 === 0, probedAt: op.at }));
    case 'appendEvents': {
      // The batch starts where the model's list ends, shifted by `skew`: a skew ≠ 0 must fail.
      const from = (await model.eventCount(op.serial)) + op.skew;
      const count = op.skew === 0 ? op.n : Math.max(op.n, 1);
      const events = op.pending ? Array.from({ length: count }, (_, i) => storedPendingEvent(from + i, sampleKey(from + i), op.at)) : storedEvents(from, count, op.at);
      const sync = op.sync ? sampleSync(from + op.n, { probedAt: op.at }) : undefined;
      return s.appendEvents(op.serial, events, sync);
    }
    case 'getEvents':
      return s.getEvents(op.serial);
    case 'pendingTexts':
      return s.pendingTexts(op.serial);
    case 'fillEventText':
      return s.fillEventText(op.serial, op.index, sampleKey(op.keyIndex), { ...sampleEvent(op.variant).project, notes: `fill ${op.variant}` });
    case 'getEvent':
      return s.getEvent(op.serial, op.index);
    case 'getEventsJson': {
      const bytes = await s.getEventsJson(op.serial);
      return bytes && new TextDecoder().decode(bytes);
    }
    case 'eventCount':
      return s.eventCount(op.serial);
    case 'getEventSync':
      return s.getEventSync(op.serial);
    case 'dropEvents':
      return s.dropEvents(op.serial, { keepWaveforms: op.keepWaveforms });
    case 'putWaveform': {
      const w = sampleWaveform(op.key, op.ts, op.samples, { seed: op.seed, index: op.seed });
      return s.putWaveform(op.serial, op.doc ? { ...w, document: { index: op.seed, gzip: Uint8Array.from({ length: op.samples + 1 }, (_, i) => (i * op.seed) % 256) } } : w);
    }
    case 'getWaveform': {
      const w = await s.getWaveform(op.serial, op.key, op.ts);
      return w && { ...w, channels: Object.fromEntries(Object.entries(w.channels).map(([k, v]) => [k, Array.from(v)])), document: w.document && { ...w.document, gzip: Array.from(w.document.gzip) } };
    }
    case 'getWaveformDocument': {
      const d = await s.getWaveformDocument(op.serial, op.key, op.ts);
      return d && { ...d, gzip: Array.from(d.gzip) };
    }
    case 'putStatus':
      return s.putStatus(op.serial, sampleStatus({ battery_v: 6 + op.variant / 10, is_monitoring: op.variant % 2 === 0 }), op.at);
    case 'getStatus':
      return s.getStatus(op.serial);
    case 'deleteStatus':
      return s.deleteStatus(op.serial);
    case 'clearConnection':
      return s.clearConnection(op.connKey);
    case 'stats': {
      // Entries must match exactly; bytes only in whether the kind holds anything.
      const st = await s.stats();
      return Object.fromEntries(CACHE_KINDS.map((k: CacheKind) => [k, { entries: st[k].entries, holds: st[k].bytes > 0 }]));
    }
    case 'tryAcquire': {
      const takeOverFrom = op.takeOverFrom === null ? undefined : LEASE_OWNERS[op.takeOverFrom]!.owner;
      return s.leases.tryAcquire(op.key, leaseHolder(op.owner, op.now + op.ttl), takeOverFrom === undefined ? { now: op.now } : { now: op.now, takeOverFrom });
    }
    case 'renew':
      return s.leases.renew(op.key, LEASE_OWNERS[op.owner]!.owner, op.expiresAt);
    case 'release':
      return s.leases.release(op.key, LEASE_OWNERS[op.owner]!.owner);
    case 'wanted':
      return s.leases.wanted(op.key, LEASE_OWNERS[op.owner]!.owner);
  }
}

type Outcome = { ok: unknown } | { error: string };

async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: isStoreError(e) ? 'StoreError' : e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
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

function bytesOf(a: Int16Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
