/**
 * Units calling home, end to end over real TCP, through the call-home listener and the relay on a
 * SQLite file:
 *
 * - erase after download with the link dropped at sampled bytes of the call (evenly over the
 *   call, densely over its end, where the erase is): after every cut, each event the unit ever
 *   recorded is still on the unit or in the archive with its waveform — never an erase with an
 *   event missing — and the next call empties the unit with the archive holding everything;
 * - a hundred units calling at once: every call completes, every event archived once;
 * - a call-home and a call-up of the same unit never overlap: the office's requests to the unit,
 *   in order, are one session's and then the other's (each may first wake the unit and ask who
 *   it is: that is how it learns which unit's lock to take).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CallHomeServer, callHomeSettings, type AchGiven } from '@sfm/call-home';
import { RelayService } from '@sfm/core/cache';
import type { ClientOptions } from '@sfm/core/client';
import { HostFrameParser, SUB } from '@sfm/core/protocol';
import { TransportRegistry, type DeviceTarget, type Link, type TransportFactory } from '@sfm/core/transport';
import { SimulatedUnit, SimulatorServer, startSimulator, type BoundAddress } from '@sfm/simulator';
import { SqliteStore } from '@sfm/store-sqlite';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { FAST, UNIT_DEFAULTS } from '@sfm/test-support';

const dir = mkdtempSync(join(tmpdir(), 'sfm-call-home-it-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const CLIENT: ClientOptions = { ...FAST, frameTimeoutMs: 1000, chunkTimeoutMs: 1000, wakeWindowMs: 0 };

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

interface Office {
  relay: RelayService;
  server: CallHomeServer;
  address: BoundAddress;
}

/** A relay on a fresh SQLite file, reaching units over TCP, and its call-home listener. */
async function office(ach: AchGiven, opts: { transports?: TransportFactory; wrapLink?: (l: Link) => Link } = {}): Promise<Office> {
  const store = new SqliteStore(join(dir, `c${++n}`, 'cache.db'));
  const relay = new RelayService(new TransportRegistry().register(opts.transports ?? tcpTransportFactory), store, { client: CLIENT, textFillMs: 0 });
  const settings = callHomeSettings({ listen: '127.0.0.1:0', allow_peers: ['127.0.0.0/8'], accept: 'any', keep_captures: false, ...ach });
  const server = new CallHomeServer({ relay, settings: { ...settings, listen: settings.listen! }, client: CLIENT, wrapLink: opts.wrapLink });
  const address = await server.start();
  open.push(async () => {
    await server.stop();
    await relay.drain();
    await store.close();
  });
  return { relay, server, address };
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The unit calls the office and both ends are done with the call. */
async function call(o: Office, unit: SimulatorServer): Promise<void> {
  await unit.callHome(o.address);
  await until(() => o.server.active === 0, 'the office to finish the call');
}

/** An event's identity (keys are reused after an erase; the unit clock moves a minute per read). */
const idOf = (e: { key: string; timestamp: string | null }) => `${e.key}@${e.timestamp}`;

describe('erase after download, the link dropped at any byte of the call', () => {
  it('never erases an event the archive lacks; the next call empties the unit and the archive holds everything', async () => {
    const o = await office({ erase_after_download: true, waveforms: 'all' });
    let minute = 0;
    const unit = new SimulatedUnit({ ...UNIT_DEFAULTS, events: 0, now: () => new Date(Date.UTC(2026, 0, 1) + ++minute * 60_000) });
    const sim = new SimulatorServer(unit, { baud: 0, forwardDelayMs: 0 });
    open.push(() => sim.close());
    const recorded = new Set<string>();
    const record = () => recorded.add(idOf(unit.recordEvent()));

    /** What the archive holds: identities of events with their waveforms. */
    const archived = async () => new Set((await o.relay.store.archive.events({ limit: 5000 })).items.filter((e) => e.has_waveform).map(idOf));
    const expectNothingLost = async (label: string) => {
      const kept = await archived();
      const onUnit = new Set(unit.events.map(idOf));
      const lost = [...recorded].filter((id) => !onUnit.has(id) && !kept.has(id));
      expect(lost, label).toEqual([]);
    };

    // A clean call of one new event: how many bytes the unit sends in such a call.
    record();
    let before = sim.stats.bytesOut;
    await call(o, sim);
    const total = sim.stats.bytesOut - before;
    expect(unit.events).toEqual([]);
    await expectNothingLost('the clean call');

    // Every 1/24 of the call, and every 12 bytes of its last 360 (the pre-erase check, A3, 1C, 06, A2, 06).
    const cuts = new Set<number>();
    for (let k = 1; k < 24; k++) cuts.add(Math.round((total * k) / 24));
    for (let at = total - 360; at < total; at += 12) cuts.add(at);
    const results: Record<string, number> = {};
    for (const at of [...cuts].sort((a, b) => a - b)) {
      record();
      sim.dropAfterBytes(at);
      before = sim.stats.bytesOut;
      await call(o, sim);
      sim.clearFaults();
      const [session] = (await o.relay.store.archive.sessions({ limit: 1 })).items;
      results[session?.result ?? 'no session'] = (results[session?.result ?? 'no session'] ?? 0) + 1;
      await expectNothingLost(`cut after ${at} of ${total} bytes`);
      // The next call finishes the job.
      await call(o, sim);
      expect(unit.events, `after the cut at ${at}`).toEqual([]);
      await expectNothingLost(`the call after the cut at ${at}`);
    }
    expect(await archived()).toEqual(recorded);
    // The cuts struck all through the call: some before the unit said who it is, most in the session.
    expect(results.DEVICE_UNREACHABLE).toBeGreaterThan(cuts.size / 2);
  });
});

describe('an event recorded during the call', () => {
  it('is not erased unread: the unit is left as it is, and its next call archives the event and erases', async () => {
    let unit: SimulatedUnit | undefined;
    let recordedDuring: string | undefined;
    // The unit records an event as the office starts its first download (after the unit's list was read).
    const recordOnDownload = (link: Link): Link => {
      const parser = new HostFrameParser();
      return {
        get isOpen() {
          return link.isOpen;
        },
        setReceiver: (r) => link.setReceiver(r),
        close: () => link.close(),
        write: (bytes) => {
          if (!recordedDuring && parser.push(bytes).some((i) => i.kind === 'frame' && i.frame.sub === SUB.BULK_WAVEFORM)) recordedDuring = idOf(unit!.recordEvent());
          return link.write(bytes);
        },
      };
    };
    const o = await office({ erase_after_download: true }, { wrapLink: recordOnDownload });
    unit = new SimulatedUnit({ ...UNIT_DEFAULTS, events: 2 });
    const sim = new SimulatorServer(unit, { baud: 0, forwardDelayMs: 0 });
    open.push(() => sim.close());
    const before = unit.events.map(idOf);
    await call(o, sim);
    expect(recordedDuring).toBeDefined();
    expect(unit.events.map(idOf)).toEqual([...before, recordedDuring]);
    expect((await o.relay.store.archive.sessions({ limit: 1 })).items[0]).toMatchObject({ result: 'ok', erased: false, events_new: 2 });
    await call(o, sim);
    expect(unit.events).toEqual([]);
    expect((await o.relay.store.archive.sessions({ limit: 1 })).items[0]).toMatchObject({ result: 'ok', erased: true, events_new: 1 });
    expect(new Set((await o.relay.store.archive.events({ limit: 10 })).items.filter((e) => e.has_waveform).map(idOf))).toEqual(new Set([...before, recordedDuring]));
  });
});

describe('a hundred units calling at once', () => {
  it('every call completes and every event is archived once', async () => {
    const o = await office({ waveforms: 'all', max_calls: 256 });
    const units = Array.from({ length: 100 }, (_, i) => new SimulatorServer(new SimulatedUnit({ ...UNIT_DEFAULTS, serial: `BE${20000 + i}`, events: 2, seed: i + 1 }), { baud: 0, forwardDelayMs: 0 }));
    open.push(async () => void (await Promise.all(units.map((u) => u.close()))));
    const results = await Promise.all(units.map((u) => u.callHome(o.address)));
    expect(results.every((r) => r.connected)).toBe(true);
    await until(() => o.server.active === 0, 'the office to finish every call');
    const sessions = (await o.relay.store.archive.sessions({ limit: 500 })).items;
    expect(sessions).toHaveLength(100);
    expect(sessions.filter((s) => s.result === 'ok' && s.kind === 'call-home' && s.events_new === 2 && s.waveforms_new === 2)).toHaveLength(100);
    const events = (await o.relay.store.archive.events({ limit: 5000 })).items;
    expect(events).toHaveLength(200);
    expect(new Set(events.map((e) => `${e.serial}/${e.key}`)).size).toBe(200);
    expect(events.every((e) => e.source === 'call-home' && e.has_waveform)).toBe(true);
  });
});

describe('a call-home and a call-up of the same unit', () => {
  /** The office's requests to the unit in order, by session: 'up' (call-up) or 'home'. */
  const timeline: { who: 'up' | 'home'; sub: number }[] = [];
  afterEach(() => void (timeline.length = 0));
  const tap = (link: Link, who: 'up' | 'home'): Link => {
    const parser = new HostFrameParser();
    return {
      get isOpen() {
        return link.isOpen;
      },
      setReceiver: (r) => link.setReceiver(r),
      close: () => link.close(),
      write: (bytes) => {
        for (const item of parser.push(bytes)) if (item.kind === 'frame') timeline.push({ who, sub: item.frame.sub });
        return link.write(bytes);
      },
    };
  };
  const tappedTcp: TransportFactory = {
    kind: 'tcp',
    create: (target) => {
      const inner = tcpTransportFactory.create(target);
      return { target, open: async (o) => tap(await inner.open(o), 'up') };
    },
  };

  /**
   * Each session's requests after its prelude (waking the unit and asking its serial, before it
   * knows which lock to take) come in one run: the two sessions' work never interleaves.
   */
  function expectNoOverlap(): void {
    const work = (who: 'up' | 'home') => {
      const mine = timeline.map((t, i) => ({ ...t, i })).filter((t) => t.who === who);
      const serial = mine.findIndex((t) => t.sub === SUB.SERIAL_NUMBER);
      return mine.slice(serial + 1).map((t) => t.i);
    };
    const [up, home] = [work('up'), work('home')];
    expect(up.length).toBeGreaterThan(0);
    expect(home.length).toBeGreaterThan(0);
    const [first, second] = up[0]! < home[0]! ? [up, home] : [home, up];
    expect(first.at(-1)!, JSON.stringify(timeline.map((t) => `${t.who}:${t.sub.toString(16)}`))).toBeLessThan(second[0]!);
  }

  async function setUp() {
    const o = await office({ waveforms: 'all' }, { transports: tappedTcp, wrapLink: (l) => tap(l, 'home') });
    const sim = await startSimulator({ ...UNIT_DEFAULTS, events: 3, host: '127.0.0.1', port: 0 });
    open.push(() => sim.close());
    const target: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
    return { o, sim, target };
  }

  it('a call home while a call-up downloads waits for it (and the reverse)', async () => {
    const { o, sim, target } = await setUp();
    // The call-up first: a cold waveform read (the list, then the download) with the unit calling meanwhile.
    const up = o.relay.waveform(target, 2);
    await until(() => timeline.some((t) => t.who === 'up' && t.sub === SUB.WAVEFORM_HEADER), 'the call-up to list events');
    const home = call(o, sim.server);
    await up;
    await home;
    expectNoOverlap();
    const sessions = (await o.relay.store.archive.sessions({ limit: 10 })).items;
    expect(sessions.map((s) => [s.kind, s.result]).sort()).toEqual([['call-home', 'ok'], ['call-up', 'ok']]);

    // The call home first (the call-up's unit is known at its address: it locks before it dials).
    timeline.length = 0;
    sim.unit.recordEvent();
    const home2 = call(o, sim.server);
    await until(() => timeline.some((t) => t.who === 'home' && t.sub === SUB.WAVEFORM_HEADER), 'the call-home to read the new event');
    const up2 = o.relay.waveform(target, 0, { force: true });
    await Promise.all([home2, up2]);
    expectNoOverlap();
  });
});
