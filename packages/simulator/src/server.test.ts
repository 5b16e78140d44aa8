import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SUB, buildReadFrame, complianceParams, decodeEventKeyReply, decodeSerialNumber, keyBytes, keyParams, params, responseContent, FIRST_KEY } from '@sfm/core/protocol';
import { duplexPair } from './pipe.js';
import { SimulatorServer, type BoundAddress, type SimulatorServerOptions } from './server.js';
import { SimulatedUnit } from './unit.js';
import { WireClient } from './wire-client.js';

const T0 = new Date('2026-04-08T01:59:45Z');
const RING = '\r\nRING\r\n\r\nCONNECT\r\n';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(opts: SimulatorServerOptions = {}): Promise<{ server: SimulatorServer; unit: SimulatedUnit; client: WireClient; address: BoundAddress }> {
  const unit = new SimulatedUnit({ now: () => T0, events: 2 });
  const server = new SimulatorServer(unit, { baud: 0, ...opts });
  const address = await server.listen({ port: 0 });
  const client = await WireClient.connect(address);
  cleanups.push(() => server.close(), () => client.close());
  return { server, unit, client, address };
}

/** Polls `pred` every few ms until it holds; fails after a generous 5 s (a bound on a hang, not a speed target). */
async function until(pred: () => boolean, what = 'the condition'): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One turn of the event loop: whatever is in flight on an in-process pipe has landed. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

const frameCount = (client: WireClient): number => client.items.filter((i) => i.kind === 'frame').length;

describe('serving over TCP', () => {
  it('answers requests and counts frames, bytes and sessions', async () => {
    const { server, client } = await serve();
    client.send(buildReadFrame(SUB.POLL, 0));
    expect((await client.nextFrame()).sub).toBe(0xa4);
    client.send(buildReadFrame(SUB.SERIAL_NUMBER, 0x0a));
    expect(decodeSerialNumber(responseContent(await client.nextFrame())).serial).toBe('BE18189');
    const s = server.stats;
    expect(s).toMatchObject({ framesBySub: { '5B': 1, '15': 1 }, framesReceived: 2, connectionsTotal: 1, sessionsActive: 1, maxConcurrentSessions: 1, roundTrips: 2 });
    expect(s.bytesIn).toBe(buildReadFrame(SUB.POLL, 0).length + buildReadFrame(SUB.SERIAL_NUMBER, 0x0a).length);
    expect(s.bytesOut).toBe(client.raw.length);
    server.resetStats();
    expect(server.stats).toMatchObject({ framesReceived: 0, bytesOut: 0, sessionsActive: 1, maxConcurrentSessions: 1 });
  });

  it('tracks concurrent sessions; each connection has its own session state', async () => {
    const { server, unit, client, address } = await serve();
    const second = await WireClient.connect(address);
    cleanups.push(() => second.close());
    await until(() => server.stats.sessionsActive === 2);
    expect(server.stats.maxConcurrentSessions).toBe(2);
    // A context set on the first connection is not seen by the second.
    client.send(buildReadFrame(SUB.WAVEFORM_HEADER, 0x46, keyParams(keyBytes(FIRST_KEY))));
    await client.nextFrame();
    second.send(buildReadFrame(SUB.NEXT_EVENT_KEY, 8));
    expect(decodeEventKeyReply(responseContent(await second.nextFrame()))).toBe(0);
    client.send(buildReadFrame(SUB.NEXT_EVENT_KEY, 8));
    expect(decodeEventKeyReply(responseContent(await client.nextFrame()))).toBe(parseInt(unit.events[1]!.key, 16));
    second.close();
    await until(() => server.stats.sessionsActive === 1);
    expect(server.stats).toMatchObject({ connectionsTotal: 2, maxConcurrentSessions: 2 });
  });

  it('sends the modem text and the boot banner first when asked', async () => {
    const { client } = await serve({ modemPreamble: true, bootBanner: true });
    client.send(buildReadFrame(SUB.POLL, 0));
    await client.nextFrame();
    expect(client.raw.subarray(0, RING.length + 16).toString('latin1')).toBe(`${RING}Operating System`);
  });

  it('serves any Duplex stream (no modem text on a serial line)', async () => {
    const unit = new SimulatedUnit({ now: () => T0, events: 1 });
    const server = new SimulatorServer(unit, { baud: 0, bootBanner: true, modemPreamble: true });
    cleanups.push(() => server.close());
    const [host, device] = duplexPair();
    const handle = server.serveStream(device);
    const client = new WireClient(host);
    client.send(buildReadFrame(SUB.SERIAL_NUMBER, 0x0a));
    expect(decodeSerialNumber(responseContent(await client.nextFrame())).serial).toBe('BE18189');
    expect(client.raw.subarray(0, 16).toString('latin1')).toBe('Operating System');
    expect(server.stats.sessionsActive).toBe(1);
    host.end();
    await handle.closed;
    expect(server.stats.sessionsActive).toBe(0);
  });

  it('close() ends every session and stops listening', async () => {
    const { server, client } = await serve();
    await until(() => server.stats.sessionsActive === 1);
    await server.close();
    await client.closed;
    expect(server.stats.sessionsActive).toBe(0);
  });
});

// The link's pacing and modem hold run on setTimeout and performance.now: these tests drive them on
// fake time, over an in-process pipe (the same Connection and link stages as TCP, and no other timers).
describe('link emulation', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function servePipe(opts: SimulatorServerOptions): WireClient {
    const server = new SimulatorServer(new SimulatedUnit({ now: () => T0, events: 2 }), { baud: 0, ...opts });
    const [host, device] = duplexPair();
    server.serveStream(device);
    const client = new WireClient(host);
    cleanups.push(() => server.close(), () => client.close());
    return client;
  }

  it('paces output at baud/10: a ~1000-byte reply takes at least 200 ms at 38400 baud', async () => {
    const client = servePipe({ baud: 38400 });
    client.send(buildReadFrame(SUB.COMPLIANCE_CONFIG, 0x3e0, complianceParams(0)));
    await turn(); // the request is in and the reply queued, at fake time 0
    // 200 ms of link time carries at most 38400 / 10 × 0.2 = 768 bytes: the reply is still on its way.
    await vi.advanceTimersByTimeAsync(200);
    expect(client.raw.length).toBeGreaterThan(0);
    expect(client.raw.length).toBeLessThanOrEqual(768);
    expect(frameCount(client)).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    const f = await client.nextFrame();
    expect(client.raw.length).toBeGreaterThanOrEqual(1000);
    expect(responseContent(f).length).toBe(0x3e0);
  });

  it('pacing keeps replies in order and never blocks the event loop', async () => {
    const client = servePipe({ baud: 96000 });
    for (let i = 0; i < 3; i++) client.send(buildReadFrame(SUB.COMPLIANCE_CONFIG, 0x100, complianceParams(i)));
    // The event loop turns with the replies queued (a pacer that busy-waited on the clock, frozen
    // here, would never let it) and nothing has gone out yet: the pacing waits on timers.
    await turn();
    expect(client.raw.length).toBe(0);
    // Each 10 ms of link time hands on a little more, and this test runs in between.
    const seen: number[] = [];
    for (let step = 0; frameCount(client) < 3; step++) {
      expect(step).toBeLessThan(1000); // ~85 ms of link time is enough; this only stops a runaway loop
      await vi.advanceTimersByTimeAsync(10);
      seen.push(client.raw.length);
    }
    expect(new Set(seen).size).toBeGreaterThan(3);
    const frames = [await client.nextFrame(), await client.nextFrame(), await client.nextFrame()];
    expect(frames.map((f) => f.data[3])).toEqual([0, 1, 2]);
  });

  it('the modem holds each burst forwardDelayMs before forwarding it', async () => {
    const client = servePipe({ forwardDelayMs: 60 });
    client.send(buildReadFrame(SUB.POLL, 0));
    await turn(); // the request is in and the reply with the modem, at fake time 0
    await vi.advanceTimersByTimeAsync(59);
    expect(client.raw.length).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect((await client.nextFrame()).sub).toBe(0xa4);
  });
});

describe('fault injection, as seen on the wire', () => {
  it('drop: the connection closes after exactly n more bytes', async () => {
    const { server, client } = await serve();
    server.dropAfterBytes(10);
    client.send(buildReadFrame(SUB.SERIAL_NUMBER, 0x0a));
    await client.closed;
    expect(client.raw.length).toBe(10);
    await until(() => server.stats.sessionsActive === 0);
    expect(server.faults.state.dropAfterBytes).toBeNull();
  });

  it('corrupt: the next frame fails its checksum, the one after is fine', async () => {
    const { server, client } = await serve();
    server.corruptNextFrame();
    client.send(buildReadFrame(SUB.SERIAL_NUMBER, 0x0a));
    const bad = await client.nextFrame();
    expect(bad.checksumOk).toBe(false);
    client.send(buildReadFrame(SUB.SERIAL_NUMBER, 0x0a));
    expect((await client.nextFrame()).checksumOk).toBe(true);
  });

  it('stall: nothing is answered for that long; forever lasts until cleared', async () => {
    const { server, client } = await serve();
    server.stall(600_000); // far longer than the test: it cannot run out here
    client.send(buildReadFrame(SUB.POLL, 0));
    // The unit has taken the request and stayed silent (a stalled request is dropped, not deferred).
    await until(() => server.stats.unanswered === 1, 'the stalled request to go unanswered');
    // A short stall ends by itself: wait until the fault state says it has, then the unit answers.
    server.stall(20);
    await until(() => server.faults.state.stall === null, 'the short stall to run out');
    client.send(buildReadFrame(SUB.POLL, 0));
    expect((await client.nextFrame()).sub).toBe(0xa4);
    server.stall('forever');
    client.send(buildReadFrame(SUB.POLL, 0));
    await until(() => server.stats.unanswered === 2, 'the second stalled request to go unanswered');
    server.clearFaults();
    client.send(buildReadFrame(SUB.POLL, 0));
    expect((await client.nextFrame()).sub).toBe(0xa4);
    // Nothing was sent for the stalled requests: a reply to either would have arrived (in order)
    // before the reply just read, so exactly the two answered requests have frames.
    expect(frameCount(client)).toBe(2);
    expect(server.stats.unanswered).toBe(2);
  });

  it('garble: random bytes (markers among them) come before the next reply, which still parses', async () => {
    const { server, client } = await serve();
    server.garbleNext(200);
    client.send(buildReadFrame(SUB.SERIAL_NUMBER, 0x0a));
    const f = await client.nextFrame();
    expect(f.checksumOk).toBe(true);
    expect(decodeSerialNumber(responseContent(f)).serial).toBe('BE18189');
    const garbage = client.raw.subarray(0, 200);
    expect(garbage.includes(0x10) && garbage.includes(0x02) && garbage.includes(0x03)).toBe(true);
    expect(client.items.some((i) => i.kind === 'noise' || i.kind === 'error')).toBe(true);
  });

  it('reboot: "Operating System" goes out and the session state is gone', async () => {
    const { server, client } = await serve();
    client.send(buildReadFrame(SUB.WAVEFORM_HEADER, 0x46, keyParams(keyBytes(FIRST_KEY))));
    await client.nextFrame();
    server.rebootNow();
    await until(() => client.raw.toString('latin1').includes('Operating System'));
    client.send(buildReadFrame(SUB.NEXT_EVENT_KEY, 8));
    expect(decodeEventKeyReply(responseContent(await client.nextFrame()))).toBe(0);
  });

  it('modem text: RING/CONNECT arrives before the next reply only', async () => {
    const { server, client } = await serve();
    server.injectFault({ kind: 'modem-text' });
    client.send(buildReadFrame(SUB.POLL, 0));
    await client.nextFrame();
    expect(client.raw.subarray(0, RING.length).toString('latin1')).toBe(RING);
    const n = client.raw.length;
    client.send(buildReadFrame(SUB.POLL, 0));
    await client.nextFrame();
    expect(client.raw.subarray(n).toString('latin1')).not.toContain('RING');
    expect(server.faults.state.modemTextNext).toBe(false);
  });

  it('faults survive between connections until used; requests still parse around them', async () => {
    const { server, client } = await serve();
    expect(server.injectFault({ kind: 'garble', bytes: 8 })).toMatchObject({ garbleNextBytes: 8 });
    expect(server.injectFault({ kind: 'clear' })).toEqual({ dropAfterBytes: null, corruptNextFrame: false, stall: null, garbleNextBytes: 0, modemTextNext: false });
    client.send(buildReadFrame(SUB.POLL, 0x0a, params()));
    expect(responseContent(await client.nextFrame()).length).toBe(10);
  });
});
