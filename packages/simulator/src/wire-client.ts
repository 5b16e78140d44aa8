/**
 * A minimal host for tests: sends request frames over a Duplex (or a TCP connection) and parses
 * what comes back with the client's DeviceFrameParser. It is not the device client — it has no
 * retries, no timeouts policy, no sequencing — only enough to watch the wire.
 */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { DeviceFrameParser, type DeviceFrame, type ParsedItem } from '@sfm/core/protocol';

export class WireClient {
  /** Everything received, in order. */
  readonly items: ParsedItem[] = [];
  private rawChunks: Buffer[] = [];
  private readonly parser = new DeviceFrameParser();
  private waiters: (() => void)[] = [];
  private consumed = 0;
  private ended = false;
  readonly closed: Promise<void>;

  constructor(readonly stream: Duplex) {
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        if (this.ended) return;
        this.ended = true;
        this.items.push(...this.parser.end());
        this.wake();
        resolve();
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
    stream.on('data', (chunk: Buffer) => {
      this.rawChunks.push(chunk);
      this.items.push(...this.parser.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      this.wake();
    });
  }

  static connect(address: { host: string; port: number }): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const s = connect(address.port, address.host, () => {
        s.off('error', reject);
        s.setNoDelay(true);
        resolve(new WireClient(s));
      });
      s.once('error', reject);
    });
  }

  /** Every byte received so far. */
  get raw(): Buffer {
    return Buffer.concat(this.rawChunks);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  send(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  /** The next frame not returned before (good checksum or not); rejects after `timeoutMs`. */
  async nextFrame(timeoutMs = 2000): Promise<DeviceFrame> {
    const item = await this.nextItem((i) => i.kind === 'frame', timeoutMs);
    return (item as { frame: DeviceFrame }).frame;
  }

  /** The next item (frame, noise, error) matching `pred` after the ones already consumed. */
  async nextItem(pred: (i: ParsedItem) => boolean, timeoutMs = 2000): Promise<ParsedItem> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.consumed < this.items.length) {
        const i = this.items[this.consumed++]!;
        if (pred(i)) return i;
      }
      if (this.ended) throw new Error('the connection ended');
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`nothing within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves true if a frame arrives within `ms`, false otherwise (it is not consumed). */
  async frameWithin(ms: number): Promise<boolean> {
    const start = this.consumed;
    const deadline = performance.now() + ms;
    for (;;) {
      if (this.items.slice(start).some((i) => i.kind === 'frame')) return true;
      const left = deadline - performance.now();
      if (left <= 0 || this.ended) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.stream.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
