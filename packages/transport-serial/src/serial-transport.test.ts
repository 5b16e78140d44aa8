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
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const links: Link[] = [];
const track = (l: Link): Link => (links.push(l), l);
beforeEach(() => SerialPortMock.binding.reset());
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
  SerialPortMock.binding.reset();
});

/** A binding whose open() waits `delayMs` before asking the mock (or never answers, for Infinity). */
function slowBinding(delayMs: number): BindingInterface & { opened: number } {
  const b = {
    opened: 0,
    list: () => SerialPortMock.binding.list(),
    async open(options: Parameters<BindingInterface['open']>[0]) {
      await new Promise((r) => (Number.isFinite(delayMs) ? setTimeout(r, delayMs) : undefined));
      const port = await SerialPortMock.binding.open(options);
      b.opened++;
      return port;
    },
  };
  return b;
}

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
    const link = track(await new SerialTransport(target(), { binding: cable.binding }).open());
    cable.deviceWrite(Uint8Array.of(1, 2, 3));
    await sleep(10);
    const rx = receive(link);
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
    const slow = slowBinding(60);
    const started = Date.now();
    const err = await new SerialTransport(target(), { binding: slow, openTimeoutMs: 20 }).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe(`serial:${PATH}:38400: no answer within 20 ms (the port did not open)`);
    expect(Date.now() - started).toBeLessThan(60);
    await sleep(100);
    expect(slow.opened).toBe(1);
    // The late port was closed: the path is free again.
    track(await new SerialTransport(target(), { binding: SerialPortMock }).open());
  });

  it('lets open({ timeoutMs }) override the configured open timeout', async () => {
    const err = await new SerialTransport(target(), { binding: slowBinding(Infinity), openTimeoutMs: 60_000 }).open({ timeoutMs: 15 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`serial:${PATH}:38400: no answer within 15 ms (the port did not open)`);
  });

  it('aborts a pending open through the signal, and closes a port that opens afterwards', async () => {
    SerialPortMock.binding.createPort(PATH);
    const slow = slowBinding(40);
    const ac = new AbortController();
    const pending = new SerialTransport(target(), { binding: slow }).open({ signal: ac.signal }).catch((e: unknown) => e);
    setTimeout(() => ac.abort(new Error('operator cancelled')), 5);
    const err = await pending;
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect((err as Error).message).toBe(`serial:${PATH}:38400: open aborted`);
    expect(((err as Error).cause as Error).message).toBe('operator cancelled');
    await sleep(80);
    track(await new SerialTransport(target(), { binding: SerialPortMock }).open());
  });

  it('rejects at once when the signal is already aborted, without touching the port', async () => {
    const slow = slowBinding(0);
    const err = await new SerialTransport(target(), { binding: slow }).open({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    await sleep(10);
    expect(slow.opened).toBe(0);
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
