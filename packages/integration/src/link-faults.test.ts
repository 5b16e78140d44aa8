/**
 * Link faults for every device operation, through the relay on the SQLite store:
 *
 * - the link dropped at every k-th byte of a waveform download (with the events cached, and from
 *   a cold cache where the same request syncs the events first);
 * - for events sync, info, status, waveform, config write, call-home write, erase and monitor
 *   start/stop: a corrupt reply (a read is retried and succeeds; a write is a PROTOCOL_ERROR and
 *   is never sent again), a stall past the timeout, garbage before a reply, a unit that reboots
 *   mid-session (boot banner, session state lost) and modem text in the middle.
 *
 * Every fault strikes just before a chosen request leaves (a tap on the link counts requests per
 * SUB). After each one: the right code, no partial cache entry (every cached event, waveform, info
 * and status is the unit's own, a sync state only with the whole list), and the next request
 * works and returns the unit's data.
 */
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayService, type RelayOptions } from '@sfm/core/cache';
import { DeviceError, DeviceUnreachable, MiniMateClient, type ClientOptions } from '@sfm/core/client';
import { HostFrameParser, SUB } from '@sfm/core/protocol';
import type { Waveform } from '@sfm/core';
import { buildWaveform } from '@sfm/core/service';
import { TransportRegistry, connectionKey, type DeviceTarget, type Link, type TransportFactory } from '@sfm/core/transport';
import { startSimulator, type RunningSimulator, type StoredEvent as UnitRecord } from '@sfm/simulator';
import { TcpTransport, tcpTransportFactory } from '@sfm/transport-tcp';
import { SqliteStore } from '@sfm/store-sqlite';
import { UNIT_DEFAULTS, headersOnly } from '@sfm/test-support';

const TIMEOUT_MS = 200;
/** What a timeout may take beyond its own time (closing the session, a loaded machine). */
const MARGIN_MS = 250;
const CLIENT: ClientOptions = { frameTimeoutMs: TIMEOUT_MS, chunkTimeoutMs: TIMEOUT_MS, wakeWindowMs: 0, monitorPollMs: 5, monitorStartTimeoutMs: 1000 };
const SERIAL = 'BE18189';

const dir = mkdtempSync(join(tmpdir(), 'sfm-link-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let dbs = 0;

/** What the tests saw, printed with SFM_FAULT_SUMMARY=1. */
const tally = { drops: 0, dropCodes: {} as Record<string, number>, cases: 0, outcomes: {} as Record<string, number>, stallMs: [] as number[] };
const count = (bag: Record<string, number>, k: string) => void (bag[k] = (bag[k] ?? 0) + 1);
afterAll(() => {
  if (process.env.SFM_FAULT_SUMMARY) console.info(`link faults: ${JSON.stringify(tally)}`);
});

// --- the tap: strikes a fault just before the chosen request leaves ------------------------------

interface At {
  sub: number;
  /** Which request with that SUB, counted from 1 since the tap was armed. */
  nth?: number;
}

class Tap {
  /** Request SUBs sent since the tap was armed, in order. */
  readonly sent: number[] = [];
  private plan: { at: Required<At>; strike: () => void } | null = null;
  /** performance.now() when the fault struck. */
  struckAt: number | null = null;
  /** Index in `sent` of the request the fault struck before. */
  struckIndex = -1;

  arm(at: At, strike: () => void): void {
    this.sent.length = 0;
    this.plan = { at: { sub: at.sub, nth: at.nth ?? 1 }, strike };
    this.struckAt = null;
    this.struckIndex = -1;
  }

  get struck(): boolean {
    return this.struckAt !== null;
  }

  private onRequest(sub: number): void {
    this.sent.push(sub);
    const p = this.plan;
    if (p && p.at.sub === sub && this.sent.filter((s) => s === sub).length === p.at.nth) {
      this.plan = null;
      this.struckAt = performance.now();
      this.struckIndex = this.sent.length - 1;
      p.strike();
    }
  }

  /** TCP links whose writes are parsed as host frames before they leave. */
  factory(): TransportFactory {
    return {
      kind: 'tcp',
      create: (target) => {
        const inner = tcpTransportFactory.create(target);
        return {
          target,
          open: async (o) => {
            const link = await inner.open(o);
            const parser = new HostFrameParser();
            const tapped: Link = {
              get isOpen() {
                return link.isOpen;
              },
              setReceiver: (r) => link.setReceiver(r),
              close: () => link.close(),
              write: (bytes) => {
                for (const item of parser.push(bytes)) if (item.kind === 'frame') this.onRequest(item.frame.sub);
                return link.write(bytes);
              },
            };
            return tapped;
          },
        };
      },
    };
  }
}

// --- one unit, one relay ------------------------------------------------------------------------

interface Ctx {
  sim: RunningSimulator;
  relay: RelayService;
  target: DeviceTarget;
  /** The unit's serial (the store keys its data by it). */
  u: string;
  tap: Tap;
  /** Starts over with a relay on a new, empty store (the archive keeps everything otherwise). */
  renew(): Promise<void>;
}

/**
 * A unit and a relay on a fresh SQLite file. The relay reads no project text after answering
 * (`textFillMs: 0`), so each operation's requests are exactly its own.
 */
async function setUp(relayOptions: RelayOptions = {}): Promise<Ctx> {
  const sim = await startSimulator({ ...UNIT_DEFAULTS, events: 3, recordTimeS: 1, monitorSettleMs: 0, host: '127.0.0.1', port: 0 });
  const tap = new Tap();
  const transports = new TransportRegistry().register(tap.factory());
  const relayOn = () => new RelayService(transports, new SqliteStore(join(dir, `c${++dbs}`, 'cache.db')), { client: CLIENT, textFillMs: 0, ...relayOptions });
  const target: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
  const c: Ctx = {
    sim, relay: relayOn(), target, u: SERIAL, tap,
    renew: async () => {
      await c.relay.idle();
      await c.relay.store.close();
      c.relay = relayOn();
    },
  };
  return c;
}

async function tearDown(c: Ctx): Promise<void> {
  c.sim.server.clearFaults();
  await c.relay.idle();
  c.relay.store.close();
  await c.sim.close();
}

/** The unit's answer over a direct session (no relay, no cache): the ground truth. */
async function direct<T>(c: Ctx, fn: (client: MiniMateClient) => Promise<T>): Promise<T> {
  const client = await MiniMateClient.connect(new TcpTransport({ kind: 'tcp', host: '127.0.0.1', port: c.sim.address.port }), CLIENT);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function unitRecord(c: Ctx, index: number): UnitRecord {
  const rec = c.sim.unit.record(parseInt(c.sim.unit.events[index]!.key, 16));
  if (!rec || rec.kind !== 'full') throw new Error(`event ${index} of the unit is not a full event`);
  return rec;
}

/** The waveform of the unit's event `index`, as the relay must serve it. */
function unitWaveform(c: Ctx, index: number): Waveform {
  const ev = c.sim.unit.events[index]!;
  const rec = unitRecord(c, index);
  const ch = rec.channels;
  return buildWaveform({
    serial: SERIAL, index, key: ev.key, timestamp: ev.timestamp, sample_rate: rec.sampleRate, pretrigger_samples: rec.pretriggerSamples, geo_range: rec.geoRange,
    body: { channels: { Tran: Int32Array.from(ch.Tran), Vert: Int32Array.from(ch.Vert), Long: Int32Array.from(ch.Long), MicL: Int32Array.from(ch.MicL) }, truncated: false },
  });
}

const withoutClock = <T extends { clock: unknown }>(s: T) => ({ ...s, clock: undefined });

/**
 * Nothing partial in the cache: every cached event is the unit's event at that index (whole, and
 * indexes 0..n-1), a sync state only with the whole list, every cached waveform is the unit's own
 * sample for sample, info (unless dirty) has the unit's compliance, a cached status the unit's
 * monitoring state.
 */
async function expectCacheConsistent(c: Ctx): Promise<void> {
  const s = c.relay.store;
  const unitEvents = c.sim.unit.events;
  const events = await s.getEvents(c.u);
  expect(events.length).toBeLessThanOrEqual(unitEvents.length);
  events.forEach((e, i) => {
    expect(e.event.index).toBe(i);
    // whole, or whole but for the project text still to be read
    expect(e.event).toEqual(e.event.project_pending ? headersOnly([unitEvents[i]!])[0] : unitEvents[i]);
  });
  expect(await s.eventCount(c.u)).toBe(events.length);
  const sync = await s.getEventSync(c.u);
  if (sync?.complete) {
    expect(events.length).toBe(unitEvents.length);
    expect([sync.first, sync.last]).toEqual([c.sim.unit.storageRange.first, c.sim.unit.storageRange.next]);
  }
  for (const e of events) {
    const w = await s.getWaveform(c.u, e.key, e.event.timestamp);
    if (!w) continue;
    const rec = unitRecord(c, e.event.index);
    for (const name of ['Tran', 'Vert', 'Long', 'MicL'] as const) expect(w.channels[name]).toEqual(rec.channels[name]);
  }
  // Every waveform kept is an archived event's, whole (the archive keeps them beyond the live list).
  const archived = (await s.archive.events({ serial: c.u, limit: 1000 })).items;
  expect((await s.stats()).waveform.entries).toBe(archived.filter((e) => e.has_waveform).length);
  const info = await s.getInfo(c.u);
  if (info && !info.dirty) expect(info.info.compliance).toEqual(c.sim.unit.compliance);
  const status = await s.getStatus(c.u);
  if (status) expect(status.status.is_monitoring).toBe(c.sim.unit.isMonitoring);
}

// --- the operations -------------------------------------------------------------------------------

type Outcome = 'ok' | 'DEVICE_TIMEOUT' | 'PROTOCOL_ERROR' | 'DEVICE_UNREACHABLE';

interface Op {
  name: string;
  relay?: RelayOptions;
  /** The cache state the operation starts from. */
  prepare(c: Ctx): Promise<unknown>;
  run(c: Ctx): Promise<unknown>;
  /** The next request that shows the unit's state, checked against the unit. */
  check(c: Ctx): Promise<void>;
  /** A read step: its corrupt reply is retried. */
  corruptRead: At;
  /** Writes and commands: a corrupt ack is a PROTOCOL_ERROR and the write is not sent again. */
  corruptWrite?: At;
  stall: At;
  /** Garbage before this reply (a read step). */
  garbage: At;
  /** The 5A end (TERM) of a bulk read: its ack is not retried (a second TERM gets no answer). */
  term?: At;
  /** The unit reboots just before this request; what it leads to (the unit's session state is gone). */
  reboot: At & { outcome: Outcome };
  modem: At;
}

const checkEvents = async (c: Ctx) => {
  const r = await c.relay.events(c.target, { waitForText: true });
  expect(r.value).toEqual({ serial: SERIAL, count: c.sim.unit.events.length, events: c.sim.unit.events });
};
const checkStatus = async (c: Ctx) => {
  const r = await c.relay.status(c.target);
  expect(withoutClock(r.value)).toEqual(withoutClock(c.sim.unit.monitorStatus));
};

const OPS: Op[] = [
  {
    name: 'events sync',
    prepare: async () => undefined,
    run: (c) => c.relay.events(c.target),
    check: checkEvents,
    // headers first: 1E, then per event 0A, 0C, 1F
    corruptRead: { sub: SUB.NEXT_EVENT_KEY, nth: 2 },
    stall: { sub: SUB.WAVEFORM_HEADER, nth: 3 },
    garbage: { sub: SUB.WAVEFORM_RECORD, nth: 2 },
    // plain reads by key and the 1F after a 0A need no session state
    reboot: { sub: SUB.WAVEFORM_RECORD, nth: 2, outcome: 'ok' },
    modem: { sub: SUB.NEXT_EVENT_KEY, nth: 1 },
  },
  {
    name: 'events sync, vendor sequence',
    relay: { eventReads: 'vendor' },
    prepare: async () => undefined,
    run: (c) => c.relay.events(c.target),
    check: checkEvents,
    // the walk's 1F after the first event: the unit uses its context up answering it, so the retry
    // must set it again (a bare second 1F answered "no more events": a truncated list, cached as complete)
    corruptRead: { sub: SUB.NEXT_EVENT_KEY, nth: 2 },
    stall: { sub: SUB.WAVEFORM_HEADER, nth: 3 },
    garbage: { sub: SUB.WAVEFORM_RECORD, nth: 2 },
    term: { sub: SUB.BULK_WAVEFORM, nth: 4 },
    // the second event's text page: its 5A session is gone, the unit stays silent
    reboot: { sub: SUB.BULK_WAVEFORM, nth: 6, outcome: 'DEVICE_TIMEOUT' },
    modem: { sub: SUB.FIRST_EVENT_KEY, nth: 2 },
  },
  {
    name: 'device info',
    prepare: async () => undefined,
    run: (c) => c.relay.info(c.target),
    check: async (c) => {
      const r = await c.relay.info(c.target);
      expect(r.value).toEqual(await direct(c, (d) => d.readDeviceInfo()));
    },
    corruptRead: { sub: SUB.COMPLIANCE_CONFIG, nth: 2 },
    stall: { sub: SUB.FULL_CONFIG },
    garbage: { sub: SUB.EVENT_INDEX },
    reboot: { sub: SUB.COMPLIANCE_CONFIG, nth: 1, outcome: 'ok' }, // plain reads need no session state
    modem: { sub: SUB.SERIAL_NUMBER },
  },
  {
    name: 'monitor status',
    prepare: async () => undefined,
    run: (c) => c.relay.status(c.target),
    check: checkStatus,
    corruptRead: { sub: SUB.MONITOR_STATUS },
    stall: { sub: SUB.MONITOR_STATUS },
    garbage: { sub: SUB.MONITOR_STATUS },
    reboot: { sub: SUB.MONITOR_STATUS, outcome: 'ok' },
    modem: { sub: SUB.SERIAL_NUMBER },
  },
  {
    name: 'waveform',
    prepare: (c) => c.relay.events(c.target),
    run: (c) => c.relay.waveform(c.target, 1),
    check: async (c) => {
      const r = await c.relay.waveform(c.target, 1);
      expect(JSON.parse(r.json())).toEqual(unitWaveform(c, 1));
    },
    // 5A of a 1-s event: probe (its first 0x600 bytes), text page, unit page, one sample chunk, the end (TERM, the residual)
    corruptRead: { sub: SUB.BULK_WAVEFORM, nth: 4 },
    stall: { sub: SUB.BULK_WAVEFORM, nth: 4 },
    garbage: { sub: SUB.BULK_WAVEFORM, nth: 3 },
    term: { sub: SUB.BULK_WAVEFORM, nth: 5 },
    reboot: { sub: SUB.BULK_WAVEFORM, nth: 4, outcome: 'DEVICE_TIMEOUT' },
    modem: { sub: SUB.BULK_WAVEFORM, nth: 1 },
  },
  {
    name: 'config write',
    prepare: (c) => c.relay.info(c.target),
    run: (c) => c.relay.writeConfig(c.target, { project: 'Link faults', trigger_level_ips: 0.4 }),
    check: async (c) => {
      const r = await c.relay.info(c.target);
      expect(r.value.compliance).toEqual(c.sim.unit.compliance);
      expect(r.value).toEqual(await direct(c, (d) => d.readDeviceInfo()));
    },
    corruptRead: { sub: SUB.WAVEFORM_DATA_BLOCK },
    // the first 72 commits the three compliance pages on the unit; its ack comes back corrupt
    corruptWrite: { sub: SUB.WRITE_CONFIRM_A, nth: 1 },
    stall: { sub: SUB.TRIGGER_CONFIG_WRITE },
    garbage: { sub: SUB.COMPLIANCE_CONFIG, nth: 4 }, // the read-back
    // the pages written before the reboot are lost: 72 commits nothing, the read-back tells
    reboot: { sub: SUB.WRITE_CONFIRM_A, nth: 1, outcome: 'PROTOCOL_ERROR' },
    modem: { sub: SUB.COMPLIANCE_WRITE, nth: 2 },
  },
  {
    name: 'call-home write',
    prepare: async () => undefined,
    run: (c) => c.relay.writeCallHome(c.target, { enabled: true, dial_string: 'ATDT5551234' }),
    check: async (c) => {
      expect(await c.relay.readCallHome(c.target)).toEqual(c.sim.unit.callHome);
    },
    corruptRead: { sub: SUB.CALL_HOME_CONFIG, nth: 1 },
    corruptWrite: { sub: SUB.CALL_HOME_CONFIRM },
    stall: { sub: SUB.CALL_HOME_CONFIRM },
    garbage: { sub: SUB.CALL_HOME_CONFIG, nth: 2 },
    reboot: { sub: SUB.CALL_HOME_CONFIRM, outcome: 'PROTOCOL_ERROR' },
    modem: { sub: SUB.CALL_HOME_WRITE },
  },
  {
    name: 'erase',
    prepare: async (c) => {
      await c.relay.events(c.target);
      await c.relay.waveform(c.target, 0);
    },
    run: (c) => c.relay.erase(c.target),
    check: checkEvents,
    corruptRead: { sub: SUB.MONITOR_STATUS },
    corruptWrite: { sub: SUB.ERASE_CONFIRM },
    stall: { sub: SUB.ERASE_CONFIRM },
    garbage: { sub: SUB.STORAGE_RANGE, nth: 2 },
    // the erase arm is gone: the unit ignores the confirm
    reboot: { sub: SUB.ERASE_CONFIRM, outcome: 'DEVICE_TIMEOUT' },
    modem: { sub: SUB.ERASE_BEGIN },
  },
  {
    name: 'monitor start',
    prepare: (c) => c.relay.status(c.target),
    run: (c) => c.relay.startMonitoring(c.target),
    check: checkStatus,
    corruptRead: { sub: SUB.MONITOR_STATUS },
    corruptWrite: { sub: SUB.START_MONITORING },
    stall: { sub: SUB.MONITOR_STATUS },
    garbage: { sub: SUB.MONITOR_STATUS },
    reboot: { sub: SUB.MONITOR_STATUS, outcome: 'ok' },
    modem: { sub: SUB.START_MONITORING },
  },
  {
    name: 'monitor stop',
    prepare: async (c) => {
      await c.relay.startMonitoring(c.target);
      await c.relay.status(c.target);
    },
    run: (c) => c.relay.stopMonitoring(c.target),
    check: checkStatus,
    corruptRead: { sub: SUB.MONITOR_STATUS },
    corruptWrite: { sub: SUB.STOP_MONITORING },
    stall: { sub: SUB.MONITOR_STATUS },
    garbage: { sub: SUB.MONITOR_STATUS },
    reboot: { sub: SUB.MONITOR_STATUS, outcome: 'ok' },
    modem: { sub: SUB.STOP_MONITORING },
  },
];

type FaultName = 'corrupt read' | 'corrupt write ack' | 'stall' | 'garbage' | 'garbage before a write ack' | 'garbage before the 5A end' | 'reboot' | 'modem text';

interface Case {
  at: At;
  strike(c: Ctx): void;
  /** The outcomes that are right; more than one where noise may or may not form a broken frame. */
  outcome: Outcome[];
}

function faultCase(op: Op, fault: FaultName): Case | undefined {
  switch (fault) {
    case 'corrupt read':
      return { at: op.corruptRead, strike: (c) => c.sim.server.corruptNextFrame(op.corruptRead.sub), outcome: ['ok'] };
    case 'corrupt write ack':
      return op.corruptWrite && { at: op.corruptWrite, strike: (c) => c.sim.server.corruptNextFrame(op.corruptWrite!.sub), outcome: ['PROTOCOL_ERROR'] };
    case 'stall':
      return { at: op.stall, strike: (c) => c.sim.server.stall('forever'), outcome: ['DEVICE_TIMEOUT'] };
    case 'garbage':
      return { at: op.garbage, strike: (c) => c.sim.server.garbleNext(64), outcome: ['ok'] };
    // Noise that forms a broken frame before an ack that is never retried fails the operation (the
    // write is not sent again); noise that does not is skipped.
    case 'garbage before a write ack':
      return op.corruptWrite && { at: op.corruptWrite, strike: (c) => c.sim.server.garbleNext(64), outcome: ['ok', 'PROTOCOL_ERROR'] };
    case 'garbage before the 5A end':
      return op.term && { at: op.term, strike: (c) => c.sim.server.garbleNext(64), outcome: ['ok', 'PROTOCOL_ERROR'] };
    case 'reboot':
      return { at: op.reboot, strike: (c) => c.sim.server.rebootNow(), outcome: [op.reboot.outcome] };
    case 'modem text':
      return { at: op.modem, strike: (c) => c.sim.server.modemTextNext(), outcome: ['ok'] };
  }
}

const FAULTS: FaultName[] = ['corrupt read', 'corrupt write ack', 'stall', 'garbage', 'garbage before a write ack', 'garbage before the 5A end', 'reboot', 'modem text'];
const CASES = OPS.flatMap((op) => FAULTS.flatMap((f) => (faultCase(op, f) ? [[op.name, f, op, faultCase(op, f)!] as const] : [])));

describe('a fault in the middle of each device operation, through the relay', () => {
  let current: Ctx | undefined;
  afterEach(async () => {
    if (current) await tearDown(current);
    current = undefined;
  });

  it.each(CASES)('%s, %s: the right outcome, nothing partial cached, the next request works', async (_name, fault, op, k) => {
    const c = (current = await setUp(op.relay));
    await op.prepare(c);
    c.sim.server.resetStats();
    c.tap.arm(k.at, () => k.strike(c));
    const t0 = performance.now();
    const result = await op.run(c).then(
      () => 'ok' as const,
      (e: unknown) => e,
    );
    const failedAt = performance.now();
    expect(c.tap.struck, 'the fault struck').toBe(true);
    const outcome = result === 'ok' ? 'ok' : result instanceof DeviceError ? result.code : String(result);
    count(tally.outcomes, `${fault}→${outcome}`);
    tally.cases++;
    expect(k.outcome, result instanceof Error ? result.message : '').toContain(outcome);
    if (result instanceof Error) expect(result.message).toContain(connectionKey(c.target));

    const at = c.tap.struckIndex;
    if (fault === 'corrupt read') {
      // the request whose reply was corrupt went out again (after a 0A that sets the context
      // again, for 1F): the read was retried
      expect(c.tap.sent.slice(at + 1, at + 4)).toContain(k.at.sub);
      expect(c.sim.server.stats.framesBySub[hex(k.at.sub)]).toBeGreaterThan(k.at.nth ?? 1);
    }
    if (fault === 'corrupt write ack' || (fault === 'garbage before a write ack' && outcome !== 'ok')) {
      // the write is the last thing sent: never again, nothing after it
      expect(c.tap.sent.length).toBe(at + 1);
      expect(c.tap.sent.filter((s) => s === k.at.sub)).toHaveLength(k.at.nth ?? 1);
    }
    if (fault === 'stall') {
      const waited = failedAt - c.tap.struckAt!;
      tally.stallMs.push(Math.round(waited));
      expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(waited).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      expect(failedAt - t0).toBeLessThan(TIMEOUT_MS + 2000);
      expect((result as Error).message).toMatch(/no reply within 200 ms/);
    }

    await expectCacheConsistent(c);
    c.sim.server.clearFaults();
    c.tap.arm({ sub: -1 }, () => undefined);
    // The next request works: the operation again, then what shows the unit's state.
    await op.run(c);
    await expectCacheConsistent(c);
    await op.check(c);
    await expectCacheConsistent(c);
  });
});

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

// --- the link dropped at every k-th byte of a waveform download -----------------------------------

describe('the link dropped at every k-th byte of a waveform download', () => {
  let c: Ctx;
  beforeAll(async () => {
    c = await setUp();
  });
  afterAll(async () => {
    await tearDown(c);
  });

  /** Bytes the unit sends for `fn` (nothing dropped). */
  async function bytesOf(fn: () => Promise<unknown>): Promise<number> {
    const before = c.sim.server.stats.bytesOut;
    await fn();
    return c.sim.server.stats.bytesOut - before;
  }

  async function sweep(label: string, drops: number, start: () => Promise<void>, index: number): Promise<number> {
    await start();
    const total = await bytesOf(() => c.relay.waveform(c.target, index));
    const k = Math.ceil(total / (drops + 1));
    let tried = 0;
    for (let at = k; at < total; at += k) {
      await c.renew();
      await start();
      const stats = await c.relay.store.stats();
      const events = await c.relay.store.getEventsJson(c.u);
      c.sim.server.dropAfterBytes(at);
      const err = await c.relay.waveform(c.target, index).then(() => undefined, (e: unknown) => e);
      tried++;
      count(tally.dropCodes, (err as DeviceError | undefined)?.code ?? 'ok');
      expect(err, `${label}: drop after ${at} of ${total} bytes`).toBeInstanceOf(DeviceUnreachable);
      expect((err as DeviceUnreachable).code).toBe('DEVICE_UNREACHABLE');
      // Nothing cached from the cut download: the store is as it was, except for events a cold
      // sync completed before the cut (each whole, in order).
      expect((await c.relay.store.stats()).waveform).toEqual(stats.waveform);
      if (events !== undefined) expect(await c.relay.store.getEventsJson(c.u)).toEqual(events);
      await expectCacheConsistent(c);
      // The next request downloads it, equal to the unit's data.
      const w = await c.relay.waveform(c.target, index);
      expect(w.cache).toBe('miss');
      expect(JSON.parse(w.json())).toEqual(unitWaveform(c, index));
      await expectCacheConsistent(c);
      expect((await c.relay.store.stats()).waveform.entries).toBe(1);
    }
    tally.drops += tried;
    return tried;
  }

  it('with the events cached: ~40 drop points, each DEVICE_UNREACHABLE with nothing cached, then the download works', async () => {
    const tried = await sweep('warm', 40, async () => void (await c.relay.events(c.target)), 1);
    expect(tried).toBeGreaterThanOrEqual(40);
  });

  it('from a cold cache (the same request syncs the events first): ~20 drop points, only whole events kept', async () => {
    const tried = await sweep('cold', 20, async () => undefined, 2);
    expect(tried).toBeGreaterThanOrEqual(20);
  });
});

// --- faults while the project text is read after the list -------------------------------------------

describe('a fault while reading the project text after the list', () => {
  let current: Ctx | undefined;
  afterEach(async () => {
    if (current) await tearDown(current);
    current = undefined;
  });

  // Per event: 1E, 0C, 1F, POLL ×3, then 5A probe, text page, unit page, end.
  const TEXT_FAULTS: [string, At, (c: Ctx) => void][] = [
    ['corrupt text page', { sub: SUB.BULK_WAVEFORM, nth: 2 }, (c) => c.sim.server.corruptNextFrame(SUB.BULK_WAVEFORM)],
    ['stall on the second event', { sub: SUB.BULK_WAVEFORM, nth: 6 }, (c) => c.sim.server.stall('forever')],
    ['garbage before a 5A reply', { sub: SUB.BULK_WAVEFORM, nth: 3 }, (c) => c.sim.server.garbleNext(64)],
    ['reboot before the text page', { sub: SUB.BULK_WAVEFORM, nth: 2 }, (c) => c.sim.server.rebootNow()],
    ['modem text before an arm', { sub: SUB.FIRST_EVENT_KEY, nth: 2 }, (c) => c.sim.server.modemTextNext()],
    ['link dropped mid-read', { sub: SUB.POLL, nth: 4 }, (c) => c.sim.server.dropAfterBytes(40)],
  ];

  it.each(TEXT_FAULTS)('%s: the list is answered, each text whole or still pending, the next request reads the rest', async (_name, at, strike) => {
    const c = (current = await setUp());
    const headers = await c.relay.events(c.target);
    expect(headers.value.events).toEqual(headersOnly(c.sim.unit.events));
    c.tap.arm(at, () => strike(c));
    const answer = await c.relay.events(c.target, { waitForText: true });
    expect(c.tap.struck, 'the fault struck').toBe(true);
    expect(answer.value.count).toBe(c.sim.unit.events.length);
    // the answer says what the store holds: the texts read, the rest still pending
    expect(answer.value.events).toEqual((await c.relay.store.getEvents(c.u)).map((e) => e.event));
    await expectCacheConsistent(c);
    c.sim.server.clearFaults();
    c.tap.arm({ sub: -1 }, () => undefined);
    await checkEvents(c);
    await expectCacheConsistent(c);
  });
});
