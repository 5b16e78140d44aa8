/**
 * Link emulation for the device→host direction, in two stages like the real path:
 *
 *   unit UART (baud/10 bytes per second, 8N1)  →  modem (holds each burst forwardDelayMs
 *   after its last byte, then forwards it at once)  →  the host's socket
 *
 * Pacing runs on timers (it never blocks the event loop) and keeps the order of what was queued.
 * Pacing uses real time (performance.now), not the unit clock: it is about the link, not the unit.
 */
import { concatBytes } from '@sfm/core/protocol';
import { DEFAULT_BAUD } from '@sfm/core/transport';

export interface LinkOptions {
  /** Serial speed; the unit's output is paced at baud/10 bytes per second. 0 = unlimited. Default 38400. */
  baud?: number;
  /** The modem holds each burst this long (after its last byte) before forwarding it. Default 0. */
  forwardDelayMs?: number;
}

/** How often the UART stage hands bytes on while paced. */
const TICK_MS = 10;

export class PacedOutput {
  private readonly bytesPerMs: number;
  private readonly forwardDelayMs: number;
  private queue: Uint8Array[] = [];
  private headOffset = 0;
  private queued = 0;
  private busySince = 0;
  private sentInBusy = 0;
  private uartTimer: NodeJS.Timeout | null = null;
  private held: Uint8Array[] = [];
  private modemTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly deliver: (bytes: Uint8Array) => void,
    opts: LinkOptions = {},
  ) {
    const baud = opts.baud ?? DEFAULT_BAUD;
    if (!Number.isFinite(baud) || baud < 0) throw new RangeError(`baud must be ≥ 0, got ${baud}`);
    const delay = opts.forwardDelayMs ?? 0;
    if (!Number.isFinite(delay) || delay < 0) throw new RangeError(`forwardDelayMs must be ≥ 0, got ${delay}`);
    this.bytesPerMs = baud / 10 / 1000;
    this.forwardDelayMs = delay;
  }

  /** Bytes waiting in the UART stage or held by the modem. */
  get pending(): number {
    let held = 0;
    for (const h of this.held) held += h.length;
    return this.queued + held;
  }

  /** Queues bytes for the host; they go out after everything queued before them. */
  enqueue(bytes: Uint8Array): void {
    if (this.stopped || bytes.length === 0) return;
    if (this.bytesPerMs === 0) {
      this.toModem(bytes);
      return;
    }
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (!this.uartTimer) {
      this.busySince = performance.now();
      this.sentInBusy = 0;
      this.schedule();
    }
  }

  /** Drops what the unit has not sent yet (a reboot cuts its output off); the modem keeps what it holds. */
  discardUnsent(): void {
    this.queue = [];
    this.headOffset = 0;
    this.queued = 0;
    if (this.uartTimer) clearTimeout(this.uartTimer);
    this.uartTimer = null;
  }

  /** Stops for good: nothing more is delivered. */
  stop(): void {
    this.stopped = true;
    this.discardUnsent();
    if (this.modemTimer) clearTimeout(this.modemTimer);
    this.modemTimer = null;
    this.held = [];
  }

  private schedule(): void {
    // Wake at the next tick, or sooner when the next byte is due sooner.
    const due = (this.sentInBusy + 1) / this.bytesPerMs - (performance.now() - this.busySince);
    this.uartTimer = setTimeout(() => this.pump(), Math.max(1, Math.min(TICK_MS, Math.ceil(due))));
  }

  private pump(): void {
    this.uartTimer = null;
    if (this.stopped) return;
    const allowed = Math.floor((performance.now() - this.busySince) * this.bytesPerMs) - this.sentInBusy;
    let n = Math.min(Math.max(0, allowed), this.queued);
    if (n > 0) {
      const parts: Uint8Array[] = [];
      this.sentInBusy += n;
      this.queued -= n;
      while (n > 0) {
        const head = this.queue[0]!;
        const take = Math.min(n, head.length - this.headOffset);
        parts.push(head.subarray(this.headOffset, this.headOffset + take));
        this.headOffset += take;
        n -= take;
        if (this.headOffset === head.length) {
          this.queue.shift();
          this.headOffset = 0;
        }
      }
      this.toModem(parts.length === 1 ? parts[0]! : concatBytes(parts));
    }
    if (this.queued > 0) this.schedule();
  }

  private toModem(bytes: Uint8Array): void {
    if (this.forwardDelayMs === 0) {
      this.deliver(bytes);
      return;
    }
    this.held.push(bytes);
    if (this.modemTimer) clearTimeout(this.modemTimer);
    this.modemTimer = setTimeout(() => {
      this.modemTimer = null;
      const burst = concatBytes(this.held);
      this.held = [];
      if (!this.stopped) this.deliver(burst);
    }, this.forwardDelayMs);
  }
}
