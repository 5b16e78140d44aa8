import * as net from 'node:net';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeviceUnreachable } from '@sfm/core/client';
import { DeviceFrameParser, buildDeviceFrame } from '@sfm/core/protocol';
import { type DeviceTarget, type Link, type LinkReceiver } from '@sfm/core/transport';
import { TcpTransport, createTcpTransportFactory, tcpTransportFactory } from './index.js';

// Loopback only: every server here listens on 127.0.0.1 and every target points there.
const LOOPBACK = '127.0.0.1';

interface TestServer {
  server: net.Server;
  port: number;
  sockets: net.Socket[];
  /** Resolves with the next accepted socket. */
  nextSocket(): Promise<net.Socket>;
  close(): Promise<void>;
}

/** Polls `cond` every few ms until it holds; fails after a generous 5 s (a bound on a hang, not a speed target). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Open TCP socket handles in this process. */
const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

/** TCP socket handles open before any test here ran (the worker's own, if any). */
let baselineHandles = 0;
beforeAll(() => {
  baselineHandles = tcpHandles();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  // Every test leaves the process as it found it: sockets destroyed by a test may still be closing
  // their handles, so wait for that here, and the next test starts from a known count.
  await until(() => tcpHandles() === baselineHandles, `the TCP handles to return to ${baselineHandles} (${tcpHandles()} open)`);
});

async function startServer(onSocket?: (s: net.Socket) => void): Promise<TestServer> {
  const sockets: net.Socket[] = [];
  const waiters: ((s: net.Socket) => void)[] = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => {});
    sockets.push(s);
    onSocket?.(s);
    waiters.shift()?.(s);
  });
  await new Promise<void>((resolve) => server.listen({ host: LOOPBACK, port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const t: TestServer = {
    server,
    port,
    sockets,
    nextSocket: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  cleanups.push(() => t.close());
  return t;
}

/** A port on loopback where nothing listens: bind one, note it, close it. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen({ host: LOOPBACK, port: 0 }, resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function target(port: number): DeviceTarget & { kind: 'tcp' } {
  return { kind: 'tcp', host: LOOPBACK, port };
}

/** Collects what a link delivers. */
function collector(link: Link): LinkReceiver & { bytes(): Uint8Array; chunks: Uint8Array[]; closedWith: Promise<Error | undefined>; waitFor(n: number): Promise<Uint8Array> } {
  const chunks: Uint8Array[] = [];
  const waiters: { n: number; resolve: (b: Uint8Array) => void }[] = [];
  let resolveClosed!: (e: Error | undefined) => void;
  const closedWith = new Promise<Error | undefined>((r) => (resolveClosed = r));
  const bytes = (): Uint8Array => new Uint8Array(Buffer.concat(chunks));
  const r = {
    chunks,
    closedWith,
    bytes,
    data(chunk: Uint8Array) {
      chunks.push(Uint8Array.from(chunk));
      const have = bytes();
      for (const w of [...waiters]) {
        if (have.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(have);
        }
      }
    },
    closed(error?: Error) {
      resolveClosed(error);
    },
    waitFor(n: number): Promise<Uint8Array> {
      const have = bytes();
      if (have.length >= n) return Promise.resolve(have);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
  link.setReceiver(r);
  return r;
}

function readAll(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    let len = 0;
    const onData = (c: Buffer): void => {
      got.push(c);
      len += c.length;
      if (len >= n) {
        socket.off('data', onData);
        resolve(Buffer.concat(got));
      }
    };
    socket.on('data', onData);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once the socket is destroyed. Its handle may still be closing then (`closed` turns true
 * before the 'close' event): poll tcpHandles() to see the handle go.
 */
function handleClosed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));
}

describe('TcpTransport', () => {
  it('connects, writes and reads through to a local server', async () => {
    const srv = await startServer();
    const accepted = srv.nextSocket();
    const link = await new TcpTransport(target(srv.port)).open();
    cleanups.push(() => link.close());
    expect(link.isOpen).toBe(true);
    const peer = await accepted;

    const rx = collector(link);
    const request = Uint8Array.from([0x41, 0x10, 0x02, 0x10, 0x10, 0x00, 0x01]);
    const atServer = readAll(peer, request.length);
    await link.write(request);
    expect(new Uint8Array(await atServer)).toEqual(request);

    const reply = Uint8Array.from({ length: 256 }, (_, i) => i);
    peer.write(reply);
    expect(await rx.waitFor(256)).toEqual(reply);
  });

  it('delivers bytes that arrived before a receiver was set', async () => {
    const srv = await startServer((s) => s.write(Buffer.from([1, 2, 3])));
    let sock: net.Socket | undefined;
    const link = await new TcpTransport(target(srv.port), { connect: (o) => (sock = net.connect(o)) }).open();
    cleanups.push(() => link.close());
    // The socket has read the bytes (bytesRead is counted before 'data' is emitted, and the link listens from the start).
    await until(() => sock!.bytesRead === 3, 'the server\'s bytes to arrive');
    const rx = collector(link);
    // setReceiver hands over what came before at once (synchronously), so they are here already.
    expect(rx.bytes()).toEqual(Uint8Array.from([1, 2, 3]));
    expect(await rx.waitFor(3)).toEqual(Uint8Array.from([1, 2, 3]));
  });

  it('turns Nagle off and keep-alive on (configurable)', async () => {
    const srv = await startServer();
    const spyingConnect = (calls: string[]) => (o: net.TcpNetConnectOpts): net.Socket => {
      const sock = net.connect(o);
      const noDelay = sock.setNoDelay.bind(sock);
      const keepAlive = sock.setKeepAlive.bind(sock);
      sock.setNoDelay = (v) => (calls.push(`noDelay:${v}`), noDelay(v));
      sock.setKeepAlive = (e, d) => (calls.push(`keepAlive:${e}:${d}`), keepAlive(e, d));
      return sock;
    };

    const byDefault: string[] = [];
    await (await new TcpTransport(target(srv.port), { connect: spyingConnect(byDefault) }).open()).close();
    expect(byDefault).toEqual(['noDelay:true', 'keepAlive:true:30000']);

    const tuned: string[] = [];
    await (await new TcpTransport(target(srv.port), { keepAliveDelayMs: 12_000, connect: spyingConnect(tuned) }).open()).close();
    expect(tuned).toEqual(['noDelay:true', 'keepAlive:true:12000']);

    const off: string[] = [];
    await (await new TcpTransport(target(srv.port), { keepAlive: false, connect: spyingConnect(off) }).open()).close();
    expect(off).toEqual(['noDelay:true']);
  });

  it('fails fast with DeviceUnreachable on a refused port', async () => {
    const port = await freePort();
    // The connect timeout is far beyond the test's own: only the refusal itself can end this open in time,
    // and the message and cause below come only from that path.
    const err = await new TcpTransport(target(port), { connectTimeoutMs: 600_000 }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe(`tcp:${LOOPBACK}:${port}: connection refused (nothing listens on that port)`);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('names a DNS failure', async () => {
    // `.invalid` is reserved (RFC 6761) and never resolves; the stub answers like the resolver does.
    const connect = (): net.Socket => {
      const s = new net.Socket();
      setImmediate(() => s.destroy(Object.assign(new Error('getaddrinfo ENOTFOUND unit.invalid'), { code: 'ENOTFOUND' })));
      return s;
    };
    const err = await new TcpTransport({ kind: 'tcp', host: 'unit.invalid', port: 12345 }, { connect }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe('tcp:unit.invalid:12345: host name not found (DNS lookup of "unit.invalid" failed)');
  });

  it.each([
    ['EHOSTUNREACH', 'host unreachable (no route to the host)'],
    ['ENETUNREACH', 'network unreachable'],
  ])('maps %s to DeviceUnreachable', async (code, words) => {
    let made: net.Socket | undefined;
    const connect = (): net.Socket => {
      made = new net.Socket();
      setImmediate(() => made!.destroy(Object.assign(new Error(`connect ${code}`), { code })));
      return made;
    };
    const err = await new TcpTransport({ kind: 'tcp', host: '192.0.2.1', port: 12345 }, { connect }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe(`tcp:192.0.2.1:12345: ${words}`);
    expect(made!.destroyed).toBe(true);
  });

  it('gives up after the connect timeout and destroys the socket', async () => {
    // Loopback has no deterministic way to leave a SYN unanswered (Node's servers accept at once),
    // so the socket is one that never connects, which is what a silent modem looks like.
    // The timer is the transport's own setTimeout: fake time shows it fires at 50 ms, not before.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let made: net.Socket | undefined;
      const t = new TcpTransport(target(9), { connectTimeoutMs: 50, connect: () => (made = new net.Socket()) });
      let settled = false;
      const pending = t.open().catch((e: unknown) => e).finally(() => (settled = true));
      vi.advanceTimersByTime(49);
      await new Promise((r) => setImmediate(r));
      expect(settled).toBe(false);
      expect(made!.destroyed).toBe(false);
      vi.advanceTimersByTime(1);
      const err = await pending;
      expect(err).toBeInstanceOf(DeviceUnreachable);
      expect((err as Error).message).toBe(`tcp:${LOOPBACK}:9: no answer within 50 ms`);
      expect(made!.destroyed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('lets open({ timeoutMs }) override the configured connect timeout', async () => {
    const t = new TcpTransport(target(9), { connectTimeoutMs: 60_000, connect: () => new net.Socket() });
    const err = await t.open({ timeoutMs: 20 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`tcp:${LOOPBACK}:9: no answer within 20 ms`);
  });

  it('aborts a pending connect through the signal and destroys the socket', async () => {
    let made: net.Socket | undefined;
    // The socket never connects and the timeout is far beyond the test's: only the abort can end this open.
    const t = new TcpTransport(target(9), { connectTimeoutMs: 600_000, connect: () => (made = new net.Socket()) });
    const ac = new AbortController();
    const pending = t.open({ signal: ac.signal }).catch((e: unknown) => e);
    expect(made).toBeDefined(); // connecting now
    ac.abort(new Error('operator cancelled'));
    const err = await pending;
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe(`tcp:${LOOPBACK}:9: connect aborted`);
    expect(((err as Error).cause as Error).message).toBe('operator cancelled');
    expect(made!.destroyed).toBe(true);
  });

  it('rejects at once when the signal is already aborted, without making a socket', async () => {
    let made = 0;
    const t = new TcpTransport(target(9), { connectTimeoutMs: 600_000, connect: () => (made++, new net.Socket()) });
    const err = await t.open({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe(`tcp:${LOOPBACK}:9: connect aborted`);
    expect(made).toBe(0);
  });

  it('an abort after the link is open does not touch the link', async () => {
    const srv = await startServer();
    const accepted = srv.nextSocket();
    const ac = new AbortController();
    let sock: net.Socket | undefined;
    const link = await new TcpTransport(target(srv.port), { connect: (o) => (sock = net.connect(o)) }).open({ signal: ac.signal });
    cleanups.push(() => link.close());
    const rx = collector(link);
    const peer = await accepted;
    ac.abort(); // abort listeners run synchronously: a leftover one would destroy the socket now
    expect(sock!.destroyed).toBe(false);
    // And the link still carries bytes both ways afterwards.
    const atServer = readAll(peer, 2);
    await link.write(Uint8Array.of(1, 2));
    expect([...(await atServer)]).toEqual([1, 2]);
    peer.write(Buffer.from([3]));
    expect(await rx.waitFor(1)).toEqual(Uint8Array.of(3));
    expect(link.isOpen).toBe(true);
  });

  it('reports the server closing mid-session as closed(DeviceUnreachable)', async () => {
    const srv = await startServer();
    const accepted = srv.nextSocket();
    const link = await new TcpTransport(target(srv.port)).open();
    cleanups.push(() => link.close());
    const rx = collector(link);
    const peer = await accepted;
    peer.end(Buffer.from([7, 7]));
    const err = await rx.closedWith;
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect(err!.message).toMatch(new RegExp(`^tcp:${LOOPBACK}:${srv.port}: `));
    expect(rx.bytes()).toEqual(Uint8Array.from([7, 7]));
    expect(link.isOpen).toBe(false);
    await expect(link.write(Uint8Array.of(1))).rejects.toBeInstanceOf(DeviceUnreachable);
  });

  it('reports a reset mid-session as closed(DeviceUnreachable)', async () => {
    const srv = await startServer();
    const accepted = srv.nextSocket();
    const link = await new TcpTransport(target(srv.port)).open();
    cleanups.push(() => link.close());
    const rx = collector(link);
    (await accepted).resetAndDestroy();
    expect(await rx.closedWith).toBeInstanceOf(DeviceUnreachable);
  });

  it('close() is idempotent, reports no error and frees the socket', async () => {
    const srv = await startServer();
    const before = tcpHandles(); // the baseline: afterEach waited for every earlier test's handles to go
    let sock: net.Socket | undefined;
    const link = await new TcpTransport(target(srv.port), { connect: (o) => (sock = net.connect(o)) }).open();
    const rx = collector(link);
    await link.close();
    await link.close();
    await Promise.all([link.close(), link.close()]);
    expect(link.isOpen).toBe(false);
    expect(await rx.closedWith).toBeUndefined();
    expect(sock!.destroyed).toBe(true);
    await handleClosed(sock!);
    await expect(link.write(Uint8Array.of(1))).rejects.toBeInstanceOf(DeviceUnreachable);
    // The server side sees the end too, and no socket handle is left open on either side.
    await Promise.all(srv.sockets.map(handleClosed));
    const conns = await new Promise<number>((r) => srv.server.getConnections((_, n) => r(n)));
    expect(conns).toBe(0);
    await until(() => tcpHandles() === before, `the handles to return to ${before}`);
  });

  it('open-then-close leaves no handles even when the peer never ends its side', async () => {
    // allowHalfOpen: the server keeps its side open after our FIN; close() must still finish.
    const held: net.Socket[] = [];
    const server = net.createServer({ allowHalfOpen: true }, (s) => (s.on('error', () => {}), held.push(s)));
    await new Promise<void>((r) => server.listen({ host: LOOPBACK, port: 0 }, r));
    cleanups.push(() => new Promise<void>((r) => (held.forEach((s) => s.destroy()), server.close(() => r()))));
    const port = (server.address() as net.AddressInfo).port;
    const before = tcpHandles(); // the baseline: afterEach waited for every earlier test's handles to go
    let sock: net.Socket | undefined;
    const link = await new TcpTransport(target(port), { connect: (o) => (sock = net.connect(o)) }).open();
    // close() returns although the peer never ends its side (a close that waited for it would hang
    // past the test's timeout): after the grace period it destroys the socket.
    await link.close();
    expect(sock!.destroyed).toBe(true);
    await handleClosed(sock!);
    // The peer really never ended: its side is still open for writing.
    expect(held).toHaveLength(1);
    expect(held[0]!.writableEnded).toBe(false);
    // Only the server's own (half-open) side is left; our client socket handle goes.
    await until(() => tcpHandles() === before + 1, `the handles to drop to ${before + 1}`);
    expect(held[0]!.destroyed).toBe(false);
    held[0]!.destroy();
    await handleClosed(held[0]!);
    await until(() => tcpHandles() === before, `the handles to return to ${before}`);
  });

  describe('modem bursts: bytes pass through unmodified, in order, with no framing assumptions', () => {
    const frames = [
      buildDeviceFrame(0xa4, Uint8Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff)),
      buildDeviceFrame(0x15, Uint8Array.from([0x10, 0x02, 0x03, 0x10, 0x10, 0x41])),
      buildDeviceFrame(0xea, Uint8Array.from({ length: 300 }, (_, i) => 255 - (i & 0xff))),
    ];
    const all = Buffer.concat(frames);

    function parseFrames(bytes: Uint8Array): number {
      const items = new DeviceFrameParser().push(bytes);
      expect(items.filter((i) => i.kind !== 'frame')).toEqual([]);
      return items.length;
    }

    it('a frame split into many tiny delayed writes arrives whole and in order', async () => {
      const srv = await startServer();
      const accepted = srv.nextSocket();
      const link = await new TcpTransport(target(srv.port)).open();
      cleanups.push(() => link.close());
      const rx = collector(link);
      const peer = await accepted;
      // 1–3 bytes at a time, with delays up to 8 ms: the split lands anywhere, mid-escape included.
      // (The sleeps drive the scenario — they spread the writes out; nothing is asserted on time.)
      let seed = 7;
      for (let i = 0; i < all.length; ) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const n = 1 + (seed % 3);
        peer.write(all.subarray(i, i + n));
        i += n;
        if (seed % 4 === 0) await sleep(seed % 9);
      }
      const got = await rx.waitFor(all.length);
      expect(Buffer.from(got)).toEqual(all);
      expect(rx.chunks.length).toBeGreaterThan(1);
      expect(parseFrames(got)).toBe(frames.length);
    });

    it('several frames coalesced into one write arrive as the same bytes', async () => {
      const srv = await startServer();
      const accepted = srv.nextSocket();
      const link = await new TcpTransport(target(srv.port)).open();
      cleanups.push(() => link.close());
      const rx = collector(link);
      const peer = await accepted;
      peer.write(Buffer.concat([all, all]));
      const got = await rx.waitFor(all.length * 2);
      expect(Buffer.from(got)).toEqual(Buffer.concat([all, all]));
      expect(parseFrames(got)).toBe(frames.length * 2);
    });

    it('host writes leave in order, each at once', async () => {
      const srv = await startServer();
      const accepted = srv.nextSocket();
      const link = await new TcpTransport(target(srv.port)).open();
      cleanups.push(() => link.close());
      const peer = await accepted;
      const atServer = readAll(peer, all.length);
      for (const f of frames) await link.write(f);
      expect(await atServer).toEqual(all);
    });
  });
});

describe('tcpTransportFactory', () => {
  it('makes TcpTransports for tcp targets and refuses others', () => {
    expect(tcpTransportFactory.kind).toBe('tcp');
    const t = tcpTransportFactory.create({ kind: 'tcp', host: LOOPBACK, port: 12345 });
    expect(t).toBeInstanceOf(TcpTransport);
    expect(t.target).toEqual({ kind: 'tcp', host: LOOPBACK, port: 12345 });
    expect(() => tcpTransportFactory.create({ kind: 'serial', path: '/dev/ttyS0', baud: 38400 })).toThrow(TypeError);
  });

  it('passes its options on', async () => {
    const f = createTcpTransportFactory({ connectTimeoutMs: 15, connect: () => new net.Socket() });
    const err = await f.create(target(9)).open().catch((e: unknown) => e);
    expect((err as Error).message).toBe(`tcp:${LOOPBACK}:9: no answer within 15 ms`);
  });

  it('rejects a port out of range', () => {
    expect(() => new TcpTransport({ kind: 'tcp', host: LOOPBACK, port: 0 })).toThrow(RangeError);
  });
});
