/**
 * Shared by this package's tests (not part of the API; `*.test-helpers.ts` is neither collected
 * as a test file nor shipped): a byte sink that can be awaited, and a mock "cable" built on
 * node-serialport's MockBinding with a device end and an unplug switch.
 */
import { SerialPortMock } from 'serialport';
import type { Link } from '@sfm/core/transport';
import type { BindingInterface } from './serial-transport.js';

/** Collects bytes; `waitFor(n)` resolves once n have arrived (or rejects, saying how many did). */
export class ByteSink {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiters: { n: number; resolve: (b: Buffer) => void }[] = [];
  chunkCount = 0;

  push(chunk: Uint8Array): void {
    this.chunks.push(Buffer.from(chunk));
    this.length += chunk.length;
    this.chunkCount++;
    if (this.waiters.length === 0) return;
    const all = this.bytes();
    this.waiters = this.waiters.filter((w) => (all.length >= w.n ? (w.resolve(all), false) : true));
  }

  bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  clear(): void {
    this.chunks = [];
    this.length = 0;
    this.chunkCount = 0;
  }

  waitFor(n: number, timeoutMs = 8_000): Promise<Buffer> {
    if (this.length >= n) return Promise.resolve(this.bytes());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${n} bytes, got ${this.length}`)), timeoutMs);
      this.waiters.push({ n, resolve: (b) => (clearTimeout(timer), resolve(b)) });
    });
  }
}

/** A LinkReceiver that collects into a ByteSink and records how the link ended. */
export function receive(link: Link): { sink: ByteSink; closed: Promise<Error | undefined>; isClosed(): boolean } {
  const sink = new ByteSink();
  let ended = false;
  let resolveClosed!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (resolveClosed = r));
  link.setReceiver({
    data: (chunk) => sink.push(chunk),
    closed: (error) => {
      ended = true;
      resolveClosed(error);
    },
  });
  return { sink, closed, isClosed: () => ended };
}

type MockPort = Awaited<ReturnType<typeof SerialPortMock.binding.open>>;
type PortBinding = Awaited<ReturnType<BindingInterface['open']>>;

/** A mock port that forwards to MockBinding's and can be "unplugged": its I/O then fails like a vanished USB adapter's. */
export class UnpluggablePort implements PortBinding {
  private unplugged: Error | null = null;
  private readonly waiters = new Set<(e: Error) => void>();

  constructor(
    readonly inner: MockPort,
    private readonly onWrite: (bytes: Buffer) => void,
  ) {}

  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  get openOptions(): PortBinding['openOptions'] {
    return this.inner.openOptions;
  }

  unplug(): void {
    this.unplugged = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    for (const w of this.waiters) w(this.unplugged);
  }

  private guard<T>(p: Promise<T>): Promise<T> {
    if (this.unplugged) {
      p.catch(() => {});
      return Promise.reject(this.unplugged);
    }
    return new Promise<T>((resolve, reject) => {
      this.waiters.add(reject);
      p.then(resolve, reject).finally(() => this.waiters.delete(reject));
    });
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    return this.guard(this.inner.read(buffer, offset, length));
  }
  async write(buffer: Buffer): Promise<void> {
    await this.guard(this.inner.write(buffer));
    this.onWrite(Buffer.from(buffer));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  update(options: { baudRate: number }): Promise<void> {
    return this.inner.update(options);
  }
  set(options: Parameters<PortBinding['set']>[0]): Promise<void> {
    return this.inner.set(options);
  }
  get(): ReturnType<PortBinding['get']> {
    return this.inner.get();
  }
  getBaudRate(): Promise<{ baudRate: number }> {
    return this.inner.getBaudRate();
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  drain(): Promise<void> {
    return this.inner.drain();
  }
}

/**
 * A mock serial cable at `path`: a binding for the host end (pass it to SerialTransport), and a
 * device end that receives what the host writes and can send to the host while the port is open.
 */
export function mockCable(path: string): {
  binding: BindingInterface;
  toDevice: ByteSink;
  ports: UnpluggablePort[];
  deviceWrite(bytes: Uint8Array): void;
  unplug(): void;
} {
  SerialPortMock.binding.createPort(path);
  const ports: UnpluggablePort[] = [];
  const toDevice = new ByteSink();
  const current = (): UnpluggablePort => {
    const p = ports.at(-1);
    if (!p?.isOpen) throw new Error(`mock cable ${path}: the host end is not open`);
    return p;
  };
  const binding: BindingInterface = {
    list: () => SerialPortMock.binding.list(),
    async open(options) {
      const port = new UnpluggablePort(await SerialPortMock.binding.open(options), (b) => toDevice.push(b));
      ports.push(port);
      return port;
    },
  };
  return {
    binding,
    toDevice,
    ports,
    deviceWrite: (bytes) => current().inner.emitData(Buffer.from(bytes)),
    unplug: () => current().unplug(),
  };
}
