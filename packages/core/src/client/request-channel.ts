/**
 * One request, one reply: writes a host frame on a link and waits for the next device frame,
 * skipping line noise. Whatever arrived before a request was sent is stale and dropped. Counts
 * the bytes and round trips of the session (what a cellular link charges for).
 */
import { DeviceFrameParser, type ParsedItem } from '../protocol/frame-parser.js';
import type { DeviceFrame } from '../protocol/frames.js';
import type { Link } from '../transport/transport.js';
import { DeviceTimeout, DeviceUnreachable, ProtocolError } from './errors.js';

export interface ChannelStats {
  bytesOut: number;
  bytesIn: number;
  roundTrips: number;
  noiseBytes: number;
  /** Late answers to a repeated request, skipped. */
  lateReplies: number;
}

type Reply = Extract<ParsedItem, { kind: 'frame' | 'error' }>;

export class RequestChannel {
  private readonly parser = new DeviceFrameParser();
  private readonly replies: Reply[] = [];
  private waiter: ((item: Reply | Error) => void) | null = null;
  private closedError: Error | null = null;
  /** Reply SUBs that may still arrive late (answers to a request sent more than once): skipped while waiting for another. */
  private readonly late = new Set<number>();
  readonly stats: ChannelStats = { bytesOut: 0, bytesIn: 0, roundTrips: 0, noiseBytes: 0, lateReplies: 0 };

  constructor(
    private readonly link: Link,
    private readonly describe: string,
  ) {
    link.setReceiver({
      data: (chunk) => {
        this.stats.bytesIn += chunk.length;
        for (const item of this.parser.push(chunk)) {
          if (item.kind === 'frame' || item.kind === 'error') this.deliver(item);
          else if (item.kind === 'noise') this.stats.noiseBytes += item.bytes.length;
        }
      },
      closed: (error) => {
        this.closedError = error ?? new DeviceUnreachable(`${this.describe}: the link closed`);
        const w = this.waiter;
        this.waiter = null;
        w?.(this.closedError);
      },
    });
  }

  private deliver(item: Reply): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w(item);
    } else {
      this.replies.push(item);
    }
  }

  /** Sends bytes that get no reply (the session reset). */
  async send(bytes: Uint8Array): Promise<void> {
    if (this.closedError) throw this.closedError;
    this.stats.bytesOut += bytes.length;
    await this.link.write(bytes);
  }

  /** Sends a request and returns the reply frame with the expected SUB. */
  async request(bytes: Uint8Array, expectSub: number, timeoutMs: number, what: string): Promise<DeviceFrame> {
    this.replies.length = 0;
    await this.send(bytes);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const item = await this.next(Math.max(0, deadline - performance.now()), timeoutMs, what);
      if (item.kind === 'error') throw new ProtocolError(`${what}: ${item.message}`);
      const f = item.frame as DeviceFrame;
      if (f.sub !== expectSub && f.checksumOk && this.late.has(f.sub)) {
        this.stats.lateReplies++;
        continue;
      }
      if (!f.checksumOk) throw new ProtocolError(`${what}: reply checksum ${hex(f.checksum)} is wrong`);
      if (f.sub !== expectSub) throw new ProtocolError(`${what}: expected reply SUB ${hex(expectSub)}, got ${hex(f.sub)}`);
      this.stats.roundTrips++;
      return f;
    }
  }

  /** From now on, replies with this SUB that come while another is awaited are late answers to a repeated request: skipped. */
  expectLate(replySub: number): void {
    this.late.add(replySub);
  }

  /** The next reply within `waitMs` (`timeoutMs` is the request's whole timeout, for the message). */
  private next(waitMs: number, timeoutMs: number, what: string): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new DeviceTimeout(`${what}: no reply within ${fmtMs(timeoutMs)}`));
      }, waitMs);
      this.waiter = (item) => {
        clearTimeout(timer);
        if (item instanceof Error) reject(item);
        else resolve(item);
      };
    });
  }

  /** Forgets replies and partial frames (after an error, before a retry). */
  discardPending(): void {
    this.replies.length = 0;
    this.parser.reset();
  }

  get isOpen(): boolean {
    return !this.closedError && this.link.isOpen;
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s` : `${ms} ms`;
}
