import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialPortMock } from 'serialport';
import { DeviceUnreachable } from '@sfm/core/client';
import { DEFAULT_BAUD, type Link } from '@sfm/core/transport';
import {
  SerialTransport,
  createSerialTransportFactory,
  describeOpenError,
  serialTransportFactory,
  type BindingInterface,
  type SerialTarget,
} from './index.js';
import { mockCable, receive } from './support.test-helpers.js';

const PATH = '/dev/ttyMOCK1';
const target = (path = PATH): SerialTarget => ({ kind: 'serial', path, baud: DEFAULT_BAUD });

/** Polls `cond` every few ms until it holds; fails after a generous 5 s (a bound on a hang, not a speed target). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const links: Link[] = [];
const track = (l: Link): Link => (links.push(l), l);
beforeEach(() => SerialPortMock.binding.reset());
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
  SerialPortMock.binding.reset();
});

type PortBinding = Awaited<ReturnType<BindingInterface['open']>>;

/**
 * A binding whose open() does not answer until the test calls `release()` (never, unless it does),
 * then asks the mock. `calls` counts open() calls, `opened` the ports it opened, `port` is the last.
 */
function gatedBinding(): BindingInterface & { calls: number; opened: number; port: PortBinding | undefined; release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const b = {
    calls: 0,
    opened: 0,
    port: undefined as PortBinding | undefined,
    release: () => release(),
    list: () => SerialPortMock.binding.list(),
    async open(options: Parameters<BindingInterface['open']>[0]) {
      b.calls++;
      await gate;
      const port = await SerialPortMock.binding.open(options);
      b.port = port;
      b.opened++;
      return port;
    },
  };
  return b;
}

/** True once the gated binding's late port has been opened and closed again (its lock released). */
const lateClosed = (b: { port: PortBinding | undefined }) => (): boolean => b.port !== undefined && !b.port.isOpen;

describe('SerialTransport on the mock binding', () => {
  it('opens, writes and reads (SerialPortMock as the binding, echo on)', async () => {
    SerialPortMock.binding.createPort(PATH, { echo: true });
    const link = track(await new SerialTransport(target(), { binding: SerialPortMock }).open());
    expect(link.isOpen).toBe(true);
    const rx = receive(link);
    const frame = Uint8Array.from([0x41, 0x10, 0x02, 0x10, 0x10, 0x00, 0x11, 0x13, 0x03]);
    await link.write(frame);
    expect(new Uint8Array(await rx.sink.waitFor(frame.length))).toEqual(frame);
  });

  it('reads what the device emits, including bytes that came before a receiver was set', async () => {
    const cable = mockCable(PATH);
    // Count the bytes the transport reads off the port, to know when the early ones have been taken.
    let bytesRead = 0;
    const binding: BindingInterface = {
      list: () => cable.binding.list(),
      async open(options) {
        const port = await cable.binding.open(options);
        const read = port.read.bind(port);
        port.read = async (buffer, offset, length) => {
          const r = await read(buffer, offset, length);
          bytesRead += r.bytesRead;
          return r;
        };
        return port;
      },
    };
    const link = track(await new SerialTransport(target(), { binding }).open());
    cable.deviceWrite(Uint8Array.of(1, 2, 3));
    await until(() => bytesRead === 3, 'the transport to read the early bytes');
    // From the port read to the link is promises and nextTicks only: one loop turn lands them in the link.
    await new Promise((r) => setImmediate(r));
    const rx = receive(link);
    // setReceiver hands over what came before at once (synchronously), so they are here already.
    expect([...rx.sink.bytes()]).toEqual([1, 2, 3]);
    cable.deviceWrite(Uint8Array.of(4, 5));
    expect([...(await rx.sink.waitFor(5))]).toEqual([1, 2, 3, 4, 5]);
  });

  it('accepts the binding object itself (SerialPortMock.binding), the node-serialport way', async () => {
    SerialPortMock.binding.createPort(PATH, { echo: true });
    const link = track(await new SerialTransport(target(), { binding: SerialPortMock.binding }).open());
    const rx = receive(link);
    await link.write(Uint8Array.of(9));
    expect([...(await rx.sink.waitFor(1))]).toEqual([9]);
  });

  it('opens 38400 8N1, no flow control, exclusive, by default', async () => {
    const cable = mockCable(PATH);
    track(await new SerialTransport(target(), { binding: cable.binding }).open());
    expect(cable.ports[0]!.openOptions).toMatchObject({
      path: PATH,
      baudRate: 38400,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      rtscts: false,
      xon: false,
      xoff: false,
      lock: true,
    });
  });

  it('passes the target baud and the configured line settings on', async () => {
    const cable = mockCable(PATH);
    const t = new SerialTransport({ kind: 'serial', path: PATH, baud: 9600 }, { binding: cable.binding, dataBits: 7, parity: 'even', stopBits: 2, rtscts: true, lock: false });
    track(await t.open());
    expect(cable.ports[0]!.openOptions).toMatchObject({ baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 2, rtscts: true, lock: false });
  });

  it('a missing port fails with DeviceUnreachable: no such port', async () => {
    const err = await new SerialTransport(target('/dev/ttyNOPE'), { binding: SerialPortMock }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toMatch(/^serial:\/dev\/ttyNOPE:38400: no such port \(Port does not exist/);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('gives up on a port that does not open in time, and closes it if it opens later (releasing the lock)', async () => {
    SerialPortMock.binding.createPort(PATH);
    const gated = gatedBinding();
    // The port cannot open before release(), so this open can only end by its own timeout.
    const err = await new SerialTransport(target(), { binding: gated, openTimeoutMs: 20 }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe(`serial:${PATH}:38400: no answer within 20 ms (the port did not open)`);
    expect([gated.calls, gated.opened]).toEqual([1, 0]);
    // Now the port opens, late: the transport closes it.
    gated.release();
    await until(lateClosed(gated), 'the late port to be closed');
    expect(gated.opened).toBe(1);
    // The late port was closed: the path is free again.
    track(await new SerialTransport(target(), { binding: SerialPortMock }).open());
  });

  it('lets open({ timeoutMs }) override the configured open timeout', async () => {
    const err = await new SerialTransport(target(), { binding: gatedBinding(), openTimeoutMs: 60_000 }).open({ timeoutMs: 15 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`serial:${PATH}:38400: no answer within 15 ms (the port did not open)`);
  });

  it('aborts a pending open through the signal, and closes a port that opens afterwards', async () => {
    SerialPortMock.binding.createPort(PATH);
    const gated = gatedBinding();
    const ac = new AbortController();
    // The port cannot open before release() and the timeout is far beyond the test's: only the abort can end this open.
    const pending = new SerialTransport(target(), { binding: gated, openTimeoutMs: 600_000 }).open({ signal: ac.signal }).catch((e: unknown) => e);
    await until(() => gated.calls === 1, 'the open to reach the binding');
    ac.abort(new Error('operator cancelled'));
    const err = await pending;
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe(`serial:${PATH}:38400: open aborted`);
    expect(((err as Error).cause as Error).message).toBe('operator cancelled');
    expect(gated.opened).toBe(0);
    gated.release();
    await until(lateClosed(gated), 'the late port to be closed');
    track(await new SerialTransport(target(), { binding: SerialPortMock }).open());
  });

  it('rejects at once when the signal is already aborted, without touching the port', async () => {
    const gated = gatedBinding();
    // The port never opens and the timeout is far beyond the test's: only the abort check can end this open.
    const err = await new SerialTransport(target(), { binding: gated, openTimeoutMs: 600_000 }).open({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe(`serial:${PATH}:38400: open aborted`);
    // Anything that opens the port would have called the binding by now; one more loop turn for good measure.
    await new Promise((r) => setImmediate(r));
    expect(gated.calls).toBe(0);
  });

  it('a port that vanishes ends the link with closed(DeviceUnreachable); writes then fail', async () => {
    const cable = mockCable(PATH);
    const link = track(await new SerialTransport(target(), { binding: cable.binding }).open());
    const rx = receive(link);
    cable.unplug();
    const closed = await rx.closed;
    expect(closed).toBeInstanceOf(DeviceUnreachable);
    expect(closed!.message).toBe(`serial:${PATH}:38400: the device went away (EIO: i/o error, read)`);
    await expect(link.write(Uint8Array.of(1))).rejects.toBeInstanceOf(DeviceUnreachable);
    // The binding released the port: it can be opened again once the device is back.
    track(await new SerialTransport(target(), { binding: cable.binding }).open());
  });

  it('rejects a bad configuration as DeviceUnreachable rather than throwing synchronously', async () => {
    const err = await new SerialTransport(target(''), { binding: SerialPortMock }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
  });
});

describe('describeOpenError', () => {
  it.each([
    // bindings-cpp (Linux/macOS)
    ['Error: No such file or directory, cannot open /dev/ttyUSB0', /^no such port \(/],
    ['Error: Permission denied, cannot open /dev/ttyS0', /^permission denied: .*dialout/],
    ['Error Resource temporarily unavailable Cannot lock port', /^port is locked or busy: /],
    ['Error: Device or resource busy, cannot open /dev/ttyUSB0', /^port is locked or busy: /],
    ['Error: No such device or address, cannot open /dev/ttyUSB0', /^no such device: the adapter may be unplugged/],
    // bindings-cpp (Windows)
    ['Opening COM3: File not found', /^no such port \(/],
    ['Opening COM3: Access denied', /^port is locked or busy: /],
    // the mock binding
    ["Port does not exist - please call MockBinding.createPort('/dev/x') first", /^no such port \(/],
    ['Port is locked cannot open', /^port is locked or busy: /],
    ['something else', /^something else$/],
  ])('%s', (message, expected) => {
    expect(describeOpenError(new Error(message))).toMatch(expected);
  });
});

describe('serialTransportFactory', () => {
  it('makes SerialTransports for serial targets and refuses others', () => {
    expect(serialTransportFactory.kind).toBe('serial');
    const t = serialTransportFactory.create(target());
    expect(t).toBeInstanceOf(SerialTransport);
    expect(t.target).toEqual(target());
    expect(() => serialTransportFactory.create({ kind: 'tcp', host: '127.0.0.1', port: 12345 })).toThrow(TypeError);
  });

  it('passes its options on', async () => {
    SerialPortMock.binding.createPort(PATH, { echo: true });
    const f = createSerialTransportFactory({ binding: SerialPortMock });
    const link = track(await f.create(target()).open());
    const rx = receive(link);
    await link.write(Uint8Array.of(7));
    expect([...(await rx.sink.waitFor(1))]).toEqual([7]);
  });
});
