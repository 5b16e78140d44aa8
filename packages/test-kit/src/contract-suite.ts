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
 *   `clearConnection(connKey)` forgets that address's identity and the cache's view of the serial
 *   it named (info, live list and sync state, status; counts per kind, waveform always 0); the
 *   archive, the waveforms and the fleet keep everything. Other addresses keep their identities,
 *   even one naming the same serial.
 * - Waveforms are kept by (serial, key, timestamp): a put with the same key and a new timestamp
 *   keeps both; a put of a kept identity replaces it (`putWaveform` answers false). A waveform's
 *   bytes are its samples' (2 per sample, every channel) plus its document's gzip bytes: that is
 *   `archive.stats().waveform_bytes` and what the retention budget counts. The cache's `waveform`
 *   kind counts every waveform kept.
 * - `appendEvents(serial, [], sync)` records a sync with no new events; `appendEvents(serial, [])`
 *   is a no-op; `putEventSync` replaces the sync state and never touches events. An unknown
 *   `source` is refused (StoreError, nothing written).
 * - `pendingTexts` lists events whose `project_pending` is true; `fillEventText` rewrites only the
 *   event at that index (the archived event, so every view shows it), only while it holds that
 *   key, and leaves every other row and the sync state as they were (the list JSON stays
 *   byte-for-byte what getEvents gives).
 * - The archive (one row per (serial, timestamp, key); a null timestamp is part of the identity):
 *   - The live list is a view of archived rows: its events show the archived fields (as refreshed
 *     or filled), with the list's own index, key, geoRange and fetchedAt.
 *   - A refresh (the same identity appended again, at any index) takes the new read's Event
 *     fields, except that a read whose project text is still to be read (`project_pending`)
 *     keeps text the archive already has (and the event stays not pending). It keeps id,
 *     received_at, source, false_trigger, notes and analysis_summary.
 *   - Ids are positive integers that increase in the order events are first archived and are
 *     never reused (not even after retention). `received_at` is the first read's fetchedAt as
 *     `Date#toISOString` writes it; `source` defaults to 'call-up'.
 *   - `events()`: newest first by timestamp (text order, no timestamp oldest), then id. Filters:
 *     `from`/`to` compare timestamps as text, inclusive (a date alone works as a prefix; no
 *     timestamp matches neither); `minPvsIps` is peaks.pvs_ips ≥ (null never matches); `project`
 *     is a literal substring of project.project with ASCII letters compared without case (`%`
 *     and `_` are plain characters; null never matches). `limit` is a whole number ≥ 1. A page's
 *     nextCursor is non-null exactly when more matching events followed it when it was read; a
 *     cursor continues after the position (not the row) it names, so a page after a removed row
 *     still continues. Cursors are per listing: one from `sessions()` is refused by `events()`
 *     and the reverse, like garbage (StoreError).
 * - The fleet: a unit is seen by `putIdentity` (at confirmedAt, at that address), `putInfo` and
 *   `putStatus` (at fetchedAt), every appended event, new or refreshed (at its fetchedAt), and a
 *   session (at started_at, and at its end — started_at + Math.round(duration_s × 1000) ms — at its
 *   peer). `putEventSync`, `markInfoDirty` and `putWaveform` are no sighting. first_seen and
 *   last_seen are the earliest and latest sighting; last_address is the address of the latest
 *   sighting that has one; info and last_status are the ones with the latest fetchedAt. On equal
 *   times the later write wins. Nothing but its sightings changes these: `clearConnection`,
 *   `deleteStatus`, `dropEvents` and retention leave them. last_session is the newest session by
 *   started_at (then id); last_event is the first of `events({serial})`. The empty serial is no
 *   serial: nothing under it makes a Unit. `units()` is last_seen descending, then serial
 *   ascending. Every time is `Date#toISOString`'s.
 * - Sessions: ids increase in recording order; `sessions()` is newest first by started_at (as an
 *   instant), then id. A session that does not fit the Session shape, or whose started_at is not
 *   UTC ISO 8601, is refused (StoreError).
 * - `retain`: first every archived event received strictly before `receivedBefore` that no live
 *   list holds goes, with its waveform; then, while waveform_bytes is over `waveformBytes`, the
 *   waveform with the oldest fetchedAt goes among those whose event no live list holds (a
 *   waveform without an archived event included; the order among equal fetchedAt is the
 *   store's). It answers the counts and `bytes`, exactly what event_bytes + waveform_bytes fell
 *   by. A negative or fractional budget, or a receivedBefore that is not a finite time, is refused.
 * - `archive.stats()`: `persistent` is `capabilities.persistent`; event_bytes is > 0 exactly when
 *   the archive holds an event.
 * - Leases: taken when free, expired (`now >= expiresAt`), already the caller's (its holder record
 *   is replaced, so its expiry moves) or held by `takeOverFrom`. `renew` and `release` act only for
 *   the current owner; ownership alone decides `renew` (an expired lease nobody took renews).
 *   `wanted` tells the owner whether a tryAcquire failed since the lease was last taken.
 * - stats: `entries` counts info rows, live events, waveforms and statuses; `bytes` is > 0 exactly
 *   when a kind holds something (an event sync state counts as holding something). Identities,
 *   leases and the archive's own rows are not cache kinds.
 * - Change feed (`capabilities.shared`, checked with two stores on one backing): by the time
 *   `pollChanges()` returns, the listener has been told, as scope lists (not 'all'), of every
 *   write another store made since the last poll (`unit:<serial>` for a unit's data, its archive
 *   included — a review, an analysis, a session, what retention removed of it —, `addr:<connKey>`
 *   for an identity, both for `clearConnection`); reads are not changes; a poll with nothing new
 *   calls nothing. A store that is not shared still answers `pollChanges()` and `onChange()`
 *   without throwing; whether a store reports its own writes to itself is open.
 * - `close()` twice is fine; any other call after it (leases and archive included) rejects with
 *   StoreError.
 */
import fc from 'fast-check';
import { addressScope, CACHE_KINDS, StoreError, unitScope } from '@sfm/core/cache';
import type { ArchiveEventQuery, CacheKind, EventSyncState, LeaseHolder, Store, StoredEvent, StoredWaveform } from '@sfm/core/cache';
import type { ArchivedEvent, Event, EventSource, RecordType, Session, Unit } from '@sfm/core';
import { keyFromHex, keyToHex } from '@sfm/core/protocol';
import { ArchivedEvent as ArchivedEventShape, checkValue, Session as SessionShape, Unit as UnitShape } from '@sfm/core/schema';
import {
  pendingEvent, SAMPLE_FETCHED_AT, sampleAnalysis, sampleEvent, sampleHolder, sampleMonitorLog, sampleInfo, sampleKey, sampleSession, sampleStatus, sampleSync, sampleTimestamp, sampleWaveform, storedEvent,
  storedEvents, storedPendingEvent,
} from './fixtures.js';
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
  /** The cache holds no view of the unit (its info, live list, sync state and status). */
  const expectNoViewOf = async (s: Store, serial: string): Promise<void> => {
    expect(await s.getInfo(serial)).toBeUndefined();
    expect(await s.eventCount(serial)).toBe(0);
    expect(await s.getEvents(serial)).toEqual([]);
    expect(await s.getEventsJson(serial)).toBeUndefined();
    expect(await s.getEventSync(serial)).toBeUndefined();
    expect(await s.getStatus(serial)).toBeUndefined();
  };
  /** Nothing at all of the unit: no view, no waveform, no archived event. */
  const expectNothingOf = async (s: Store, serial: string): Promise<void> => {
    await expectNoViewOf(s, serial);
    expect(await s.getWaveform(serial, sampleKey(0), '2026-04-09T07:00:00')).toBeUndefined();
    expect((await s.archive.events({ serial, limit: 1 })).items).toEqual([]);
  };
  /** What `fill(s, serial, n, tag)` left in the archive and among the waveforms, after the cache forgot the unit. */
  const checkArchived = async (s: Store, serial: string, n: number, tag: number): Promise<void> => {
    const archived = await everyArchived(s, { serial });
    expect(archived.map((e) => e.key)).toEqual(storedEvents(0, n).map((e) => e.event.key).reverse());
    expect(archived.every((e) => e.received_at === new Date(T0 + tag).toISOString())).toBe(true);
    expectSameWaveform(await s.getWaveform(serial, sampleKey(0), '2026-04-09T07:00:00'), sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 16, { seed: tag }));
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
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(3)], sync, 'dial-in' as EventSource)); // no such source
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(2)])); // a repeat
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(4)])); // skips one
        await expectStoreError(() => store.appendEvents(S1, [storedEvent(3), storedEvent(4), storedEvent(4)], sync)); // repeat at the end
        expect(await store.eventCount(S1)).toBe(3);
        expect(await store.getEvents(S1)).toEqual(storedEvents(0, 3));
        expect(await store.getEventSync(S1)).toBeUndefined();
        expect((await store.stats()).events.entries).toBe(3);
        expect((await store.archive.stats()).events).toBe(3);
        expect(await store.appendEvents(S1, [storedEvent(3)])).toEqual({ archivedNew: 1 });
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

      it("dropEvents drops the unit's list and sync, answers how many were live, keeps the archive and waveforms, spares other units", async () => {
        for (const serial of [S1, S2, S1_LONGER]) {
          await store.appendEvents(serial, storedEvents(0, 4), sampleSync(4));
          await store.putWaveform(serial, sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 64));
          await store.putWaveform(serial, sampleWaveform(sampleKey(1), '2026-04-09T07:00:01', 64));
        }
        await store.putInfo(S1, sampleInfo(S1), T0);
        await store.putStatus(S1, sampleStatus(), T0);
        const archived = await everyArchived(store, { serial: S1 });

        expect(await store.dropEvents(S1)).toEqual({ events: 4 });
        expect(await store.eventCount(S1)).toBe(0);
        expect(await store.getEvents(S1)).toEqual([]);
        expect(await store.getEventsJson(S1)).toBeUndefined();
        expect(await store.getEventSync(S1)).toBeUndefined();
        expect(await store.pendingTexts(S1)).toEqual([]);
        // the archive and the waveforms are not the live list
        expect(await everyArchived(store, { serial: S1 })).toEqual(archived);
        expectSameWaveform(await store.getWaveform(S1, sampleKey(1), '2026-04-09T07:00:01'), sampleWaveform(sampleKey(1), '2026-04-09T07:00:01', 64));
        expect((await store.stats()).waveform.entries).toBe(6);
        // info and status are not events
        expect(await store.getInfo(S1)).not.toBeUndefined();
        expect(await store.getStatus(S1)).not.toBeUndefined();
        // other units keep theirs
        for (const serial of [S2, S1_LONGER]) {
          expect(await store.eventCount(serial)).toBe(4);
          expect(await store.getEventSync(serial)).toEqual(sampleSync(4));
        }
        expect(await store.dropEvents(S1)).toEqual({ events: 0 });
        // the list starts again from index 0
        await store.appendEvents(S1, storedEvents(0, 1));
        expect(await store.eventCount(S1)).toBe(1);
      });

      it('dropEvents drops a sync state held without events', async () => {
        await store.putEventSync(S1, sampleSync(0));
        expect(await store.dropEvents(S1)).toEqual({ events: 0 });
        expect(await store.getEventSync(S1)).toBeUndefined();
        expect((await store.stats()).events).toEqual({ entries: 0, bytes: 0 });
      });

      it('dropEvents of an unknown unit answers zero', async () => {
        expect(await store.dropEvents(S1)).toEqual({ events: 0 });
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

      it('a second put of the same identity replaces it and answers that it was not new', async () => {
        const a = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 32, { seed: 1 });
        const b = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 48, { seed: 2, fetchedAt: T0 + 9 });
        expect(await store.putWaveform(S1, a)).toBe(true);
        expect(await store.putWaveform(S1, b)).toBe(false);
        expectSameWaveform(await store.getWaveform(S1, b.key, b.timestamp), b);
        expect((await store.stats()).waveform.entries).toBe(1);
      });

      it('a put with the same key and a new timestamp keeps both (they are two events)', async () => {
        const old = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 32);
        const fresh = sampleWaveform(sampleKey(0), '2026-05-01T10:00:00', 32, { seed: 3 });
        const untimed = sampleWaveform(sampleKey(0), null, 32, { seed: 4 });
        expect(await store.putWaveform(S1, old)).toBe(true);
        expect(await store.putWaveform(S1, fresh)).toBe(true);
        expect(await store.putWaveform(S1, untimed)).toBe(true);
        expect(await store.putWaveform(S2, old)).toBe(true); // another unit's
        expectSameWaveform(await store.getWaveform(S1, old.key, old.timestamp), old);
        expectSameWaveform(await store.getWaveform(S1, fresh.key, fresh.timestamp), fresh);
        expectSameWaveform(await store.getWaveform(S1, untimed.key, null), untimed);
        expect((await store.stats()).waveform.entries).toBe(4);
        expect((await store.archive.stats()).waveforms).toBe(4);
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
        expect(await store.dropEvents(S2)).toEqual({ events: 0 });
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
        expect(await everyArchived(store, { serial: S2 })).toEqual([]);
        // clearing through B clears the cache's view of the unit first reached at A
        expect(await store.clearConnection(B)).toEqual({ device_info: 1, events: 3, waveform: 0, monitor_status: 1 });
        await expectNoViewOf(store, S1);
        await checkArchived(store, S1, 3, 1);
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
        for (const other of lookalikes) {
          expect(await store.putWaveform(other, sampleWaveform(3, null, 8, { seed: 3 }))).toBe(true);
          expect(await store.archive.unit(other)).toBeUndefined(); // a waveform is no sighting
        }
        expect(await store.dropEvents(serial)).toEqual({ events: 1 });
        for (const other of lookalikes) expectSameWaveform(await store.getWaveform(other, 3, null), sampleWaveform(3, null, 8, { seed: 3 }));
        expectSameWaveform(await store.getWaveform('BE11', 2, null), sampleWaveform(2, null, 8, { seed: 2 }));
        expect((await everyArchived(store)).map((e) => e.serial)).toEqual([serial]);
        expect((await store.archive.units()).map((u) => u.serial)).toEqual([serial]);
      });
    });

    describe('clearConnection', () => {
      it("forgets the address's identity and the cache's view of its unit, returns the counts, keeps the archive, spares the rest", async () => {
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

        const archived = await everyArchived(store, { serial: S1 });
        expect(await store.clearConnection(A)).toEqual({ device_info: 1, events: 3, waveform: 0, monitor_status: 1 });
        expect(await store.getIdentity(A)).toBeUndefined();
        await expectNoViewOf(store, S1);
        expect(await everyArchived(store, { serial: S1 })).toEqual(archived);
        expectSameWaveform(await store.getWaveform(S1, sampleKey(1), null), sampleWaveform(sampleKey(1), null, 8));
        // other addresses keep their identity, even the one that names the cleared unit
        expect(await store.getIdentity(B)).toEqual({ serial: S1, confirmedAt: T0 + 1 });
        expect(await store.getIdentity(C)).toEqual({ serial: S2, confirmedAt: T0 + 2 });
        await check(store, S2, 6, 2);
        await check(store, S1_LONGER, 2, 3);
        const s = await store.stats();
        expect([s.device_info.entries, s.events.entries, s.waveform.entries, s.monitor_status.entries]).toEqual([2, 8, 4, 2]);

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
        expect(dropped.waveform).toEqual(s.waveform); // waveforms are kept by identity, not by the list
        expect(dropped.device_info.entries).toBe(1);
        await store.clearConnection(A);
        for (const k of ['device_info', 'events', 'monitor_status'] as const) expect((await store.stats())[k]).toEqual({ entries: 0, bytes: 0 });
        expect((await store.stats()).waveform).toEqual(s.waveform);
      });
    });

    describe('archive: what appendEvents keeps', () => {
      it('archives every event once, as an ArchivedEvent, and answers how many were new', async () => {
        const events = storedEvents(0, 3, T0 + 5);
        expect(await store.appendEvents(S1, events, sampleSync(3))).toEqual({ archivedNew: 3 });
        const got = await everyArchived(store);
        expect(got.map(label)).toEqual(['S1/2', 'S1/1', 'S1/0']);
        const [e2, e1, e0] = got as [ArchivedEvent, ArchivedEvent, ArchivedEvent];
        expect(Number.isSafeInteger(e0.id) && e0.id > 0).toBe(true);
        expect(e1.id).toBeGreaterThan(e0.id);
        expect(e2.id).toBeGreaterThan(e1.id);
        for (const [i, e] of [e0, e1, e2].entries()) {
          checkValue('archived event', ArchivedEventShape, e);
          expect(e).toEqual(archivedFrom(S1, events[i]!, e.id));
          expect(await store.archive.event(e.id)).toEqual(e);
        }
        expect(await store.appendEvents(S1, [])).toEqual({ archivedNew: 0 });
        expect(await store.appendEvents(S1, [], sampleSync(3, { probedAt: T0 + 9 }))).toEqual({ archivedNew: 0 });
        expect(await store.appendEvents(S2, storedEvents(0, 1, T0 + 6), undefined, 'call-home')).toEqual({ archivedNew: 1 });
        expect((await everyArchived(store, { serial: S2 })).map((e) => e.source)).toEqual(['call-home']);
        expect((await store.archive.stats()).events).toBe(4);
      });

      it('keeps every event through dropEvents, a refill from the same events, another unit at the address and clearConnection', async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await fill(store, S1, 3, 1);
        const before = await everyArchived(store);
        expect(before.map((e) => [label(e), e.has_waveform])).toEqual([['S1/2', false], ['S1/1', false], ['S1/0', true]]);
        expect(await store.dropEvents(S1)).toEqual({ events: 3 });
        expect(await everyArchived(store)).toEqual(before);
        // read again from the unit: nothing new to the archive
        expect(await store.appendEvents(S1, storedEvents(0, 3, T0 + 2))).toEqual({ archivedNew: 0 });
        expect(await everyArchived(store)).toEqual(before);
        // another unit answers at the address, and the address is cleared twice
        await store.putIdentity(A, { serial: S2, confirmedAt: T0 + 3 });
        await store.appendEvents(S2, storedEvents(0, 2, T0 + 3));
        expect(await store.clearConnection(A)).toEqual({ device_info: 0, events: 2, waveform: 0, monitor_status: 0 });
        await store.putIdentity(B, { serial: S1, confirmedAt: T0 + 4 });
        expect(await store.clearConnection(B)).toEqual({ device_info: 1, events: 3, waveform: 0, monitor_status: 1 });
        const after = await everyArchived(store);
        expect(after.filter((e) => e.serial === S1)).toEqual(before);
        expect(after.filter((e) => e.serial === S2).map(label)).toEqual(['S2/1', 'S2/0']);
        await checkArchived(store, S1, 3, 1);
        expect((await store.archive.units()).map((u) => u.serial).sort()).toEqual([S1, S2].sort());
      });

      it('a refill that reuses keys is new events (the timestamp tells them apart); the old ones stay', async () => {
        await store.appendEvents(S1, storedEvents(0, 3, T0));
        await store.dropEvents(S1); // the unit was erased
        const refill = [0, 1, 2].map((i) => eventWith(i, { timestamp: `2026-05-01T08:00:0${i}` }, T0 + 1000));
        expect(await store.appendEvents(S1, refill)).toEqual({ archivedNew: 3 });
        expect(await store.getEvents(S1)).toEqual(refill);
        const all = await everyArchived(store, { serial: S1 });
        expect(all.map((e) => [label(e), e.timestamp, e.received_at])).toEqual([
          ['S1/2', '2026-05-01T08:00:02', iso(T0 + 1000)],
          ['S1/1', '2026-05-01T08:00:01', iso(T0 + 1000)],
          ['S1/0', '2026-05-01T08:00:00', iso(T0 + 1000)],
          ['S1/2', sampleTimestamp(2), iso(T0)],
          ['S1/1', sampleTimestamp(1), iso(T0)],
          ['S1/0', sampleTimestamp(0), iso(T0)],
        ]);
      });

      it('the same event appended again is refreshed in place: its new fields, its id, received_at, source and review; the live list shows it', async () => {
        await store.appendEvents(S1, storedEvents(0, 2, T0), undefined, 'call-home');
        const [, e0] = (await everyArchived(store)) as [ArchivedEvent, ArchivedEvent];
        await store.archive.review(e0.id, { falseTrigger: true, notes: 'blast 7' });
        await store.archive.setAnalysis(e0.id, sampleAnalysis());
        await store.dropEvents(S1);
        const again = eventWith(0, { peaks: { ...sampleEvent(0).peaks, pvs_ips: 0.9 }, project: { ...sampleEvent(0).project, notes: 'corrected' } }, T0 + 60_000);
        expect(await store.appendEvents(S1, [again])).toEqual({ archivedNew: 0 });
        const kept = { received_at: iso(T0), source: 'call-home' as const, false_trigger: true, notes: 'blast 7', analysis_summary: sampleAnalysis() };
        expect(await store.archive.event(e0.id)).toEqual(archivedFrom(S1, again, e0.id, kept));
        expect(await store.getEvents(S1)).toEqual([again]);
        // the unit's list shifted (its first events were erased): the same event at another index
        await store.dropEvents(S1);
        const shifted = { ...storedEvent(1, sampleKey(1), T0 + 120_000), event: { ...sampleEvent(1), index: 0 } };
        expect(await store.appendEvents(S1, [shifted])).toEqual({ archivedNew: 0 });
        expect(await store.getEvents(S1)).toEqual([shifted]);
        expect((await store.archive.stats()).events).toBe(2);
        expect(await store.archive.event(e0.id)).toEqual(archivedFrom(S1, again, e0.id, kept));
      });

      it('a null timestamp is part of the identity', async () => {
        expect(await store.appendEvents(S1, [eventWith(0, { timestamp: null }, T0)])).toEqual({ archivedNew: 1 });
        await store.dropEvents(S1);
        expect(await store.appendEvents(S1, [eventWith(0, { timestamp: null, peaks: { ...sampleEvent(0).peaks, pvs_ips: 1.5 } }, T0 + 1)])).toEqual({ archivedNew: 0 });
        await store.dropEvents(S1);
        expect(await store.appendEvents(S1, [eventWith(0, {}, T0 + 2)])).toEqual({ archivedNew: 1 }); // the same key with a timestamp
        expect(await store.appendEvents(S2, [eventWith(0, { timestamp: null }, T0 + 3)])).toEqual({ archivedNew: 1 }); // another unit's
        expect((await everyArchived(store, { serial: S1 })).map((e) => [e.timestamp, e.peaks.pvs_ips, e.received_at])).toEqual([
          [sampleTimestamp(0), sampleEvent(0).peaks.pvs_ips, iso(T0 + 2)],
          [null, 1.5, iso(T0)],
        ]);
      });

      it('a refresh whose project text is still to be read keeps the text the archive has; one with text replaces it', async () => {
        await store.appendEvents(S1, [storedEvent(0), storedPendingEvent(1)]);
        expect(await store.fillEventText(S1, 1, sampleKey(1), sampleEvent(1).project)).toBe(true);
        await store.dropEvents(S1);
        // a headers-first read of the same events: their text is known already
        expect(await store.appendEvents(S1, [storedPendingEvent(0), storedPendingEvent(1)])).toEqual({ archivedNew: 0 });
        expect(await store.pendingTexts(S1)).toEqual([]);
        expect((await store.getEvents(S1)).map((e) => e.event)).toEqual([sampleEvent(0), sampleEvent(1)]);
        expect(new TextDecoder().decode(await store.getEventsJson(S1))).toBe(JSON.stringify([sampleEvent(0), sampleEvent(1)]));
        expect((await everyArchived(store)).map((e) => [e.project, e.project_pending])).toEqual([
          [sampleEvent(1).project, false],
          [sampleEvent(0).project, false],
        ]);
        await store.dropEvents(S1);
        const corrected = eventWith(0, { project: { ...sampleEvent(0).project, operator: 'K. Jones' } });
        await store.appendEvents(S1, [corrected]);
        expect((await store.getEvent(S1, 0))?.event).toEqual(corrected.event);
        expect((await everyArchived(store)).map((e) => e.project.operator)).toEqual([sampleEvent(1).project.operator, 'K. Jones']);
      });

      it('fillEventText fills the archived event, which keeps the text once the list is dropped', async () => {
        await store.appendEvents(S1, [storedPendingEvent(0)]);
        const [pending] = (await everyArchived(store)) as [ArchivedEvent];
        expect([pending.project, pending.project_pending]).toEqual([pendingEvent(0).project, true]);
        expect(await store.fillEventText(S1, 0, sampleKey(0), sampleEvent(0).project)).toBe(true);
        await store.dropEvents(S1);
        expect(await store.archive.event(pending.id)).toEqual({ ...pending, project: sampleEvent(0).project, project_pending: false });
      });

      it('has_waveform and archive.waveform(id) follow the event\'s (serial, key, timestamp)', async () => {
        const early = sampleWaveform(sampleKey(1), sampleTimestamp(1), 64, { seed: 5 });
        expect(await store.putWaveform(S1, early)).toBe(true); // before its event is read
        await store.appendEvents(S1, storedEvents(0, 3));
        const byLabel = async (): Promise<Map<string, ArchivedEvent>> => new Map((await everyArchived(store)).map((e) => [label(e), e]));
        let m = await byLabel();
        expect(['S1/0', 'S1/1', 'S1/2'].map((l) => m.get(l)!.has_waveform)).toEqual([false, true, false]);
        expectSameWaveform(await store.archive.waveform(m.get('S1/1')!.id), early);
        expect(await store.archive.waveform(m.get('S1/0')!.id)).toBeUndefined();
        // the same key at another time, or another unit's, is not this event's waveform
        await store.putWaveform(S1, sampleWaveform(sampleKey(0), '2026-05-01T08:00:00', 16));
        await store.putWaveform(S2, sampleWaveform(sampleKey(0), sampleTimestamp(0), 16));
        m = await byLabel();
        expect(m.get('S1/0')!.has_waveform).toBe(false);
        const w0 = { ...sampleWaveform(sampleKey(0), sampleTimestamp(0), 32, { seed: 6 }), document: { index: 0, gzip: Uint8Array.from([1, 2, 3]) } };
        expect(await store.putWaveform(S1, w0)).toBe(true);
        m = await byLabel();
        expect(m.get('S1/0')!.has_waveform).toBe(true);
        expectSameWaveform(await store.archive.waveform(m.get('S1/0')!.id), w0);
        expect(await store.archive.waveform(987_654_321)).toBeUndefined();
      });

      it('event(id) is undefined for an id it never gave; ids are never reused, not even after retention', async () => {
        for (const id of [0, -1, 1.5, Number.NaN, 987_654_321]) expect(await store.archive.event(id)).toBeUndefined();
        await store.appendEvents(S1, storedEvents(0, 2, T0));
        await store.dropEvents(S1);
        const gone = await everyArchived(store);
        const removed = await store.archive.retain({ receivedBefore: T0 + 1 });
        expect([removed.events, removed.waveforms]).toEqual([2, 0]);
        for (const e of gone) expect(await store.archive.event(e.id)).toBeUndefined();
        expect(await store.appendEvents(S1, storedEvents(0, 2, T0 + 5))).toEqual({ archivedNew: 2 }); // read again: archived anew
        const back = await everyArchived(store);
        expect(back.map(label)).toEqual(gone.map(label));
        for (const e of back) expect(e.id).toBeGreaterThan(Math.max(...gone.map((g) => g.id)));
      });
    });

    describe('archive: events()', () => {
      it('is newest first by timestamp, then by id; an event without a timestamp is oldest', async () => {
        const ts5 = '2026-04-09T07:00:05';
        await store.appendEvents(S1, [eventWith(0, { timestamp: ts5 }), eventWith(1, { timestamp: '2026-04-09T07:00:01' }), eventWith(2, { timestamp: null }), eventWith(3, { timestamp: ts5 }), eventWith(4, { timestamp: null })]);
        await store.appendEvents(S2, [eventWith(0, { timestamp: '2026-04-09T07:00:03' })]);
        const expected = ['S1/3', 'S1/0', 'S2/0', 'S1/1', 'S1/4', 'S1/2'];
        expect((await everyArchived(store)).map(label)).toEqual(expected);
        expect((await everyArchived(store, {}, 1)).map(label)).toEqual(expected);
        expect((await everyArchived(store, {}, 4)).map(label)).toEqual(expected);
        expect(label((await store.archive.unit(S1))!.last_event!)).toBe('S1/3');
      });

      it('filters by serial, time, peak vector sum, project, record type and review, alone and together', async () => {
        const peaks = (pvs: number | null) => ({ ...sampleEvent(0).peaks, pvs_ips: pvs });
        const project = (name: string | null) => ({ ...sampleEvent(0).project, project: name });
        await store.appendEvents(S1, [
          eventWith(0, { timestamp: '2026-04-01T10:00:00', peaks: peaks(0.5), project: project('Quarry North') }),
          eventWith(1, { timestamp: '2026-04-02T10:00:00', peaks: peaks(1.2), project: project('quarry south 5%_x') }),
          { ...storedEvent(2), event: { ...sampleMonitorLog(2), timestamp: '2026-04-03T10:00:00' } },
          eventWith(3, { timestamp: null, record_type: 'histogram', peaks: peaks(2), project: project('Harbour Bridge') }),
          eventWith(4, { timestamp: '2026-04-03T10:00:00', peaks: peaks(0.25), project: project('QUARRY NORTH') }),
        ]);
        await store.appendEvents(S2, [
          eventWith(0, { timestamp: '2026-04-02T12:00:00', peaks: peaks(3), project: project('Harbour Bridge') }),
          eventWith(1, { timestamp: '2026-04-04T00:00:00', peaks: peaks(0.5), project: project('Quarry 5%') }),
        ]);
        const reviewed = (await everyArchived(store)).find((e) => label(e) === 'S1/1')!;
        await store.archive.review(reviewed.id, { falseTrigger: true });

        const cases: [Omit<ArchiveEventQuery, 'limit' | 'cursor'>, string[]][] = [
          [{}, ['S2/1', 'S1/4', 'S1/2', 'S2/0', 'S1/1', 'S1/0', 'S1/3']],
          [{ serial: S2 }, ['S2/1', 'S2/0']],
          [{ serial: S1_LONGER }, []],
          [{ from: '2026-04-02T12:00:00' }, ['S2/1', 'S1/4', 'S1/2', 'S2/0']],
          [{ to: '2026-04-02T10:00:00' }, ['S1/1', 'S1/0']],
          [{ from: '2026-04-02' }, ['S2/1', 'S1/4', 'S1/2', 'S2/0', 'S1/1']],
          [{ from: '2026-04-03T10:00:00', to: '2026-04-03T10:00:00' }, ['S1/4', 'S1/2']],
          [{ from: '2026-04-03T10:00:01', to: '2026-04-03T10:00:00' }, []],
          [{ minPvsIps: 0.5 }, ['S2/1', 'S2/0', 'S1/1', 'S1/0', 'S1/3']],
          [{ minPvsIps: 0 }, ['S2/1', 'S1/4', 'S2/0', 'S1/1', 'S1/0', 'S1/3']],
          [{ project: 'quarry' }, ['S2/1', 'S1/4', 'S1/1', 'S1/0']],
          [{ project: 'NORTH' }, ['S1/4', 'S1/0']],
          [{ project: '%' }, ['S2/1', 'S1/1']],
          [{ project: '_' }, ['S1/1']],
          [{ project: 'bridge' }, ['S2/0', 'S1/3']],
          [{ project: 'zzz' }, []],
          [{ recordType: 'monitor_log' }, ['S1/2']],
          [{ recordType: 'histogram' }, ['S1/3']],
          [{ recordType: 'waveform' }, ['S2/1', 'S1/4', 'S2/0', 'S1/1', 'S1/0']],
          [{ falseTrigger: true }, ['S1/1']],
          [{ falseTrigger: false }, ['S2/1', 'S1/4', 'S1/2', 'S2/0', 'S1/0', 'S1/3']],
          [{ serial: S1, from: '2026-04-02T00:00:00', minPvsIps: 0.2, project: 'quarry', recordType: 'waveform', falseTrigger: false }, ['S1/4']],
          [{ serial: S1, from: '2026-04-02T00:00:00', minPvsIps: 0.2, project: 'quarry', recordType: 'waveform', falseTrigger: true }, ['S1/1']],
          [{ serial: S2, project: 'quarry', to: '2026-04-03' }, []],
        ];
        for (const [q, want] of cases) {
          const what = JSON.stringify(q);
          expect([what, (await everyArchived(store, q)).map(label)]).toEqual([what, want]);
          expect([what, (await everyArchived(store, q, 1)).map(label)]).toEqual([what, want]);
        }
      });

      it('pages hold `limit` events; nextCursor is null exactly on the last page', async () => {
        await store.appendEvents(S1, storedEvents(0, 7));
        const pageSizes = async (limit: number): Promise<number[]> => {
          const sizes: number[] = [];
          let cursor: string | undefined;
          do {
            const page = await store.archive.events({ limit, ...(cursor === undefined ? {} : { cursor }) });
            sizes.push(page.items.length);
            cursor = page.nextCursor === null ? undefined : page.nextCursor;
          } while (cursor !== undefined && sizes.length < 100);
          return sizes;
        };
        expect(await pageSizes(3)).toEqual([3, 3, 1]);
        expect(await pageSizes(7)).toEqual([7]);
        expect(await pageSizes(5000)).toEqual([7]);
        expect(await pageSizes(1)).toEqual([1, 1, 1, 1, 1, 1, 1]);
        await store.appendEvents(S1, [storedEvent(7)]);
        expect(await pageSizes(4)).toEqual([4, 4]);
        expect(await store.archive.events({ serial: S2, limit: 5 })).toEqual({ items: [], nextCursor: null });
      });

      it('paging is complete and free of duplicates while events arrive and are refreshed between pages', async () => {
        await store.appendEvents(S1, storedEvents(0, 10, T0 + 10));
        const read: ArchivedEvent[] = [];
        let page = await store.archive.events({ limit: 3 });
        read.push(...page.items);
        expect(read.map(label)).toEqual(['S1/9', 'S1/8', 'S1/7']);
        // newer than the page's last event, and as new with a higher id: before the cursor
        await store.appendEvents(S2, [eventWith(0, { timestamp: '2026-04-09T07:00:30' }), eventWith(1, { timestamp: sampleTimestamp(7) })]);
        // older: after it, so on a later page
        await store.appendEvents(S2, [eventWith(2, { timestamp: sampleTimestamp(4) }), eventWith(3, { timestamp: null }), eventWith(4, { timestamp: '2026-04-09T06:59:59' })]);
        // every event read already, refreshed: none comes again
        await store.dropEvents(S1);
        await store.appendEvents(S1, storedEvents(0, 10, T0 + 20));
        while (page.nextCursor !== null && read.length < 100) {
          page = await store.archive.events({ limit: 3, cursor: page.nextCursor });
          read.push(...page.items);
          if (read.length === 6) await store.appendEvents(S2, [eventWith(5, { timestamp: '2026-04-09T06:00:00' })]);
        }
        expect(read.map(label)).toEqual(['S1/9', 'S1/8', 'S1/7', 'S1/6', 'S1/5', 'S2/2', 'S1/4', 'S1/3', 'S1/2', 'S1/1', 'S1/0', 'S2/4', 'S2/5', 'S2/3']);
        expect(new Set(read.map((e) => e.id)).size).toBe(read.length);
      });

      it('a cursor continues after its position even when the event there was removed', async () => {
        await store.appendEvents(S1, [0, 1, 2, 3, 4, 5].map((i) => eventWith(i, {}, i === 3 ? T0 : T0 + 10)));
        await store.dropEvents(S1); // none is live: retention may take them
        const first = await store.archive.events({ limit: 3 });
        expect(first.items.map(label)).toEqual(['S1/5', 'S1/4', 'S1/3']);
        expect((await store.archive.retain({ receivedBefore: T0 + 1 })).events).toBe(1); // S1/3, the cursor's
        const rest = await store.archive.events({ limit: 3, cursor: first.nextCursor! });
        expect(rest.items.map(label)).toEqual(['S1/2', 'S1/1', 'S1/0']);
        expect(rest.nextCursor).toBe(null);
      });

      it('refuses a cursor it did not make, one of the other listing, and a limit that is not a whole number ≥ 1', async () => {
        await store.appendEvents(S1, storedEvents(0, 3));
        for (const at of [T0, T0 + 1, T0 + 2]) await store.archive.recordSession(sampleSession(S1, { started_at: iso(at) }));
        const eventsCursor = (await store.archive.events({ limit: 1 })).nextCursor!;
        const sessionsCursor = (await store.archive.sessions({ limit: 1 })).nextCursor!;
        expect([typeof eventsCursor, typeof sessionsCursor]).toEqual(['string', 'string']);
        const half = (c: string): string => c.slice(0, Math.floor(c.length / 2));
        for (const bad of ['', 'garbage', '0', 'null', '[]', '{}', half(eventsCursor), sessionsCursor]) await expectStoreError(() => store.archive.events({ limit: 1, cursor: bad }));
        for (const bad of ['', 'garbage', half(sessionsCursor), eventsCursor]) await expectStoreError(() => store.archive.sessions({ limit: 1, cursor: bad }));
        for (const limit of [0, -1, 1.5, Number.NaN]) {
          await expectStoreError(() => store.archive.events({ limit }));
          await expectStoreError(() => store.archive.sessions({ limit }));
        }
        expect((await store.archive.events({ limit: 5, cursor: eventsCursor })).items.map(label)).toEqual(['S1/1', 'S1/0']);
        expect((await store.archive.sessions({ limit: 5, cursor: sessionsCursor })).items.length).toBe(2);
      });
    });

    describe('archive: review and analysis', () => {
      it('review sets and clears false_trigger and notes, answers the event, leaves the live list alone', async () => {
        await store.appendEvents(S1, storedEvents(0, 2));
        const [e1, e0] = (await everyArchived(store)) as [ArchivedEvent, ArchivedEvent];
        expect(await store.archive.review(e0.id, { falseTrigger: true, notes: 'vehicle passing' })).toEqual({ ...e0, false_trigger: true, notes: 'vehicle passing' });
        expect(await store.archive.review(e0.id, {})).toEqual({ ...e0, false_trigger: true, notes: 'vehicle passing' });
        expect(await store.archive.review(e0.id, { notes: null })).toEqual({ ...e0, false_trigger: true, notes: null });
        expect(await store.archive.review(e0.id, { falseTrigger: false, notes: 'Zoë — 発破 "3"' })).toEqual({ ...e0, notes: 'Zoë — 発破 "3"' });
        await expectStoreError(() => store.archive.review(e0.id, { falseTrigger: 'yes' as unknown as boolean }));
        expect(await store.archive.event(e0.id)).toEqual({ ...e0, notes: 'Zoë — 発破 "3"' });
        expect(await store.archive.event(e1.id)).toEqual(e1);
        expect(await store.archive.review(987_654_321, { falseTrigger: true })).toBeUndefined();
        expect(await store.getEvents(S1)).toEqual(storedEvents(0, 2));
      });

      it('setAnalysis keeps, replaces and clears the summary; false for an unknown event', async () => {
        await store.appendEvents(S1, storedEvents(0, 1));
        const [e] = (await everyArchived(store)) as [ArchivedEvent];
        expect(await store.archive.setAnalysis(e.id, sampleAnalysis())).toBe(true);
        expect(await store.archive.event(e.id)).toEqual({ ...e, analysis_summary: sampleAnalysis() });
        const failed = sampleAnalysis({ compliance: 'fail', dominant_freq_hz: null });
        expect(await store.archive.setAnalysis(e.id, failed)).toBe(true);
        expect((await store.archive.event(e.id))?.analysis_summary).toEqual(failed);
        expect(await store.archive.setAnalysis(e.id, null)).toBe(true);
        expect(await store.archive.event(e.id)).toEqual(e);
        expect(await store.archive.setAnalysis(987_654_321, sampleAnalysis())).toBe(false);
      });
      it('putWaveform with an analysis gives the archived event of that identity its summary in the same write', async () => {
        await store.appendEvents(S1, storedEvents(0, 2));
        const byLabel = async (): Promise<Map<string, ArchivedEvent>> => new Map((await everyArchived(store)).map((e) => [label(e), e]));
        const before = await byLabel();
        const summary = sampleAnalysis({ compliance: 'fail' });
        expect(await store.putWaveform(S1, sampleWaveform(sampleKey(1), sampleTimestamp(1), 16), summary)).toBe(true);
        let m = await byLabel();
        expect(m.get('S1/1')).toEqual({ ...before.get('S1/1')!, has_waveform: true, analysis_summary: summary });
        expect(m.get('S1/0')).toEqual(before.get('S1/0'));
        // without one, a later put leaves the summary as it is
        expect(await store.putWaveform(S1, sampleWaveform(sampleKey(1), sampleTimestamp(1), 16, { seed: 2 }))).toBe(false);
        expect((await byLabel()).get('S1/1')!.analysis_summary).toEqual(summary);
        // the same key at another time, or another unit's, is not this event: no summary, no error
        expect(await store.putWaveform(S1, sampleWaveform(sampleKey(0), '2026-05-01T08:00:00', 16), sampleAnalysis())).toBe(true);
        expect(await store.putWaveform(S2, sampleWaveform(sampleKey(0), sampleTimestamp(0), 16), sampleAnalysis())).toBe(true);
        m = await byLabel();
        expect(m.get('S1/0')).toEqual(before.get('S1/0'));
        expect([...m.keys()].sort()).toEqual(['S1/0', 'S1/1']);
      });
    });

    describe('archive: the fleet', () => {
      const unitOf = (serial: string, seen: [number, number], fields: Partial<Unit> = {}): Unit => ({
        serial,
        first_seen: iso(seen[0]),
        last_seen: iso(seen[1]),
        last_address: null,
        last_session: null,
        event_count: 0,
        last_event: null,
        last_status: null,
        info: null,
        ...fields,
      });

      it('has no unit until one is seen; a sync state, a waveform or a dirty mark is no sighting', async () => {
        expect(await store.archive.units()).toEqual([]);
        expect(await store.archive.unit(S1)).toBeUndefined();
        await store.putEventSync(S1, sampleSync(0));
        await store.putWaveform(S1, sampleWaveform(1, null, 8));
        await store.markInfoDirty(S1);
        expect(await store.archive.units()).toEqual([]);
        expect((await store.archive.stats()).units).toBe(0);
      });

      it('makes a unit from each path alone: identity, info, status, events, session', async () => {
        const peer = 'tcp:198.51.100.4:40100';
        await store.putIdentity(A, { serial: 'BE10001', confirmedAt: T0 + 1 });
        await store.putInfo('BE10002', sampleInfo('BE10002'), T0 + 2);
        await store.putStatus('BE10003', sampleStatus(), T0 + 3);
        await store.appendEvents('BE10004', [storedEvent(0, sampleKey(0), T0 + 4), storedEvent(1, sampleKey(1), T0 + 40)]);
        const session = await store.archive.recordSession(sampleSession('BE10005', { started_at: iso(T0 + 5), duration_s: 2.5, peer }));
        const [newest] = await everyArchived(store, { serial: 'BE10004' });
        const want = [
          unitOf('BE10001', [T0 + 1, T0 + 1], { last_address: A }),
          unitOf('BE10002', [T0 + 2, T0 + 2], { info: sampleInfo('BE10002') }),
          unitOf('BE10003', [T0 + 3, T0 + 3], { last_status: sampleStatus() }),
          unitOf('BE10004', [T0 + 4, T0 + 40], { event_count: 2, last_event: newest! }),
          unitOf('BE10005', [T0 + 5, T0 + 2505], { last_address: peer, last_session: session }),
        ];
        for (const u of want) {
          expect(await store.archive.unit(u.serial)).toEqual(u);
          checkValue('unit', UnitShape, u);
        }
        // newest last_seen first
        expect(await store.archive.units()).toEqual([want[4], want[3], want[2], want[1], want[0]]);
        expect((await store.archive.stats()).units).toBe(5);
      });

      it('first_seen is the earliest sighting, last_seen the latest, last_address that of the latest one with an address (the later write on a tie)', async () => {
        const peer = 'tcp:198.51.100.4:40100';
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 + 10_000 });
        await store.putInfo(S1, sampleInfo(S1), T0 + 5_000);
        await store.archive.recordSession(sampleSession(S1, { started_at: iso(T0 + 12_000), duration_s: 8, peer })); // ends at T0 + 20 s
        await store.putIdentity(B, { serial: S1, confirmedAt: T0 + 15_000 }); // before the session ended
        await store.appendEvents(S1, [storedEvent(0, sampleKey(0), T0 + 25_000)]); // the latest, without an address
        const seen = async (): Promise<unknown[]> => {
          const u = (await store.archive.unit(S1))!;
          return [u.first_seen, u.last_seen, u.last_address];
        };
        expect(await seen()).toEqual([iso(T0 + 5_000), iso(T0 + 25_000), peer]);
        await store.putIdentity(C, { serial: S1, confirmedAt: T0 + 20_000 }); // as late as the session's end, written later
        expect(await seen()).toEqual([iso(T0 + 5_000), iso(T0 + 25_000), C]);
        await store.putStatus(S1, sampleStatus(), T0 + 1_000);
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 + 30_000 });
        expect(await seen()).toEqual([iso(T0 + 1_000), iso(T0 + 30_000), A]);
        // a refreshed event is a sighting too
        await store.dropEvents(S1);
        await store.appendEvents(S1, [storedEvent(0, sampleKey(0), T0 + 40_000)]);
        expect(await seen()).toEqual([iso(T0 + 1_000), iso(T0 + 40_000), A]);
      });

      it('info and last_status are the newest read; what the cache forgets, the fleet keeps', async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        const newer = sampleInfo(S1, { firmware: 'S338.18' });
        await store.putInfo(S1, newer, T0 + 10);
        await store.putInfo(S1, sampleInfo(S1), T0 + 5); // an older read, written later
        expect((await store.getInfo(S1))?.info).toEqual(sampleInfo(S1)); // the cache keeps the last write
        expect((await store.archive.unit(S1))?.info).toEqual(newer);
        await store.putStatus(S1, sampleStatus({ battery_v: 6.5 }), T0 + 10);
        await store.putStatus(S1, sampleStatus({ battery_v: 6.1 }), T0 + 5);
        expect((await store.archive.unit(S1))?.last_status).toEqual(sampleStatus({ battery_v: 6.5 }));
        await store.putStatus(S1, sampleStatus({ battery_v: 6.0 }), T0 + 10); // as new, written later
        await store.appendEvents(S1, storedEvents(0, 2, T0 + 20));
        const before = (await store.archive.unit(S1))!;
        expect([before.last_status, before.info, before.event_count, before.last_address]).toEqual([sampleStatus({ battery_v: 6.0 }), newer, 2, A]);
        await store.deleteStatus(S1);
        await store.dropEvents(S1);
        await store.clearConnection(A);
        expect(await store.archive.unit(S1)).toEqual(before);
      });

      it('units() lists the newest last_seen first, equal ones by serial; the empty serial makes no unit', async () => {
        await store.putIdentity(A, { serial: S1_LONGER, confirmedAt: T0 + 5 });
        await store.putIdentity(B, { serial: S2, confirmedAt: T0 + 9 });
        await store.putInfo(S1, sampleInfo(S1), T0 + 5);
        await store.putIdentity(C, { serial: '', confirmedAt: T0 + 20 });
        await store.putStatus('', sampleStatus(), T0 + 20);
        await store.appendEvents('', storedEvents(0, 1, T0 + 20));
        await store.archive.recordSession(sampleSession('', { started_at: iso(T0 + 30), result: 'TIMEOUT' }));
        expect((await store.archive.units()).map((u) => u.serial)).toEqual([S2, S1, S1_LONGER]);
        expect(await store.archive.unit('')).toBeUndefined();
        expect((await store.archive.stats()).units).toBe(3);
        expect((await everyArchived(store, { serial: '' })).length).toBe(1);
        expect((await store.archive.sessions({ serial: '', limit: 5 })).items.length).toBe(1);
      });

      it('retention lowers event_count and last_event, not when the unit was seen', async () => {
        await store.appendEvents(S1, [storedEvent(0, sampleKey(0), T0), storedEvent(1, sampleKey(1), T0 + 100)]);
        await store.dropEvents(S1);
        await store.archive.retain({ receivedBefore: T0 + 1 });
        const u = (await store.archive.unit(S1))!;
        expect([u.first_seen, u.last_seen, u.event_count, label(u.last_event!)]).toEqual([iso(T0), iso(T0 + 100), 1, 'S1/1']);
        await store.archive.retain({ receivedBefore: T0 + 101 });
        expect(await store.archive.unit(S1)).toEqual(unitOf(S1, [T0, T0 + 100]));
      });
    });

    describe('archive: sessions', () => {
      it('recordSession answers the session with its id; sessions() is newest first by started_at, then id, of one serial or all, page by page', async () => {
        const recorded: Session[] = [];
        for (const [serial, at] of [[S1, T0 + 10], [S2, T0 + 30], [S1, T0 + 20], [S1, T0 + 20], [S1, T0]] as const) {
          const s = sampleSession(serial, { started_at: iso(at), events_new: recorded.length, capture: recorded.length === 1 ? 'ach-0002.cap' : null });
          const got = await store.archive.recordSession(s);
          checkValue('session', SessionShape, got);
          expect(got).toEqual({ ...s, id: got.id });
          if (recorded.length > 0) expect(got.id).toBeGreaterThan(recorded.at(-1)!.id);
          recorded.push(got);
        }
        const [r0, r1, r2, r3, r4] = recorded as [Session, Session, Session, Session, Session];
        expect(await everySession(store)).toEqual([r1, r3, r2, r0, r4]);
        expect(await everySession(store, S1, 1)).toEqual([r3, r2, r0, r4]);
        expect(await everySession(store, S1_LONGER)).toEqual([]);
        expect((await store.archive.unit(S1))?.last_session).toEqual(r3);
        const first = await store.archive.sessions({ serial: S1, limit: 2 });
        expect(first.items).toEqual([r3, r2]);
        // a session recorded between pages lands where it belongs
        const late = await store.archive.recordSession(sampleSession(S1, { started_at: iso(T0 + 5) }));
        const second = await store.archive.sessions({ serial: S1, limit: 2, cursor: first.nextCursor! });
        expect(second.items).toEqual([r0, late]);
        const third = await store.archive.sessions({ serial: S1, limit: 2, cursor: second.nextCursor! });
        expect(third).toEqual({ items: [r4], nextCursor: null });
        expect((await store.archive.unit(S1))?.last_session).toEqual(r3);
        expect((await store.archive.stats()).sessions).toBe(6);
      });

      it('refuses a session that is not one, and records nothing of it', async () => {
        const bad: Omit<Session, 'id'>[] = [
          sampleSession(S1, { kind: 'dial-up' as Session['kind'] }),
          sampleSession(S1, { started_at: '2026-04-09 07:00:00' }),
          sampleSession(S1, { started_at: 'yesterday' }),
          sampleSession(S1, { started_at: '2026-04-09T07:00:00' }), // no zone
          sampleSession(S1, { duration_s: -1 }),
          sampleSession(S1, { events_new: 1.5 }),
        ];
        for (const s of bad) await expectStoreError(() => store.archive.recordSession(s));
        expect((await store.archive.stats()).sessions).toBe(0);
        expect(await store.archive.unit(S1)).toBeUndefined();
      });
    });

    describe('archive: stats, retention, durability', () => {
      it('stats count units, events, waveforms and sessions, and the bytes of events and waveforms', async () => {
        expect(store.archive.persistent).toBe(store.capabilities.persistent);
        expect(await store.archive.stats()).toEqual({ persistent: store.capabilities.persistent, units: 0, events: 0, waveforms: 0, event_bytes: 0, waveform_bytes: 0, sessions: 0 });
        await fill(store, S1, 3, 1); // a waveform of 16 samples a channel: 128 bytes
        await store.putWaveform(S2, { ...sampleWaveform(sampleKey(0), null, 100), document: { index: 0, gzip: new Uint8Array(50) } });
        await store.archive.recordSession(sampleSession(S2));
        const st = await store.archive.stats();
        expect({ ...st, event_bytes: st.event_bytes > 0 }).toEqual({ persistent: store.capabilities.persistent, units: 2, events: 3, waveforms: 2, event_bytes: true, waveform_bytes: 128 + 850, sessions: 1 });
        // what the cache forgets, the archive keeps
        await store.dropEvents(S1);
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await store.clearConnection(A);
        expect(await store.archive.stats()).toEqual(st);
      });

      it('retain by age removes archived events received before the time, with their waveforms — never one a live list holds', async () => {
        await store.appendEvents(S1, storedEvents(0, 3, T0)); // live
        await store.appendEvents(S2, [...storedEvents(0, 3, T0), storedEvent(3, sampleKey(3), T0 + 100)]);
        await store.dropEvents(S2); // archived only
        for (const serial of [S1, S2]) await store.putWaveform(serial, sampleWaveform(sampleKey(0), sampleTimestamp(0), 100));
        const before = await store.archive.stats();
        const removed = await store.archive.retain({ receivedBefore: T0 + 100 });
        expect([removed.events, removed.waveforms]).toEqual([3, 1]);
        const after = await store.archive.stats();
        expect(removed.bytes).toBe(before.event_bytes + before.waveform_bytes - after.event_bytes - after.waveform_bytes);
        expect(removed.bytes).toBeGreaterThan(800);
        expect((await everyArchived(store)).map(label)).toEqual(['S2/3', 'S1/2', 'S1/1', 'S1/0']);
        expectSameWaveform(await store.getWaveform(S1, sampleKey(0), sampleTimestamp(0)), sampleWaveform(sampleKey(0), sampleTimestamp(0), 100));
        expect(await store.getWaveform(S2, sampleKey(0), sampleTimestamp(0))).toBeUndefined();
        expect(await store.archive.retain({ receivedBefore: T0 + 100 })).toEqual({ events: 0, waveforms: 0, bytes: 0 });
        expect(await store.getEvents(S1)).toEqual(storedEvents(0, 3, T0));
        // once the list lets go of them, they may go
        await store.dropEvents(S1);
        const beforeLast = await store.archive.stats();
        const last = await store.archive.retain({ receivedBefore: T0 + 100 });
        expect([last.events, last.waveforms]).toEqual([3, 1]);
        const afterLast = await store.archive.stats();
        expect(last.bytes).toBe(beforeLast.event_bytes + beforeLast.waveform_bytes - afterLast.event_bytes - afterLast.waveform_bytes);
        expect(await store.archive.retain({})).toEqual({ events: 0, waveforms: 0, bytes: 0 });
      });

      it('received_at is the first read: a refresh does not make an event younger', async () => {
        await store.appendEvents(S1, storedEvents(0, 1, T0));
        await store.dropEvents(S1);
        await store.appendEvents(S1, storedEvents(0, 1, T0 + 1000));
        await store.dropEvents(S1);
        expect((await store.archive.retain({ receivedBefore: T0 + 1 })).events).toBe(1);
      });

      it('retain by waveform bytes removes the oldest waveforms of events no live list holds, until the total is within the budget', async () => {
        await store.appendEvents(S1, storedEvents(0, 1)); // live
        await store.appendEvents(S2, storedEvents(0, 3));
        await store.dropEvents(S2);
        const put = (serial: string, i: number, fetchedAt: number) => store.putWaveform(serial, sampleWaveform(sampleKey(i), sampleTimestamp(i), 100, { fetchedAt, seed: i }));
        await put(S1, 0, T0); // the oldest, but its event is live
        await put(S2, 0, T0 + 1);
        await put(S2, 1, T0 + 3);
        await put(S2, 2, T0 + 2);
        await put(S2, 5, T0 + 4); // no archived event
        expect((await store.archive.stats()).waveform_bytes).toBe(5 * 800);
        expect(await store.archive.retain({ waveformBytes: 2400 })).toEqual({ events: 0, waveforms: 2, bytes: 1600 });
        const has = new Map((await everyArchived(store)).map((e) => [label(e), e.has_waveform]));
        expect(['S1/0', 'S2/0', 'S2/1', 'S2/2'].map((l) => has.get(l))).toEqual([true, false, true, false]);
        expect(await store.getWaveform(S2, sampleKey(5), sampleTimestamp(5))).not.toBeUndefined();
        expect(await store.archive.retain({ waveformBytes: 0 })).toEqual({ events: 0, waveforms: 2, bytes: 1600 });
        const st = await store.archive.stats();
        expect([st.waveforms, st.waveform_bytes, st.events]).toEqual([1, 800, 4]);
        expect(await store.archive.retain({ waveformBytes: 0 })).toEqual({ events: 0, waveforms: 0, bytes: 0 });
      });

      it('retain by age and bytes together: old events first, then waveforms down to the budget', async () => {
        await store.appendEvents(S2, [...storedEvents(0, 2, T0), storedEvent(2, sampleKey(2), T0 + 100)]);
        await store.dropEvents(S2);
        await store.putWaveform(S2, sampleWaveform(sampleKey(0), sampleTimestamp(0), 100, { fetchedAt: T0 + 5 }));
        await store.putWaveform(S2, sampleWaveform(sampleKey(2), sampleTimestamp(2), 100, { fetchedAt: T0 + 1 }));
        const before = await store.archive.stats();
        const removed = await store.archive.retain({ receivedBefore: T0 + 50, waveformBytes: 0 });
        expect([removed.events, removed.waveforms]).toEqual([2, 2]);
        const after = await store.archive.stats();
        expect(removed.bytes).toBe(before.event_bytes + before.waveform_bytes - after.event_bytes - after.waveform_bytes);
        expect((await everyArchived(store)).map((e) => [label(e), e.has_waveform])).toEqual([['S2/2', false]]);
      });

      it('refuses a retention policy that is not one', async () => {
        for (const policy of [{ receivedBefore: Number.NaN }, { waveformBytes: -1 }, { waveformBytes: 1.5 }]) await expectStoreError(() => store.archive.retain(policy));
      });

      it('durable() resolves once what was written is kept', async () => {
        await fill(store, S1, 2, 1);
        expect(await store.archive.durable()).toBeUndefined();
      });

      it('mutating what it answers, or what was given to it, does not change the archive', async () => {
        await store.putIdentity(A, { serial: S1, confirmedAt: T0 });
        await fill(store, S1, 1, 1);
        const session = sampleSession(S1);
        const recorded = await store.archive.recordSession(session);
        session.peer = 'changed';
        const [e] = (await everyArchived(store)) as [ArchivedEvent];
        const analysis = sampleAnalysis();
        await store.archive.setAnalysis(e.id, analysis);
        analysis.compliance = 'fail';
        const pristine = { event: await store.archive.event(e.id), unit: await store.archive.unit(S1), sessions: await everySession(store) };
        expect(pristine.sessions).toEqual([recorded]);

        const listed = (await store.archive.events({ limit: 1 })).items[0]!;
        listed.peaks.pvs_ips = 99;
        listed.project.project = 'changed';
        listed.analysis_summary!.pvs_ips = 99;
        const one = (await store.archive.event(e.id))!;
        one.notes = 'changed';
        const reviewed = (await store.archive.review(e.id, {}))!;
        reviewed.peaks.tran_ips = 99;
        const w = (await store.archive.waveform(e.id))!;
        w.channels.Tran[0] = 12345;
        const u = (await store.archive.unit(S1))!;
        u.info!.compliance.project = 'changed';
        u.last_status!.battery_v = 0;
        u.last_event!.key = 'FFFFFFFF';
        u.last_session!.peer = 'changed';
        const [fromList] = await store.archive.units();
        fromList!.event_count = 99;
        const sessions = await store.archive.sessions({ limit: 1 });
        sessions.items[0]!.result = 'changed';

        expect({ event: await store.archive.event(e.id), unit: await store.archive.unit(S1), sessions: await everySession(store) }).toEqual(pristine);
        expectSameWaveform(await store.archive.waveform(e.id), sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 16, { seed: 1 }));
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
              expect((await s.archive.stats()).events).toBe(3);
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
          {
            what: 'archive.review',
            setup: (s) => s.appendEvents(S1, storedEvents(0, 1)),
            write: async (s) => s.archive.review((await s.archive.events({ limit: 1 })).items[0]!.id, { notes: 'checked' }),
            readBack: async (s) => expect((await s.archive.events({ limit: 1 })).items[0]!.notes).toBe('checked'),
          },
          {
            what: 'archive.setAnalysis',
            setup: (s) => s.appendEvents(S1, storedEvents(0, 1)),
            write: async (s) => s.archive.setAnalysis((await s.archive.events({ limit: 1 })).items[0]!.id, sampleAnalysis()),
            readBack: async (s) => expect((await s.archive.events({ limit: 1 })).items[0]!.analysis_summary).toEqual(sampleAnalysis()),
          },
          {
            what: 'archive.recordSession',
            write: (s) => s.archive.recordSession(sampleSession(S1)),
            readBack: async (s) => expect((await s.archive.sessions({ limit: 5 })).items.map((x) => x.serial)).toEqual([S1]),
          },
          {
            what: 'archive.retain',
            setup: async (s) => {
              await s.appendEvents(S1, storedEvents(0, 2, T0));
              await s.dropEvents(S1);
            },
            write: (s) => s.archive.retain({ receivedBefore: T0 + 1 }),
            readBack: async (s) => expect((await s.archive.stats()).events).toBe(0),
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
          expect(await a.clearConnection(A)).toEqual({ device_info: 1, events: 2, waveform: 0, monitor_status: 1 });
          const { scopes } = poll('b');
          expect(scopes).toContain(addressScope(A));
          expect(scopes).toContain(unitScope(S1));
          expect(poll('b').calls).toBe(0);
          expect(await b.getIdentity(A)).toBeUndefined();
          await expectNoViewOf(b, S1);
          await checkArchived(b, S1, 2, 1);
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
          () => store.archive.events({ limit: 1 }),
          () => store.archive.event(1),
          () => store.archive.waveform(1),
          () => store.archive.review(1, { notes: 'x' }),
          () => store.archive.setAnalysis(1, null),
          () => store.archive.units(),
          () => store.archive.unit(S1),
          () => store.archive.recordSession(sampleSession(S1)),
          () => store.archive.sessions({ limit: 1 }),
          () => store.archive.stats(),
          () => store.archive.retain({}),
          () => store.archive.durable(),
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

// --- helpers ------------------------------------------------------------------------------------

/** Every archived event matching `q`, newest first, read `limit` at a time. */
export async function everyArchived(s: Store, q: Omit<ArchiveEventQuery, 'limit' | 'cursor'> = {}, limit = 1000): Promise<ArchivedEvent[]> {
  const all: ArchivedEvent[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await s.archive.events({ ...q, limit, ...(cursor === undefined ? {} : { cursor }) });
    all.push(...page.items);
    if (page.nextCursor === null) return all;
    cursor = page.nextCursor;
  }
  throw new Error('events() never gave a last page');
}

/** Every session (of `serial`, when given), newest first, read `limit` at a time. */
export async function everySession(s: Store, serial?: string, limit = 1000): Promise<Session[]> {
  const all: Session[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await s.archive.sessions({ limit, ...(serial === undefined ? {} : { serial }), ...(cursor === undefined ? {} : { cursor }) });
    all.push(...page.items);
    if (page.nextCursor === null) return all;
    cursor = page.nextCursor;
  }
  throw new Error('sessions() never gave a last page');
}

/** `storedEvent(index)` with some of its Event fields replaced, read at `fetchedAt`. */
function eventWith(index: number, fields: Partial<Event>, fetchedAt: number = SAMPLE_FETCHED_AT): StoredEvent {
  return { ...storedEvent(index, sampleKey(index), fetchedAt), event: { ...sampleEvent(index), ...fields } };
}

/** The archived event `e` appended to `serial` first makes (its id given), with `extra` changed. */
function archivedFrom(serial: string, e: StoredEvent, id: number, extra: Partial<ArchivedEvent> = {}): ArchivedEvent {
  const { index: _index, ...fields } = e.event;
  return { id, serial, ...fields, received_at: iso(e.fetchedAt), source: 'call-up', has_waveform: false, false_trigger: false, notes: null, analysis_summary: null, ...extra };
}

/** `S1/3`: the suite's name of the unit, and the event's position in a fresh unit's numbering (by its key). */
function label(e: ArchivedEvent): string {
  const names: Record<string, string> = { [S1]: 'S1', [S2]: 'S2', [S1_LONGER]: 'S1_LONGER' };
  return `${names[e.serial] ?? e.serial}/${(keyFromHex(e.key) - sampleKey(0)) / 0x400}`;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

// --- the model-based test ----------------------------------------------------------------------

/**
 * Runs random operation sequences on a fresh store from `makeStore` and on a ReferenceStore, and
 * rejects (with the shrunk sequence) at the first observable difference. The suite's model test;
 * exported so test-kit can show it catches a store that breaks a rule.
 *
 * Archive ids and session ids are the stores' own, so answers are compared with each archived
 * event named by its identity and each session by the order it was recorded in (the order of
 * ids still shows in every listing); cursors are compared only in whether there is one.
 */
export async function checkAgainstModel(makeStore: () => Promise<Store>, opts: { runs?: number; seed?: number } = {}): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 50, size: 'max' }), async (ops) => {
      const real = await makeStore();
      const model = new ReferenceStore();
      const realSide = new RunSide();
      const modelSide = new RunSide();
      try {
        for (const [step, op] of ops.entries()) {
          // The batch an append sends depends on the list before the step, so both get the same one.
          const got = await outcome(() => runOp(real, op, model, realSide, step));
          const want = await outcome(() => runOp(model, op, model, modelSide, step));
          if (canonical(got) !== canonical(want)) {
            throw new Error(`step ${step} ${JSON.stringify(op)}: store gave ${show(got)}, model ${show(want)}`);
          }
        }
      } finally {
        await real.close();
      }
    }),
    // The divergence goes in the message itself, so every runner shows it.
    { numRuns: opts.runs ?? 100, includeErrorInReport: true, ...(opts.seed === undefined ? {} : { seed: opts.seed }) },
  );
}

/** What one store remembers between the steps of a run: its sessions' order, and the pages it is reading. */
class RunSide {
  /** Session id → the order it was recorded in (1, 2, …). */
  readonly sessionOrder = new Map<number, number>();
  events: { q: ArchiveEventQuery; cursor: string | null } | undefined;
  sessions: { q: { serial?: string; limit: number }; cursor: string | null } | undefined;
}

// Mostly one unit, so histories grow long enough to matter; the others check isolation.
const serialArb = fc.oneof({ arbitrary: fc.constant(S1), weight: 4 }, fc.constant(S2), fc.constant(S1_LONGER));
/** Where the fleet is concerned, the empty serial too (it makes no unit). */
const fleetSerialArb = fc.oneof({ arbitrary: serialArb, weight: 6 }, fc.constant(''));
const connKeyArb = fc.constantFrom(A, B);
const atArb = fc.integer({ min: T0, max: T0 + 1_000_000 });
/** A unit is refilled with the same keys at other times: the epoch says which filling an event is of. */
const epochArb = fc.nat(2);
/** An event of a unit's first indexes (where waveforms, reviews and picks land). */
const pickIndexArb = fc.nat(4);
const MISSING_ID = 987_654_321;

/** The timestamp of the event at `index` in a unit's `epoch`th filling (the third filling's have none). */
function epochTimestamp(index: number, epoch: number): string | null {
  return epoch === 2 ? null : `2026-0${4 + epoch}-09T07:00:${String(index).padStart(2, '0')}`;
}

const MODEL_PROJECTS = ['Quarry North', 'harbour BRIDGE', 'Quarry 5%_x'];
const MODEL_PVS = [0.2, 0.4, 0.6, 0.8];

/** The event at `index` of the `epoch`th filling; `variant` changes its peaks and project (a refresh). */
function modelEvent(index: number, epoch: number, variant: number, pending: boolean, fetchedAt: number): StoredEvent {
  const key = sampleKey(index);
  const base = index % 4 === 3 ? sampleMonitorLog(index, key) : pending ? pendingEvent(index, key) : sampleEvent(index, key);
  const event: Event = { ...base, timestamp: epochTimestamp(index, epoch) };
  if (base.record_type !== 'monitor_log') {
    event.peaks = { ...base.peaks, pvs_ips: MODEL_PVS[(index + variant) % MODEL_PVS.length]! };
    if (!pending) event.project = { ...base.project, project: MODEL_PROJECTS[(index + variant) % MODEL_PROJECTS.length]! };
  }
  return { event, key, geoRange: 'normal', fetchedAt };
}

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

type EventFilter = Omit<ArchiveEventQuery, 'limit' | 'cursor'>;

/** No filter or one, now and then two (more would mostly match nothing). */
const filterArb: fc.Arbitrary<EventFilter> = fc
  .array(
    fc.oneof(
      serialArb.map((serial): EventFilter => ({ serial })),
      fc.constantFrom('2026-04-09T07:00:02', '2026-05', '2026-05-09T07:00:01').map((from): EventFilter => ({ from })),
      fc.constantFrom('2026-04-09T07:00:01', '2026-04-09T07:00:99', '2026-05-09T07:00:03').map((to): EventFilter => ({ to })),
      fc.constantFrom(0, 0.4, 0.7).map((minPvsIps): EventFilter => ({ minPvsIps })),
      fc.constantFrom('quarry', 'BRIDGE', '5%', '_x', 'zzz').map((project): EventFilter => ({ project })),
      fc.constantFrom<RecordType>('waveform', 'monitor_log').map((recordType): EventFilter => ({ recordType })),
      fc.boolean().map((falseTrigger): EventFilter => ({ falseTrigger })),
    ),
    { maxLength: 2, size: 'xsmall' },
  )
  .map((parts) => Object.assign({}, ...parts) as EventFilter);

/** An archived event named by (serial, index, epoch); one that was never archived stands for an unknown id. */
const pickArb = fc.record({ serial: serialArb, index: pickIndexArb, epoch: epochArb });
type Pick = { serial: string; index: number; epoch: number };

type Op =
  | { op: 'putIdentity'; connKey: string; serial: string; at: number }
  | { op: 'getIdentity'; connKey: string }
  | { op: 'putInfo'; serial: string; variant: number; at: number }
  | { op: 'getInfo'; serial: string }
  | { op: 'markInfoDirty'; serial: string }
  | { op: 'putEventSync'; serial: string; variant: number; at: number }
  | { op: 'appendEvents'; serial: string; n: number; skew: number; sync: boolean; pending: boolean; epoch: number; variant: number; source: EventSource | null; at: number }
  | { op: 'pendingTexts'; serial: string }
  | { op: 'fillEventText'; serial: string; index: number; keyIndex: number; variant: number }
  | { op: 'getEvents'; serial: string }
  | { op: 'getEvent'; serial: string; index: number }
  | { op: 'getEventsJson'; serial: string }
  | { op: 'eventCount'; serial: string }
  | { op: 'getEventSync'; serial: string }
  | { op: 'dropEvents'; serial: string }
  | { op: 'putWaveform'; serial: string; index: number; epoch: number; seed: number; samples: number; doc: boolean; age: number }
  | { op: 'getWaveformDocument'; serial: string; index: number; epoch: number }
  | { op: 'getWaveform'; serial: string; index: number; epoch: number }
  | { op: 'putStatus'; serial: string; variant: number; at: number }
  | { op: 'getStatus'; serial: string }
  | { op: 'deleteStatus'; serial: string }
  | { op: 'clearConnection'; connKey: string }
  | { op: 'stats' }
  | { op: 'tryAcquire'; key: string; owner: number; now: number; ttl: number; takeOverFrom: number | null }
  | { op: 'renew'; key: string; owner: number; expiresAt: number }
  | { op: 'release'; key: string; owner: number }
  | { op: 'wanted'; key: string; owner: number }
  | { op: 'archiveEvents'; mode: 'all' | 'first' | 'next'; filter: EventFilter; limit: number }
  | { op: 'archiveEvent'; pick: Pick }
  | { op: 'archiveWaveform'; pick: Pick }
  | { op: 'review'; pick: Pick; falseTrigger: boolean | null; notes: string | null | 'leave' }
  | { op: 'setAnalysis'; pick: Pick; variant: number | null }
  | { op: 'units' }
  | { op: 'unit'; serial: string }
  | { op: 'recordSession'; serial: string; kind: Session['kind']; peer: string; at: number; quarters: number; ok: boolean }
  | { op: 'sessions'; mode: 'all' | 'first' | 'next'; serial: string | null; limit: number }
  | { op: 'archiveStats' }
  | { op: 'retain'; receivedBefore: number | null; waveformBytes: number | null }
  | { op: 'durable' };

/** Mostly continuing a listing, so writes land between its pages. */
const pageModeArb = fc.constantFrom<'all' | 'first' | 'next'>('all', 'first', 'next', 'next', 'next');

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('putIdentity' as const), connKey: connKeyArb, serial: fleetSerialArb, at: atArb }),
  fc.record({ op: fc.constant('getIdentity' as const), connKey: connKeyArb }),
  fc.record({ op: fc.constant('putInfo' as const), serial: serialArb, variant: fc.nat(3), at: atArb }),
  fc.record({ op: fc.constant('getInfo' as const), serial: serialArb }),
  fc.record({ op: fc.constant('markInfoDirty' as const), serial: serialArb }),
  fc.record({ op: fc.constant('putEventSync' as const), serial: serialArb, variant: fc.nat(3), at: atArb }),
  {
    arbitrary: fc.record({
      op: fc.constant('appendEvents' as const),
      serial: serialArb,
      n: fc.nat(4),
      skew: fc.constantFrom(0, 0, 0, 0, 1, -1),
      sync: fc.boolean(),
      pending: fc.boolean(),
      epoch: epochArb,
      variant: fc.nat(2),
      source: fc.constantFrom<EventSource | null>(null, null, 'call-up', 'call-home', 'import'),
      at: atArb,
    }),
    weight: 5,
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
  { arbitrary: fc.record({ op: fc.constant('dropEvents' as const), serial: serialArb }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constant('putWaveform' as const), serial: serialArb, index: pickIndexArb, epoch: epochArb, seed: fc.nat(5), samples: fc.nat(40), doc: fc.boolean(), age: fc.nat(3) }),
    weight: 3,
  },
  fc.record({ op: fc.constant('getWaveformDocument' as const), serial: serialArb, index: pickIndexArb, epoch: epochArb }),
  fc.record({ op: fc.constant('getWaveform' as const), serial: serialArb, index: pickIndexArb, epoch: epochArb }),
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
  { arbitrary: fc.record({ op: fc.constant('archiveEvents' as const), mode: pageModeArb, filter: filterArb, limit: fc.integer({ min: 1, max: 3 }) }), weight: 6 },
  fc.record({ op: fc.constant('archiveEvent' as const), pick: pickArb }),
  fc.record({ op: fc.constant('archiveWaveform' as const), pick: pickArb }),
  {
    arbitrary: fc.record({ op: fc.constant('review' as const), pick: pickArb, falseTrigger: fc.constantFrom(null, true, false), notes: fc.constantFrom<string | null | 'leave'>('leave', null, 'checked', 'Zoë ✓') }),
    weight: 2,
  },
  fc.record({ op: fc.constant('setAnalysis' as const), pick: pickArb, variant: fc.constantFrom(null, 0, 1) }),
  fc.record({ op: fc.constant('units' as const) }),
  fc.record({ op: fc.constant('unit' as const), serial: fleetSerialArb }),
  {
    arbitrary: fc.record({
      op: fc.constant('recordSession' as const),
      serial: fleetSerialArb,
      kind: fc.constantFrom<Session['kind']>('call-up', 'call-home'),
      peer: fc.constantFrom(A, B, 'tcp:198.51.100.4:40100'),
      at: atArb,
      quarters: fc.nat(400),
      ok: fc.boolean(),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('sessions' as const), mode: pageModeArb, serial: fc.option(fleetSerialArb, { nil: null }), limit: fc.integer({ min: 1, max: 3 }) }), weight: 2 },
  fc.record({ op: fc.constant('archiveStats' as const) }),
  {
    arbitrary: fc.record({
      op: fc.constant('retain' as const),
      receivedBefore: fc.option(atArb, { nil: null }),
      waveformBytes: fc.option(fc.constantFrom(0, 200, 600, 1500), { nil: null }),
    }),
    weight: 2,
  },
  fc.record({ op: fc.constant('durable' as const) }),
);

function leaseHolder(owner: number, expiresAt: number): LeaseHolder {
  return { ...LEASE_OWNERS[owner]!, expiresAt };
}

/** An archived event as the model test compares it: named by its identity instead of the store's id. */
function identified(e: ArchivedEvent): Omit<ArchivedEvent, 'id'> & { id: string } {
  return { ...e, id: `${e.serial}|${e.timestamp}|${e.key}` };
}

function ordered(side: RunSide, s: Session): Omit<Session, 'id'> & { id: number | string } {
  return { ...s, id: side.sessionOrder.get(s.id) ?? `unrecorded ${s.id}` };
}

/** The id `pick` names in this store (its own), or one it never gave. */
async function idOf(s: Store, pick: Pick): Promise<number> {
  const key = keyToHex(sampleKey(pick.index));
  const timestamp = epochTimestamp(pick.index, pick.epoch);
  const found = (await everyArchived(s, { serial: pick.serial })).find((e) => e.key === key && e.timestamp === timestamp);
  return found?.id ?? MISSING_ID;
}

/** Runs one operation; what it answers is normalised to plain data for comparison. */
async function runOp(s: Store, op: Op, model: ReferenceStore, side: RunSide, step: number): Promise<unknown> {
  const eventPage = (page: { items: ArchivedEvent[]; nextCursor: string | null }) => ({ items: page.items.map(identified), more: page.nextCursor !== null });
  const sessionPage = (page: { items: Session[]; nextCursor: string | null }) => ({ items: page.items.map((x) => ordered(side, x)), more: page.nextCursor !== null });
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
      const events = Array.from({ length: count }, (_, i) => modelEvent(from + i, op.epoch, op.variant, op.pending, op.at));
      const sync = op.sync ? sampleSync(from + op.n, { probedAt: op.at }) : undefined;
      return op.source === null ? s.appendEvents(op.serial, events, sync) : s.appendEvents(op.serial, events, sync, op.source);
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
      return s.dropEvents(op.serial);
    case 'putWaveform': {
      // Every put has its own fetchedAt (the step), in no particular order (the age).
      const fetchedAt = T0 + op.age * 100_000 + step;
      const w = sampleWaveform(sampleKey(op.index), epochTimestamp(op.index, op.epoch), op.samples, { seed: op.seed, index: op.seed, fetchedAt });
      return s.putWaveform(op.serial, op.doc ? { ...w, document: { index: op.seed, gzip: Uint8Array.from({ length: op.samples + 1 }, (_, i) => (i * op.seed) % 256) } } : w);
    }
    case 'getWaveform':
      return plainWaveform(await s.getWaveform(op.serial, sampleKey(op.index), epochTimestamp(op.index, op.epoch)));
    case 'getWaveformDocument': {
      const d = await s.getWaveformDocument(op.serial, sampleKey(op.index), epochTimestamp(op.index, op.epoch));
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
    case 'archiveEvents': {
      if (op.mode === 'all') {
        const pages = [];
        let cursor: string | undefined;
        do {
          const page = await s.archive.events({ ...op.filter, limit: op.limit, ...(cursor === undefined ? {} : { cursor }) });
          pages.push(eventPage(page));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined && pages.length < 500);
        return pages;
      }
      if (op.mode === 'next' && side.events?.cursor == null) return 'no page to continue';
      const q = op.mode === 'next' ? { ...side.events!.q, cursor: side.events!.cursor! } : { ...op.filter, limit: op.limit };
      const page = await s.archive.events(q);
      side.events = { q: { ...q, cursor: undefined }, cursor: page.nextCursor };
      return eventPage(page);
    }
    case 'archiveEvent': {
      const e = await s.archive.event(await idOf(s, op.pick));
      return e && identified(e);
    }
    case 'archiveWaveform':
      return plainWaveform(await s.archive.waveform(await idOf(s, op.pick)));
    case 'review': {
      const changes = { ...(op.falseTrigger === null ? {} : { falseTrigger: op.falseTrigger }), ...(op.notes === 'leave' ? {} : { notes: op.notes }) };
      const e = await s.archive.review(await idOf(s, op.pick), changes);
      return e && identified(e);
    }
    case 'setAnalysis':
      return s.archive.setAnalysis(await idOf(s, op.pick), op.variant === null ? null : sampleAnalysis({ compliance: op.variant ? 'fail' : 'pass', dominant_freq_hz: op.variant ? null : 18.5 }));
    case 'units':
      return (await s.archive.units()).map((u) => ({ ...u, last_event: u.last_event && identified(u.last_event), last_session: u.last_session && ordered(side, u.last_session) }));
    case 'unit': {
      const u = await s.archive.unit(op.serial);
      return u && { ...u, last_event: u.last_event && identified(u.last_event), last_session: u.last_session && ordered(side, u.last_session) };
    }
    case 'recordSession': {
      const session = await s.archive.recordSession(
        sampleSession(op.serial, { kind: op.kind, peer: op.peer, started_at: iso(op.at), duration_s: op.quarters / 4, events_new: op.quarters % 5, erased: op.ok && op.quarters % 2 === 0, result: op.ok ? 'ok' : 'TIMEOUT' }),
      );
      side.sessionOrder.set(session.id, side.sessionOrder.size + 1);
      return ordered(side, session);
    }
    case 'sessions': {
      const filter = op.serial === null ? {} : { serial: op.serial };
      if (op.mode === 'all') {
        const pages = [];
        let cursor: string | undefined;
        do {
          const page = await s.archive.sessions({ ...filter, limit: op.limit, ...(cursor === undefined ? {} : { cursor }) });
          pages.push(sessionPage(page));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined && pages.length < 500);
        return pages;
      }
      if (op.mode === 'next' && side.sessions?.cursor == null) return 'no page to continue';
      const q = op.mode === 'next' ? side.sessions!.q : { ...filter, limit: op.limit };
      const page = await s.archive.sessions(op.mode === 'next' ? { ...q, cursor: side.sessions!.cursor! } : q);
      side.sessions = { q, cursor: page.nextCursor };
      return sessionPage(page);
    }
    case 'archiveStats': {
      // Event bytes are the store's own measure: only whether there are any is compared.
      const { persistent: _persistent, event_bytes, ...counts } = await s.archive.stats();
      return { ...counts, holdsEvents: event_bytes > 0 };
    }
    case 'retain': {
      const r = await s.archive.retain({ ...(op.receivedBefore === null ? {} : { receivedBefore: op.receivedBefore }), ...(op.waveformBytes === null ? {} : { waveformBytes: op.waveformBytes }) });
      // Without events removed, the bytes are waveform bytes, whose measure is the contract's.
      return r.events === 0 ? r : { events: r.events, waveforms: r.waveforms, freed: r.bytes > 0 };
    }
    case 'durable':
      return s.archive.durable();
  }
}

function plainWaveform(w: StoredWaveform | undefined): unknown {
  return w && { ...w, channels: Object.fromEntries(Object.entries(w.channels).map(([k, v]) => [k, Array.from(v)])), document: w.document && { ...w.document, gzip: Array.from(w.document.gzip) } };
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
