/**
 * The serial transport: reaches a unit over RS-232 (a USB adapter, a UART, one end of a pty) via
 * node-serialport.
 *
 * The binding is injectable the node-serialport way: by default the real one
 * (`SerialPort.binding` from `serialport`, loaded only when first needed, so code that always
 * injects a binding never loads the native addon); tests pass `SerialPortMock` (or its
 * `.binding`). A SerialPortStream does not close its port when destroyed, so the port is wrapped
 * in a small Duplex whose end and destroy close it: StreamLink's clean close then releases the
 * port and its lock at once, and the same path can be opened again.
 */
import { Duplex } from 'node:stream';
import { SerialPortStream, type OpenOptions as PortOpenOptions } from '@serialport/stream';
import { DeviceUnreachable } from '@sfm/core/client';
import { DEFAULT_BAUD, StreamLink, connectionKey } from '@sfm/core/transport';
import type { DeviceTarget, Link, OpenOptions, Transport, TransportFactory } from '@sfm/core/transport';

/** node-serialport's binding interface (`@serialport/bindings-interface` ships no resolvable typings). */
export type BindingInterface = PortOpenOptions['binding'];

export type SerialTarget = Extract<DeviceTarget, { kind: 'serial' }>;

/** A node-serialport binding, or a port class that carries one as `.binding` (`SerialPort`, `SerialPortMock`). */
export type SerialBindingOption = BindingInterface | { readonly binding: BindingInterface };

export type SerialParity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export const DEFAULT_OPEN_TIMEOUT_MS = 5_000;

export interface SerialTransportOptions {
  /** The hardware binding; default the real one (`SerialPort.binding`). */
  binding?: SerialBindingOption;
  /** Default 8. */
  dataBits?: 5 | 6 | 7 | 8;
  /** Default 'none'. */
  parity?: SerialParity;
  /** Default 1. */
  stopBits?: 1 | 1.5 | 2;
  /** RTS/CTS hardware flow control. Default off. */
  rtscts?: boolean;
  /** XON/XOFF software flow control. Default off (the protocol is binary: 0x11/0x13 are data). */
  xon?: boolean;
  xoff?: boolean;
  /** Open the port exclusively, so no other program (or second open) can interleave bytes. Default true. */
  lock?: boolean;
  /** Give up opening after this long (DeviceUnreachable); `open({ timeoutMs })` overrides it. Default 5 s. */
  openTimeoutMs?: number;
}

function isBinding(b: SerialBindingOption): b is BindingInterface {
  return typeof (b as BindingInterface).open === 'function' && typeof (b as BindingInterface).list === 'function';
}

let realBinding: Promise<BindingInterface> | undefined;
/** The platform's native binding, loaded on first use. */
function loadRealBinding(): Promise<BindingInterface> {
  realBinding ??= import('serialport').then((m) => m.SerialPort.binding as BindingInterface);
  return realBinding;
}

/** Why a port would not open, for people. Covers bindings-cpp (Linux, macOS, Windows) and the mock binding. */
export function describeOpenError(e: Error): string {
  const m = e.message;
  if (/lock|busy|temporarily unavailable|access denied|EBUSY|EAGAIN|EWOULDBLOCK/i.test(m)) {
    return `port is locked or busy: another program (or another session) has it open (${m})`;
  }
  if (/permission denied|EACCES|EPERM|operation not permitted/i.test(m)) {
    return `permission denied: the user may not open the port; on Linux add it to the "dialout" group (${m})`;
  }
  if (/no such file|does not exist|cannot find|not found|ENOENT/i.test(m)) return `no such port (${m})`;
  if (/no such device|ENXIO|ENODEV/i.test(m)) return `no such device: the adapter may be unplugged (${m})`;
  return m;
}

/**
 * A SerialPortStream as a Duplex that owns the port: ending or destroying it closes the port (so
 * the lock is released), and the port closing under it (a disconnect) destroys it with an error.
 * Bytes pass through untouched, with back-pressure.
 */
class SerialPortDuplex extends Duplex {
  private closing: Promise<void> | null = null;

  constructor(private readonly port: SerialPortStream) {
    super({ allowHalfOpen: false });
    port.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) port.pause();
    });
    port.on('error', (e: Error) => this.destroy(e));
    port.on('close', (err?: Error | null) => {
      if (this.closing) return; // our own close below
      this.closing = Promise.resolve();
      this.destroy(new Error(err ? `the device went away (${err.message})` : 'the port closed'));
    });
  }

  override _read(): void {
    this.port.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // SerialPortStream queues writes on a closed port until it opens again: fail them instead.
    if (!this.port.isOpen) return callback(new Error('the port is not open'));
    this.port.write(chunk, (err) => callback(err ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closePort().then(
      () => {
        callback();
        this.destroy();
      },
      (e: Error) => callback(e),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closePort().then(
      () => callback(error),
      () => callback(error),
    );
  }

  private closePort(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      if (!this.port.isOpen) return resolve();
      this.port.close((err) => (err && this.port.isOpen ? reject(err) : resolve()));
    });
    return this.closing;
  }
}

export class SerialTransport implements Transport {
  readonly target: SerialTarget;
  private readonly options: SerialTransportOptions;

  constructor(target: SerialTarget, options: SerialTransportOptions = {}) {
    if (target.kind !== 'serial') throw new TypeError(`SerialTransport needs a serial target, got ${target.kind}`);
    this.target = target;
    this.options = options;
  }

  /** `serial:<path>:<baud>`, the prefix of every message this transport produces. */
  get key(): string {
    return connectionKey(this.target);
  }

  async open(opts: OpenOptions = {}): Promise<Link> {
    return new StreamLink(await this.openStream(opts), this.key);
  }

  /** The open port as a Duplex stream (the emulator serves a unit on one this way). */
  async openStream(opts: OpenOptions = {}): Promise<Duplex> {
    const key = this.key;
    const signal = opts.signal;
    const aborted = (): DeviceUnreachable => new DeviceUnreachable(`${key}: open aborted`, { cause: signal?.reason });
    if (signal?.aborted) throw aborted();
    const timeoutMs = opts.timeoutMs ?? this.options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;

    let binding: BindingInterface;
    try {
      const b = this.options.binding;
      binding = b ? (isBinding(b) ? b : b.binding) : await loadRealBinding();
    } catch (e) {
      throw new DeviceUnreachable(`${key}: the serial port binding could not be loaded: ${(e as Error).message}`, { cause: e });
    }
    if (signal?.aborted) throw aborted();

    const o = this.options;
    let port: SerialPortStream;
    try {
      port = new SerialPortStream({
        binding,
        path: this.target.path,
        baudRate: this.target.baud ?? DEFAULT_BAUD,
        dataBits: o.dataBits ?? 8,
        parity: o.parity ?? 'none',
        stopBits: o.stopBits ?? 1,
        rtscts: o.rtscts ?? false,
        xon: o.xon ?? false,
        xoff: o.xoff ?? false,
        lock: o.lock ?? true,
        autoOpen: false,
      });
    } catch (e) {
      throw new DeviceUnreachable(`${key}: ${(e as Error).message}`, { cause: e });
    }

    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (settle()) reject(aborted());
      };
      const timer = setTimeout(() => {
        if (settle()) reject(new DeviceUnreachable(`${key}: no answer within ${timeoutMs} ms (the port did not open)`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      port.open((err) => {
        if (!settle()) {
          // Gave up already (timeout, abort): a port that opens late is closed so its lock is released.
          if (!err) port.close(() => {});
          return;
        }
        if (err) reject(new DeviceUnreachable(`${key}: ${describeOpenError(err)}`, { cause: err }));
        else resolve();
      });
    });

    return new SerialPortDuplex(port);
  }
}

/** Makes SerialTransports with the given options (`serialTransportFactory` uses the defaults). */
export function createSerialTransportFactory(options: SerialTransportOptions = {}): TransportFactory {
  return {
    kind: 'serial',
    create(target: DeviceTarget): Transport {
      if (target.kind !== 'serial') throw new TypeError(`the serial transport factory cannot reach ${connectionKey(target)}`);
      return new SerialTransport(target, options);
    },
  };
}

export const serialTransportFactory: TransportFactory = createSerialTransportFactory();
