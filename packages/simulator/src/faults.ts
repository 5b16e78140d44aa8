/**
 * Fault injection, shared by every session of a server. One-shot faults (drop, corrupt, garble,
 * modem text) are used up by the next reply or byte count that triggers them; a stall lasts for
 * its time (or until cleared); a reboot acts at once (server.ts).
 */
import { DLE, ETX, STX, EOT, ACK } from '@sfm/core/protocol';
import { Prng } from './prng.js';

/** What the control API's POST /fault takes (and SimulatorServer.injectFault). */
export type FaultSpec =
  | { kind: 'drop'; after_bytes: number }
  | { kind: 'corrupt' }
  | { kind: 'stall'; ms: number | 'forever' }
  | { kind: 'garble'; bytes: number }
  | { kind: 'reboot' }
  | { kind: 'modem-text' }
  | { kind: 'clear' };

export interface FaultState {
  dropAfterBytes: number | null;
  corruptNextFrame: boolean;
  /** Milliseconds of stall left; null when not stalled; 'forever' until cleared. */
  stall: number | 'forever' | null;
  garbleNextBytes: number;
  modemTextNext: boolean;
}

export const MODEM_TEXT = '\r\nRING\r\n\r\nCONNECT\r\n';
export const BOOT_BANNER = 'Operating System';

export function asciiOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export class FaultInjector {
  private dropAfter: number | null = null;
  private corrupt = false;
  private corruptSub: number | undefined;
  private stallUntil: number | null = null; // performance-clock ms; Infinity = forever
  private garble = 0;
  private modemText = false;
  private readonly rng: Prng;

  constructor(seed = 0x5f4a17) {
    this.rng = new Prng(seed);
  }

  /** Close the connection after `n` more device→host bytes (on whichever connection sends them). */
  dropAfterBytes(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`after_bytes must be a non-negative integer, got ${n}`);
    this.dropAfter = n;
  }
  /** Flip one byte inside the next reply frame's body (never a start/end marker). */
  /** Corrupts the next reply — or, given a request SUB, the next reply to that SUB. */
  corruptNextFrame(requestSub?: number): void {
    this.corrupt = true;
    this.corruptSub = requestSub;
  }
  /** Answer nothing for `ms` milliseconds, or until cleared. */
  stall(ms: number | 'forever'): void {
    if (ms === 'forever') this.stallUntil = Infinity;
    else if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) this.stallUntil = performance.now() + ms;
    else throw new RangeError(`stall takes a non-negative number of milliseconds or 'forever', got ${String(ms)}`);
  }
  /** Send `n` random bytes (0x10, 0x02, 0x03 among them) before the next reply. */
  garbleNext(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 65536) throw new RangeError(`bytes must be an integer from 0 to 65536, got ${n}`);
    this.garble = n;
  }
  /** Send the modem's RING/CONNECT text before the next reply. */
  modemTextNext(): void {
    this.modemText = true;
  }
  clear(): void {
    this.dropAfter = null;
    this.corrupt = false;
    this.stallUntil = null;
    this.garble = 0;
    this.modemText = false;
  }

  get state(): FaultState {
    const stall = this.stallUntil === null ? null : this.stallUntil === Infinity ? 'forever' : Math.max(0, this.stallUntil - performance.now());
    return {
      dropAfterBytes: this.dropAfter,
      corruptNextFrame: this.corrupt,
      stall: stall === 0 ? null : stall,
      garbleNextBytes: this.garble,
      modemTextNext: this.modemText,
    };
  }

  // --- used by sessions and connections -----------------------------------------------------------

  isStalled(): boolean {
    if (this.stallUntil === null) return false;
    if (performance.now() < this.stallUntil) return true;
    this.stallUntil = null;
    return false;
  }

  /** The bytes to send before the next reply (modem text, garbage), and the reply, corrupted if asked. */
  applyToReply(frame: Uint8Array, requestSub?: number): { before: Uint8Array[]; frame: Uint8Array } {
    const before: Uint8Array[] = [];
    if (this.modemText) {
      before.push(asciiOf(MODEM_TEXT));
      this.modemText = false;
    }
    if (this.garble > 0) {
      before.push(this.randomBytes(this.garble));
      this.garble = 0;
    }
    if (this.corrupt && (this.corruptSub === undefined || this.corruptSub === requestSub)) {
      frame = corruptFrame(frame, this.rng);
      this.corrupt = false;
    }
    return { before, frame };
  }

  /**
   * How many of `n` bytes may go out before the link drops: n when no drop is pending; otherwise
   * the bytes left in the budget, and `drop` true when the budget runs out with them.
   */
  takeDropBudget(n: number): { allowed: number; drop: boolean } {
    if (this.dropAfter === null) return { allowed: n, drop: false };
    if (n >= this.dropAfter) {
      const allowed = this.dropAfter;
      this.dropAfter = null;
      return { allowed, drop: true };
    }
    this.dropAfter -= n;
    return { allowed: n, drop: false };
  }

  private randomBytes(n: number): Uint8Array {
    const markers = [DLE, STX, ETX, ACK];
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rng.next() < 0.25 ? markers[this.rng.int(0, markers.length - 1)]! : this.rng.int(0, 255);
    return out;
  }
}

/**
 * Flips one plain byte of a device frame's data (not a marker, not a DLE or the byte it escapes,
 * not the 5-byte header), so the frame still parses but its checksum no longer matches.
 */
export function corruptFrame(frame: Uint8Array, rng: Prng): Uint8Array {
  const out = frame.slice();
  let i = out[0] === ACK ? 1 : 0;
  if (out[i] !== DLE || out[i + 1] !== STX) return out;
  i += 2;
  const candidates: number[] = [];
  let logical = 0;
  for (; i < out.length - 1; i++) {
    if (out[i] === DLE) {
      i++; // the escaped byte is left alone
    } else if (logical >= 5) {
      candidates.push(i);
    }
    logical++;
  }
  if (candidates.length === 0) return out;
  const at = candidates[rng.int(0, candidates.length - 1)]!;
  const special = (b: number): boolean => b === DLE || b === STX || b === ETX || b === EOT;
  for (const mask of [0x20, 0x40, 0x80, 0x01, 0x08]) {
    const v = out[at]! ^ mask;
    if (!special(v)) {
      out[at] = v;
      break;
    }
  }
  return out;
}
