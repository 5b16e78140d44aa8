/**
 * Every cache policy rule through the relay service against the emulated unit, on both stores:
 * hits, misses, force, dirtying, TTL (fake clock), erase and key reuse, a swapped unit, a link
 * that drops mid-waveform, single-flight, parallel units, the bounded queue.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayService, type Store } from '@sfm/core/cache';
import { DeviceBusy, DeviceUnreachable } from '@sfm/core/client';
import { TransportRegistry, type DeviceTarget } from '@sfm/core/transport';
import { startSimulator, type RunningSimulator, type StartSimulatorOptions } from '@sfm/simulator';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { MemoryStore } from '@sfm/store-memory';
import { SqliteStore } from '@sfm/store-sqlite';
import { TestClock } from '@sfm/test-support';
import { UNIT_DEFAULTS, headersOnly } from '@sfm/test-support';

const transports = new TransportRegistry().register(tcpTransportFactory);
const CLIENT = { frameTimeoutMs: 1000, chunkTimeoutMs: 1000, wakeWindowMs: 0, monitorPollMs: 5, monitorStartTimeoutMs: 1000 };

const stores: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'sfm-relay-')), 'cache.db'))],
];

describe.each(stores)('relay service on the %s store', (_name, makeStore) => {
  let sim: RunningSimulator;
  let store: Store;
  let clock: TestClock;
  let relay: RelayService;
  let target: DeviceTarget;

  async function startUnit(opts: StartSimulatorOptions = {}, port = 0): Promise<RunningSimulator> {
    return startSimulator({ ...UNIT_DEFAULTS, events: 4, monitorSettleMs: 0, ...opts, host: '127.0.0.1', port });
  }
  const frames = () => sim.server.stats.framesReceived;
  const traffic = () => sim.server.stats.bytesIn + sim.server.stats.bytesOut;

  beforeEach(async () => {
    sim = await startUnit();
    store = makeStore();
    clock = TestClock.frozen();
    relay = new RelayService(transports, store, { client: CLIENT, clock });
    target = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
  });
  afterEach(async () => {
    await relay.idle();
    await store.close();
    await sim.close();
  });

  it('device info: miss, then hits with no device I/O, force refreshes, a config write dirties it', async () => {
    const first = await relay.info(target);
    expect(first.cache).toBe('miss');
    expect(first.value.serial).toBe('BE18189');
    const before = traffic();
    clock.advance(5000);
    const hit = await relay.info(target);
    expect([hit.cache, hit.ageS, traffic() - before]).toEqual(['hit', 5, 0]);
    expect(hit.value).toEqual(first.value);
    expect((await relay.info(target, { force: true })).cache).toBe('refresh');
    await relay.writeConfig(target, { trigger_level_ips: 0.4 });
    const after = await relay.info(target);
    expect(after.cache).toBe('refresh');
    expect(after.value.compliance.trigger_level_ips).toBe(0.4);
    expect((await relay.info(target)).cache).toBe('hit');
  });

  it('monitor status: TTL 30 s on the injected clock; start/stop drop it', async () => {
    expect((await relay.status(target)).cache).toBe('miss');
    clock.advance(29_000);
    expect((await relay.status(target)).cache).toBe('hit');
    clock.advance(2_000);
    expect((await relay.status(target)).cache).toBe('refresh');
    await relay.startMonitoring(target);
    const s = await relay.status(target);
    expect([s.cache, s.value.is_monitoring]).toEqual(['miss', true]);
    await relay.stopMonitoring(target);
    const s2 = await relay.status(target);
    expect([s2.cache, s2.value.is_monitoring]).toEqual(['miss', false]);
  });

  it('events: cold sync, then a probe of 5 round trips whatever the count, then only the new events', async () => {
    const cold = await relay.events(target);
    expect(cold.cache).toBe('miss');
    expect(cold.value).toEqual({ serial: 'BE18189', count: 4, events: headersOnly(sim.unit.events) });
    await relay.idle(); // the project text is read after the answer
    sim.server.resetStats();
    const again = await relay.events(target);
    expect(again.cache).toBe('hit');
    // session start (POLL ×2), serial, storage range, lifetime counter
    expect(sim.server.stats.roundTrips).toBe(5);
    expect(JSON.parse(again.json())).toEqual({ ...cold.value, events: sim.unit.events });

    sim.unit.recordEvent();
    sim.unit.recordEvent();
    sim.server.resetStats();
    const grown = await relay.events(target);
    expect(grown.cache).toBe('refresh');
    expect(grown.value.events).toEqual([...sim.unit.events.slice(0, 4), ...headersOnly(sim.unit.events.slice(4))]);
    // Probe (5) + anchor 0A (2) + 1F, then per new event its sequence: nothing for the old ones.
    expect(sim.server.stats.framesBySub['0C']).toBe(2);
  });

  it('a sync says how far it has got: estimated from the storage range cold, exact from the counter after a complete sync', async () => {
    const seen: unknown[] = [];
    const onSyncProgress = (p: unknown) => seen.push(p);
    await relay.events(target, { onSyncProgress });
    // Nothing tells before the first event; its key and the range tell after the second (equal-sized events).
    expect(seen).toEqual([
      { done: 0, total: null, estimated: false },
      { done: 1, total: null, estimated: false },
      { done: 2, total: 4, estimated: true },
      { done: 3, total: 4, estimated: true },
      { done: 4, total: 4, estimated: true },
      { done: 4, total: 4, estimated: false },
    ]);
    seen.length = 0;
    await relay.events(target, { onSyncProgress });
    expect(seen).toEqual([]); // nothing new: nothing read
    sim.unit.recordEvent();
    sim.unit.recordEvent();
    await relay.events(target, { onSyncProgress });
    expect(seen).toEqual([4, 5, 6, 6].map((done) => ({ done, total: 6, estimated: false })));
    // One event by index reads no further than it.
    const other = new RelayService(transports, makeStore(), { client: CLIENT, clock });
    seen.length = 0;
    await other.event(target, 1, { onSyncProgress });
    expect(seen).toEqual([{ done: 0, total: 2, estimated: false }, { done: 1, total: 2, estimated: false }, { done: 2, total: 2, estimated: false }]);
    await other.idle();
  });

  it('erase archives every event on the unit, with its text, before erasing, and says how many it erased', async () => {
    await relay.events(target);
    await relay.idle(); // the project text is read after the answer
    const unitEvents = [...sim.unit.events];
    sim.unit.recordEvent(); // not yet in the cached list
    const added = sim.unit.events.at(-1)!;
    sim.server.resetStats();
    let counted: number | undefined;
    const range = await relay.erase(target, { onCount: (n) => (counted = n) });
    expect([counted, range.is_empty, sim.unit.events.length]).toEqual([5, true, 0]);
    expect(sim.server.stats.connectionsTotal).toBe(1);
    // Only the event the cache did not hold was read: its header, then its text (the 5A prelude's 0C).
    expect(sim.server.stats.framesBySub['0C']).toBe(2);
    const archived = (await store.archive.events({ serial: 'BE18189', limit: 10 })).items;
    expect(archived.map((e) => `${e.key}@${e.timestamp}`).sort()).toEqual([...unitEvents, added].map((e) => `${e.key}@${e.timestamp}`).sort());
    expect(archived.every((e) => !e.project_pending)).toBe(true);
    const { index: _live, ...fields } = added;
    expect(archived.find((e) => e.key === added.key)).toMatchObject(fields);
  });

  it('an event the unit records while its memory is archived is read before the erase, never erased unread', async () => {
    await relay.events(target);
    await relay.idle();
    // The unit records while the archive makes its copy durable: once, then again on every attempt.
    const durable = store.archive.durable.bind(store.archive);
    let recordings = 1;
    store.archive.durable = async () => {
      await durable();
      if (recordings-- > 0) sim.unit.recordEvent();
    };
    const range = await relay.erase(target);
    expect([range.is_empty, sim.unit.events.length]).toEqual([true, 0]);
    const archived = (await store.archive.events({ serial: 'BE18189', limit: 10 })).items;
    expect(archived).toHaveLength(5);
    expect(archived.every((e) => !e.project_pending)).toBe(true);

    // A unit that keeps recording: nothing erased after three attempts, DEVICE_BUSY saying why.
    sim.unit.recordEvent();
    store.archive.durable = async () => {
      await durable();
      sim.unit.recordEvent();
    };
    await expect(relay.erase(target)).rejects.toMatchObject({ code: 'DEVICE_BUSY', message: expect.stringMatching(/recorded events while sfm archived its memory, 3 times: nothing was erased/) });
    expect(sim.unit.events).toHaveLength(4);
    store.archive.durable = durable;
  });

  it('a default max_age for the list (events_max_age_s) skips the probe while it holds; a request\'s own max_age or force wins', async () => {
    const lenient = new RelayService(transports, store, { client: CLIENT, clock, eventsMaxAgeS: 60, textFillMs: 0 });
    expect((await lenient.events(target)).cache).toBe('miss');
    clock.advance(30_000);
    const before = traffic();
    const hit = await lenient.events(target);
    expect([hit.cache, hit.ageS, traffic()]).toEqual(['hit', 30, before]);
    expect((await lenient.events(target, { maxAgeS: 10 })).ageS).toBe(0); // probed: its own max_age
    clock.advance(61_000);
    expect((await lenient.events(target)).ageS).toBe(0); // past the default: probed
    const probedAt = traffic();
    expect((await lenient.events(target, { force: true })).cache).toBe('refresh');
    expect(traffic()).toBeGreaterThan(probedAt);
    await lenient.idle();
  });

  it('one event by index is served from the events cache; beyond the list → NOT_FOUND', async () => {
    await relay.events(target);
    await relay.idle();
    const before = traffic();
    const e = await relay.event(target, 2);
    expect([e.cache, e.value]).toEqual(['hit', sim.unit.events[2]]);
    expect(traffic()).toBe(before);
    await expect(relay.event(target, 99)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('waveform: downloaded once, then served with zero device bytes', async () => {
    const w = await relay.waveform(target, 1);
    expect(w.cache).toBe('miss');
    expect(w.value.key).toBe(sim.unit.events[1]!.key);
    const before = traffic();
    const hit = await relay.waveform(target, 1);
    expect(hit.cache).toBe('hit');
    expect(traffic()).toBe(before);
    expect(hit.json()).toBe(w.json());
    expect((await relay.waveform(target, 1, { force: true })).cache).toBe('refresh');
  });

  it('a waveform is kept with its JSON document; one kept without it is rebuilt from its samples, the same bytes', async () => {
    const w = await relay.waveform(target, 1);
    const key = parseInt(w.value.key, 16);
    const stored = (await store.getWaveform('BE18189', key, w.value.timestamp))!;
    expect(gunzipSync(stored.document!.gzip).toString()).toBe(w.json());
    expect(stored.document!.index).toBe(1);
    // A fresh process reads the document, no device I/O
    const before = traffic();
    const fresh = new RelayService(transports, store, { client: CLIENT, clock });
    expect((await fresh.waveform(target, 1)).json()).toBe(w.json());
    const { document: _dropped, ...withoutDocument } = stored;
    await store.putWaveform('BE18189', withoutDocument);
    const older = new RelayService(transports, store, { client: CLIENT, clock });
    const rebuilt = await older.waveform(target, 1);
    expect([rebuilt.cache, rebuilt.json()]).toEqual(['hit', w.json()]);
    expect(traffic()).toBe(before);
  });

  it('a forced events refresh keeps the cached waveforms (they are identity-checked)', async () => {
    const w = await relay.waveform(target, 1);
    expect((await relay.events(target, { force: true })).cache).toBe('refresh');
    const before = traffic();
    const again = await relay.waveform(target, 1);
    expect([again.cache, traffic() - before]).toEqual(['hit', 0]);
    expect(again.json()).toBe(w.json());
  });

  it('Age of a waveform hit counts from its last confirmation: its download, or a later probe that found its event unchanged', async () => {
    await relay.waveform(target, 1);
    clock.advance(7_000);
    expect((await relay.waveform(target, 1)).ageS).toBe(7);
    await relay.events(target);
    const fromHot = await relay.waveform(target, 1);
    expect([fromHot.cache, fromHot.ageS]).toEqual(['hit', 0]);
    clock.advance(3_000);
    expect((await relay.event(target, 1)).ageS).toBe(3);
    expect((await relay.waveform(target, 1)).ageS).toBe(3);
  });

  it('erase through sfm drops events and waveforms; new events reuse the keys, never the old waveform', async () => {
    const old = await relay.waveform(target, 0);
    await relay.erase(target);
    expect((await relay.events(target)).value.count).toBe(0);
    sim.unit.recordEvent();
    const list = await relay.events(target);
    expect(list.value.events[0]!.key).toBe(old.value.key);
    const fresh = await relay.waveform(target, 0);
    expect(fresh.cache).toBe('miss');
    expect(fresh.value.timestamp).not.toBe(old.value.timestamp);
    expect(fresh.value.channels[0]!.samples).not.toEqual(old.value.channels[0]!.samples);
  });

  it('an erase done elsewhere (not through sfm) is detected by the probe, even when the unit refilled past the old last key', async () => {
    const old = await relay.waveform(target, 0);
    await relay.events(target);
    await relay.idle();
    sim.unit.erase();
    for (let i = 0; i < 6; i++) sim.unit.recordEvent({ at: new Date(Date.UTC(2026, 10, 25, i)) });
    const list = await relay.events(target);
    expect(list.cache).toBe('refresh');
    expect(list.value.events).toEqual(headersOnly(sim.unit.events));
    const w = await relay.waveform(target, 0);
    expect(w.cache).toBe('miss');
    expect(w.value.timestamp).not.toBe(old.value.timestamp);
  });

  it('another unit answering at the same address never gets the first unit\'s cache', async () => {
    await relay.events(target);
    await relay.info(target);
    const port = sim.address.port;
    await sim.close();
    sim = await startUnit({ serial: 'BE99999', events: 2, seed: 7 }, port);
    const list = await relay.events(target);
    expect(list.value.serial).toBe('BE99999');
    expect(list.value.events).toEqual(headersOnly(sim.unit.events));
    const info = await relay.info(target);
    expect([info.cache, info.value.serial]).toEqual(['miss', 'BE99999']);
  });

  it('a link that drops mid-waveform caches nothing; the next call works', async () => {
    await relay.events(target);
    await relay.idle(); // the project text is read after the answer: the drop is for the waveform's session
    sim.server.dropAfterBytes(1500);
    await expect(relay.waveform(target, 0)).rejects.toBeInstanceOf(DeviceUnreachable);
    expect((await store.stats()).waveform.entries).toBe(0);
    sim.server.clearFaults();
    expect((await relay.waveform(target, 0)).cache).toBe('miss');
  });

  it('50 concurrent identical requests share one device transaction', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => relay.events(target)));
    expect(sim.server.stats.connectionsTotal).toBe(1);
    expect(new Set(results.map((r) => r.json())).size).toBe(1);
  });

  it('requests to one unit never overlap; two units run in parallel', async () => {
    const other = await startUnit({ serial: 'BE22222', forwardDelayMs: 20 });
    await sim.close();
    sim = await startUnit({ forwardDelayMs: 20 });
    target = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
    const otherTarget: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: other.address.port };
    let overlapped = false;
    const watch = setInterval(() => {
      if (sim.server.stats.sessionsActive > 0 && other.server.stats.sessionsActive > 0) overlapped = true;
    }, 2);
    try {
      await Promise.all([relay.info(target), relay.status(target), relay.info(otherTarget), relay.status(otherTarget)]);
    } finally {
      clearInterval(watch);
      await other.close();
    }
    expect(overlapped).toBe(true);
    expect(sim.server.stats.maxConcurrentSessions).toBe(1);
  });

  it('a full queue answers DEVICE_BUSY at once; a long wait answers DEVICE_BUSY', async () => {
    const busy = new RelayService(transports, store, { client: CLIENT, clock, queue: { maxQueued: 1, maxWaitMs: 10_000 } });
    sim.server.stall(300);
    const results = await Promise.allSettled([busy.status(target, { force: true }), busy.info(target, { force: true }), busy.storageRange(target)]);
    expect(results.map((r) => r.status)).toContain('rejected');
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toContainEqual(expect.any(DeviceBusy));
    await busy.idle();
    sim.server.clearFaults();
    const impatient = new RelayService(transports, store, { client: CLIENT, clock, queue: { maxQueued: 5, maxWaitMs: 30 } });
    sim.server.stall(400);
    const r = await Promise.allSettled([impatient.status(target, { force: true }), impatient.info(target, { force: true })]);
    expect((r[1] as PromiseRejectedResult).reason).toBeInstanceOf(DeviceBusy);
    await impatient.idle();
  });

  it('cache stats count entries, bytes, hits, misses and refreshes per kind; clearing a unit empties it', async () => {
    await relay.events(target);
    await relay.events(target);
    await relay.waveform(target, 0);
    await relay.status(target);
    const s = await relay.cacheStats();
    expect(s.kinds.events).toMatchObject({ entries: 4, misses: 1, hits: 1 });
    expect(s.kinds.events.bytes).toBeGreaterThan(0);
    expect(s.kinds.waveform).toMatchObject({ entries: 1, misses: 1 });
    const cleared = await relay.clearDevice(target);
    // The cache's view goes; the archive keeps the events and the waveform.
    expect(cleared).toMatchObject({ events: 4, waveform: 0, monitor_status: 1 });
    const after = await relay.cacheStats();
    expect([after.kinds.events.entries, after.kinds.waveform.entries, after.archive.events, after.archive.waveforms]).toEqual([0, 1, 4, 1]);
    expect((await relay.events(target)).cache).toBe('miss');
  });

  describe('headers first, the project text after', () => {
    /** The unit's round trips since the last reset. */
    const rts = () => sim.server.stats.roundTrips;

    it('answers once the headers are in (≤ 5 round trips an event), then reads the text in the same session; the list then equals the vendor sequence\'s', async () => {
      await sim.close();
      sim = await startUnit({ events: 12 });
      target = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
      const list = await relay.events(target);
      const atAnswer = rts();
      expect(list.value.events).toEqual(headersOnly(sim.unit.events));
      // session start (2), the probe (3), 1E, per event 0A + 0C + 1F (+ the end-of-list 1F)
      expect((atAnswer - 5) / 12).toBeLessThanOrEqual(5);
      await relay.idle();
      expect(sim.server.stats.connectionsTotal).toBe(1); // the text came in the same session
      expect(rts() - atAnswer).toBeGreaterThanOrEqual(12 * 10);
      const filled = await relay.events(target, { maxAgeS: 60 });
      expect(filled.value.events).toEqual(sim.unit.events);

      const vendorStore = makeStore();
      const vendor = new RelayService(transports, vendorStore, { client: CLIENT, clock, eventReads: 'vendor' });
      try {
        expect((await vendor.events(target)).value).toEqual(filled.value);
        expect(await vendorStore.pendingTexts('BE18189')).toEqual([]);
      } finally {
        await vendor.idle();
        await vendorStore.close();
      }
    });

    it('the text reading yields to a request that waits: it stops, the next session goes on', async () => {
      const [list, status] = await Promise.all([relay.events(target), relay.status(target, { force: true })]);
      expect(status.cache).toBe('refresh');
      expect(list.value.events).toEqual(headersOnly(sim.unit.events));
      // The status request waited from the start: no text was read before it ran.
      expect(await store.pendingTexts('BE18189')).toHaveLength(4);
      await relay.idle();
      expect(await store.pendingTexts('BE18189')).toHaveLength(4);
      // The next list session reads it (nobody waits then).
      await relay.events(target);
      await relay.idle();
      expect(await store.pendingTexts('BE18189')).toEqual([]);
      expect((await relay.events(target, { maxAgeS: 60 })).value.events).toEqual(sim.unit.events);
    });

    it('with no time for text after answering, it is read only when asked (waitForText) or with a waveform', async () => {
      const lazy = new RelayService(transports, store, { client: CLIENT, clock, textFillMs: 0 });
      await lazy.events(target);
      await lazy.idle();
      expect(await store.pendingTexts('BE18189')).toHaveLength(4);
      // A waveform download reads its event's text on the way: stored with it, no extra reads.
      await lazy.waveform(target, 2);
      expect((await store.pendingTexts('BE18189')).map((p) => p.index)).toEqual([0, 1, 3]);
      expect((await lazy.event(target, 2, { maxAgeS: 60 })).value).toEqual(sim.unit.events[2]);
      // One event asked with its text reads that one only.
      sim.server.resetStats();
      expect((await lazy.event(target, 1, { waitForText: true })).value).toEqual(sim.unit.events[1]);
      expect(sim.server.stats.framesBySub['5A']).toBe(4); // probe, two pages, end: one event's
      expect((await store.pendingTexts('BE18189')).map((p) => p.index)).toEqual([0, 3]);
      const progress: number[] = [];
      const all = await lazy.events(target, { waitForText: true, onTextProgress: (p) => progress.push(p.done) });
      expect(all.value.events).toEqual(sim.unit.events);
      expect(progress).toEqual([0, 1, 2]);
      await lazy.idle();
    });

    it('shutting down stops the text reading at its next step; the rest stays pending', async () => {
      await relay.events(target);
      await relay.drain();
      const left = await store.pendingTexts('BE18189');
      expect(left.length).toBeGreaterThanOrEqual(3);
      expect((await store.getEvents('BE18189')).map((e) => e.event)).toEqual([...sim.unit.events.slice(0, 4 - left.length), ...headersOnly(sim.unit.events.slice(4 - left.length))]);
    });
  });
});

describe('the SQLite cache survives a restart', () => {
  it('a new process (new store on the same file) serves hits without asking the unit', async () => {
    const sim = await startSimulator({ ...UNIT_DEFAULTS, host: '127.0.0.1', port: 0 });
    const file = join(mkdtempSync(join(tmpdir(), 'sfm-restart-')), 'cache.db');
    const target: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
    try {
      const a = new RelayService(transports, new SqliteStore(file), { client: CLIENT });
      await a.info(target);
      const w = await a.waveform(target, 0);
      await a.store.close();
      const before = sim.server.stats.bytesOut;
      const b = new RelayService(transports, new SqliteStore(file), { client: CLIENT });
      expect((await b.info(target)).cache).toBe('hit');
      const again = await b.waveform(target, 0);
      expect([again.cache, again.json()]).toEqual(['hit', w.json()]);
      expect(sim.server.stats.bytesOut).toBe(before);
      await b.store.close();
    } finally {
      await sim.close();
    }
  });
});
