/**
 * A Link over any Node Duplex stream (a TCP socket, a serial port, one end of an in-process
 * pipe). Incoming bytes are buffered until a receiver is set, so nothing is lost between open()
 * and the client's first read.
 */
import type { Duplex } from 'node:stream';
import type { Link, LinkReceiver } from './transport.js';
import { DeviceUnreachable } from '../client/errors.js';

export class StreamLink implements Link {
  private receiver: LinkReceiver | null = null;
  private early: Uint8Array[] = [];
  private endedWith: { error?: Error } | null = null;
  private open = true;

  constructor(
    private readonly stream: Duplex,
    private readonly describe = 'link',
  ) {
    stream.on('data', (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (this.receiver) this.receiver.data(bytes);
      else this.early.push(bytes);
    });
    const end = (error?: Error): void => {
      if (this.endedWith) return;
      this.open = false;
      this.endedWith = error ? { error } : {};
      this.receiver?.closed(error);
    };
    stream.on('error', (e) => end(new DeviceUnreachable(`${this.describe}: ${e.message}`, { cause: e })));
    stream.on('end', () => end(this.open ? new DeviceUnreachable(`${this.describe}: the unit closed the connection`) : undefined));
    stream.on('close', () => end(this.open ? new DeviceUnreachable(`${this.describe}: the connection closed`) : undefined));
  }

  get isOpen(): boolean {
    return this.open;
  }

  setReceiver(receiver: LinkReceiver): void {
    this.receiver = receiver;
    const early = this.early;
    this.early = [];
    for (const chunk of early) receiver.data(chunk);
    if (this.endedWith) receiver.closed(this.endedWith.error);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.open) return Promise.reject(new DeviceUnreachable(`${this.describe}: the link is closed`));
    return new Promise((resolve, reject) => {
      this.stream.write(bytes, (err) => (err ? reject(new DeviceUnreachable(`${this.describe}: write failed: ${err.message}`, { cause: err })) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (!this.open && this.stream.destroyed) return;
    this.open = false;
    await new Promise<void>((resolve) => {
      if (this.stream.destroyed) return resolve();
      this.stream.once('close', () => resolve());
      this.stream.end();
      // A peer that never ends its side must not hold the close up.
      setTimeout(() => {
        this.stream.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}
