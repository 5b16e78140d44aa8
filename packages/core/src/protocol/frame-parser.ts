/**
 * Streaming frame parsers (protocol.md §2.5–§2.6): fed arbitrary chunks, they yield frames, the
 * noise between frames (modem text, the boot banner, stray 0x41, the 5A end byte) and session
 * resets. Memory is bounded: an over-long frame is reported and dropped, noise is flushed in
 * runs of at most `maxNoiseRun` bytes.
 *
 * Resynchronisation: when a frame candidate fails (bad checksum, over-long, wrong terminator),
 * its raw bytes are scanned again from the first start marker found inside it, so a real frame
 * that began inside garbage is not lost. The output does not depend on how the input was chunked.
 */
import { sum8, dleAwareWordSum, writeFrameChecksum } from './checksum.js';
import { ACK, DEVICE_CMD, DEVICE_FLAGS, DLE, ETX, STX, PARAMS_LENGTH, writeDataLengthFor, BULK_OFFSET_TERM, type DeviceFrame, type HostFrame, type Frame } from './frames.js';
import { frameStyleOf, type FrameStyle } from './sub-codes.js';
import { BULK_PAGE_TEXT, BULK_PAGE_UNIT } from './conventions.js';

export type ParseErrorReason = 'bad-checksum' | 'oversize' | 'bad-terminator' | 'short-frame' | 'bad-header' | 'truncated';

export type ParsedItem =
  | { readonly kind: 'frame'; readonly frame: Frame }
  | { readonly kind: 'noise'; readonly bytes: Uint8Array }
  | { readonly kind: 'session-reset' }
  | { readonly kind: 'error'; readonly reason: ParseErrorReason; readonly message: string; readonly byteCount: number };

export type ParserDirection = 'device-to-host' | 'host-to-device' | 'auto';

export interface FrameParserOptions {
  /** Largest frame (raw bytes on the wire) accepted; longer candidates are reported and dropped. */
  maxFrameBytes?: number;
  /** Noise is reported in runs of at most this many bytes. */
  maxNoiseRun?: number;
}

const enum S {
  Idle,
  SawDle, // device start: 10 seen
  SawAck, // host start: 41 seen
  DevBody,
  DevAfterDle,
  HostBody,
}

const enum H {
  Cmd,
  Flags,
  Sub,
  Zero,
  OffHi,
  OffLo,
  Params,
  Data,
  Chk,
  Etx,
  BulkTail,
}

const WRITE_DATA_MAX = 8192;

export class FrameParser {
  readonly direction: ParserDirection;
  private readonly maxFrame: number;
  private readonly maxNoise: number;
  private state = S.Idle;

  // Raw bytes of the current candidate (for resync) and its logical bytes.
  private raw: Uint8Array;
  private rawLen = 0;
  private logical: Uint8Array;
  private logLen = 0;

  private noise: Uint8Array;
  private noiseLen = 0;

  // Host-frame field state.
  private h = H.Cmd;
  private hDle = false;
  private hStyle: FrameStyle = 'read';
  private hRemaining = 0;
  private hOffset = 0;

  constructor(direction: ParserDirection = 'auto', opts: FrameParserOptions = {}) {
    this.direction = direction;
    this.maxFrame = opts.maxFrameBytes ?? 16384;
    this.maxNoise = opts.maxNoiseRun ?? 4096;
    this.raw = new Uint8Array(this.maxFrame + 1);
    this.logical = new Uint8Array(this.maxFrame + 1);
    this.noise = new Uint8Array(this.maxNoise);
  }

  /** Feeds a chunk; returns what it completed. */
  push(chunk: Uint8Array): ParsedItem[] {
    const out: ParsedItem[] = [];
    this.run(chunk, out);
    return out;
  }

  /** Ends the stream: reports what is pending (noise, or a frame cut short). */
  end(): ParsedItem[] {
    const out: ParsedItem[] = [];
    if (this.state === S.DevBody || this.state === S.DevAfterDle || this.state === S.HostBody) {
      out.push(this.error('truncated', `stream ended inside a frame after ${this.rawLen} bytes`, this.rawLen));
    } else if (this.state === S.SawDle || this.state === S.SawAck) {
      this.addNoise(this.raw[0]!, out);
    }
    this.flushNoise(out);
    this.reset();
    return out;
  }

  /** Drops all state, as after a new connection. */
  reset(): void {
    this.state = S.Idle;
    this.rawLen = 0;
    this.logLen = 0;
    this.noiseLen = 0;
  }

  private run(input: Uint8Array, out: ParsedItem[]): void {
    let buf = input;
    let i = 0;
    while (i < buf.length) {
      const b = buf[i++]!;
      switch (this.state) {
        case S.Idle:
          if (b === DLE && this.direction !== 'host-to-device') {
            this.state = S.SawDle;
            this.raw[0] = b;
            this.rawLen = 1;
          } else if (b === ACK && this.direction !== 'device-to-host') {
            this.state = S.SawAck;
            this.raw[0] = b;
            this.rawLen = 1;
          } else {
            this.addNoise(b, out);
          }
          continue;

        case S.SawDle:
          if (b === STX) {
            this.flushNoise(out);
            this.state = S.DevBody;
            this.raw[1] = b;
            this.rawLen = 2;
            this.logLen = 0;
          } else if (b === DLE) {
            this.addNoise(DLE, out); // 10 10 outside a frame: the first DLE is noise
          } else {
            this.addNoise(DLE, out);
            this.state = S.Idle;
            i--; // reconsider b in Idle (it may be 0x41)
          }
          continue;

        case S.SawAck:
          if (b === STX) {
            this.flushNoise(out);
            this.state = S.HostBody;
            this.raw[1] = b;
            this.rawLen = 2;
            this.logLen = 0;
            this.h = H.Cmd;
            this.hDle = false;
          } else if (b === ETX) {
            this.flushNoise(out);
            out.push({ kind: 'session-reset' });
            this.state = S.Idle;
          } else {
            this.addNoise(ACK, out);
            this.state = S.Idle;
            i--; // b may start something (another 41, or 10 02 in auto mode)
          }
          continue;

        case S.DevBody:
          this.raw[this.rawLen++] = b;
          if (b === DLE) {
            this.state = S.DevAfterDle;
          } else if (b === ETX) {
            const replay = this.finishDeviceFrame(out);
            if (replay) ({ buf, i } = this.spliceReplay(replay, buf, i));
            continue;
          } else {
            this.logical[this.logLen++] = b;
          }
          if (this.rawLen >= this.maxFrame) ({ buf, i } = this.oversize(out, buf, i));
          continue;

        case S.DevAfterDle:
          this.raw[this.rawLen++] = b;
          this.logical[this.logLen++] = b; // 10 X stands for X, for every X
          this.state = S.DevBody;
          if (this.rawLen >= this.maxFrame) ({ buf, i } = this.oversize(out, buf, i));
          continue;

        case S.HostBody: {
          this.raw[this.rawLen++] = b;
          const replay = this.hostByte(b, out);
          if (replay) ({ buf, i } = this.spliceReplay(replay, buf, i));
          else if (this.state === S.HostBody && this.rawLen >= this.maxFrame) ({ buf, i } = this.oversize(out, buf, i));
          continue;
        }
      }
    }
  }

  /** One byte of a host frame; returns replay bytes when the candidate failed. */
  private hostByte(b: number, out: ParsedItem[]): Uint8Array | null {
    const stuffed = this.h === H.Etx ? false : this.hostFieldStuffed();
    let v = b;
    if (stuffed) {
      if (this.hDle) {
        this.hDle = false;
      } else if (b === DLE) {
        this.hDle = true;
        return null;
      } else if (this.h === H.BulkTail && b === ETX) {
        return this.bulkEndCandidate(out);
      }
    }
    switch (this.h) {
      case H.Cmd:
        // The CMD byte 0x10 is always doubled on the wire.
        if (v !== 0x10 || this.rawLen !== 4) return this.hostFail(out, 'bad-header', 'host frame does not start 41 02 10 10');
        this.logical[this.logLen++] = v;
        this.h = H.Flags;
        return null;
      case H.Flags:
        if (v !== 0x00) return this.hostFail(out, 'bad-header', `host frame flags ${hex(v)}, not 00`);
        this.logical[this.logLen++] = v;
        this.h = H.Sub;
        return null;
      case H.Sub:
        this.logical[this.logLen++] = v;
        this.hStyle = frameStyleOf(v);
        this.h = H.Zero;
        return null;
      case H.Zero:
        // payload[3] is always 00 (protocol.md §3.1); HostFrame has no field for it, so a frame
        // with another value there could not be told apart from a real one by its fields.
        if (v !== 0x00) return this.hostFail(out, 'bad-header', `host frame byte 3 is ${hex(v)}, not 00`);
        this.logical[this.logLen++] = v;
        this.h = H.OffHi;
        return null;
      case H.OffHi:
        this.logical[this.logLen++] = v;
        this.h = H.OffLo;
        return null;
      case H.OffLo:
        this.logical[this.logLen++] = v;
        this.hOffset = (this.logical[4]! << 8) | v;
        if (this.hStyle === 'bulk') {
          this.h = H.BulkTail;
        } else {
          this.h = H.Params;
          this.hRemaining = PARAMS_LENGTH;
        }
        return null;
      case H.Params:
        this.logical[this.logLen++] = v;
        if (--this.hRemaining === 0) {
          if (this.hStyle === 'write') {
            const n = writeDataLengthFor(this.hOffset);
            if (n > WRITE_DATA_MAX) return this.hostFail(out, 'oversize', `write frame announces ${n} data bytes`);
            this.hRemaining = n;
            this.h = n > 0 ? H.Data : H.Chk;
          } else {
            this.h = H.Chk;
          }
        }
        return null;
      case H.Data:
        this.logical[this.logLen++] = v;
        if (--this.hRemaining === 0) this.h = H.Chk;
        return null;
      case H.Chk:
        this.logical[this.logLen++] = v;
        this.h = H.Etx;
        return null;
      case H.Etx:
        if (b !== ETX) return this.hostFail(out, 'bad-terminator', `host frame not ended by 03 (got ${hex(b)})`);
        this.emitHostFrame(this.logLen - 1, out);
        return null;
      case H.BulkTail:
        this.logical[this.logLen++] = v;
        if (this.logLen > 6 + 12 + 1) return this.hostFail(out, 'bad-terminator', '5A frame longer than 12 params');
        return null;
    }
    return null;
  }

  private hostFieldStuffed(): boolean {
    if (this.h === H.Cmd || this.h === H.Flags || this.h === H.Sub || this.h === H.Zero) return true;
    if (this.hStyle === 'write') return false;
    if (this.hStyle === 'bulk') return this.h === H.BulkTail;
    return true;
  }

  /** A bare 03 in the params/checksum tail of a 5A frame: the end, if lengths and checksum agree. */
  private bulkEndCandidate(out: ParsedItem[]): Uint8Array | null {
    const nParams = this.logLen - 7; // logical = 6 header bytes + params + checksum
    const minParams = this.hOffset === BULK_OFFSET_TERM ? 10 : 11;
    if (nParams >= minParams) {
      // TERM takes 10 params, the two metadata pages 12, probe and chunks 11; a checksum that
      // matches at another length still ends the frame (a probe whose key looks like a page).
      const counter = (this.logical[9]! << 8) | this.logical[10]!;
      const expected = minParams === 10 ? 10 : counter === BULK_PAGE_TEXT || counter === BULK_PAGE_UNIT ? 12 : 11;
      const chk = this.logical[this.logLen - 1]!;
      if (nParams === expected || chk === this.bulkChecksum(this.logLen - 1)) {
        this.emitHostFrame(this.logLen - 1, out);
        return null;
      }
    }
    // Not the end: a raw 03 inside params is data.
    this.logical[this.logLen++] = ETX;
    if (this.logLen > 6 + 12 + 1) return this.hostFail(out, 'bad-terminator', '5A frame longer than 12 params');
    return null;
  }

  private bulkChecksum(end: number): number {
    const l = this.logical;
    let s = l[0]! + l[1]! + l[2]! + l[3]! + dleAwareWordSum(l[4]!, l[5]!);
    for (let k = 6; k < end; k++) s += l[k]!;
    return s & 0xff;
  }

  private emitHostFrame(chkIndex: number, out: ParsedItem[]): void {
    const l = this.logical;
    const payload = l.subarray(0, chkIndex);
    const checksum = l[chkIndex]!;
    let expected: number;
    if (this.hStyle === 'write') expected = writeFrameChecksum(payload);
    else if (this.hStyle === 'bulk') expected = this.bulkChecksum(chkIndex);
    else expected = sum8(payload);
    const nParams = this.hStyle === 'bulk' ? chkIndex - 6 : PARAMS_LENGTH;
    const frame: HostFrame = {
      direction: 'host-to-device',
      style: this.hStyle,
      cmd: l[0]!,
      flags: l[1]!,
      sub: l[2]!,
      offset: this.hOffset,
      params: l.slice(6, 6 + nParams),
      data: l.slice(6 + nParams, chkIndex),
      checksum,
      checksumOk: checksum === expected,
    };
    out.push({ kind: 'frame', frame });
    this.state = S.Idle;
    this.rawLen = 0;
    this.logLen = 0;
  }

  private hostFail(out: ParsedItem[], reason: ParseErrorReason, message: string): Uint8Array {
    return this.failCandidate(out, reason, message, ACK, STX);
  }

  /** Completes a device frame at a bare 03; returns replay bytes when it failed. */
  private finishDeviceFrame(out: ParsedItem[]): Uint8Array | null {
    const n = this.logLen;
    const l = this.logical;
    if (n < 6) return this.failCandidate(out, 'short-frame', `device frame of ${n} bytes is shorter than its header`, DLE, STX);
    if (l[0] !== DEVICE_CMD || l[1] !== DEVICE_FLAGS) {
      // Every device reply starts 00 10 (§3.2); anything else began inside garbage.
      return this.failCandidate(out, 'bad-header', `device frame starts ${hex(l[0]!)} ${hex(l[1]!)}, not 00 10`, DLE, STX);
    }
    const checksum = l[n - 1]!;
    const ok = sum8(l, 0, n - 1) === checksum;
    if (!ok && this.innerStart(DLE, STX) > 0) {
      return this.failCandidate(out, 'bad-checksum', `device frame checksum ${hex(checksum)} does not match ${hex(sum8(l, 0, n - 1))}`, DLE, STX);
    }
    const frame: DeviceFrame = {
      direction: 'device-to-host',
      cmd: l[0]!,
      flags: l[1]!,
      sub: l[2]!,
      page: (l[3]! << 8) | l[4]!,
      data: l.slice(5, n - 1),
      checksum,
      checksumOk: ok,
    };
    out.push({ kind: 'frame', frame });
    this.state = S.Idle;
    this.rawLen = 0;
    this.logLen = 0;
    return null;
  }

  private oversize(out: ParsedItem[], buf: Uint8Array, i: number): { buf: Uint8Array; i: number } {
    const [m0, m1] = this.state === S.HostBody ? [ACK, STX] : [DLE, STX];
    const replay = this.failCandidate(out, 'oversize', `frame longer than ${this.maxFrame} bytes dropped`, m0, m1);
    return this.spliceReplay(replay, buf, i);
  }

  /** First index ≥ 1 in the raw candidate where the marker pair starts; -1 if none. */
  private innerStart(m0: number, m1: number): number {
    const r = this.raw;
    for (let k = 1; k + 1 < this.rawLen; k++) if (r[k] === m0 && r[k + 1] === m1) return k;
    // A marker byte at the very end may begin a frame with the next input.
    if (this.rawLen > 1 && r[this.rawLen - 1] === m0) return this.rawLen - 1;
    return -1;
  }

  /** Reports a failed candidate and returns the raw bytes to parse again (from its first inner start). */
  private failCandidate(out: ParsedItem[], reason: ParseErrorReason, message: string, m0: number, m1: number): Uint8Array {
    let k = this.innerStart(m0, m1);
    if (this.direction === 'auto') {
      const other = m0 === DLE ? this.innerStart(ACK, STX) : this.innerStart(DLE, STX);
      if (other > 0 && (k < 0 || other < k)) k = other;
    }
    // With no inner start, only the last byte is parsed again: it may be a 41 or 10 of what follows.
    const from = k > 0 ? k : this.rawLen - 1;
    const replay = this.raw.slice(from, this.rawLen);
    out.push(this.error(reason, message, from));
    this.state = S.Idle;
    this.rawLen = 0;
    this.logLen = 0;
    return replay;
  }

  private spliceReplay(replay: Uint8Array, buf: Uint8Array, i: number): { buf: Uint8Array; i: number } {
    if (replay.length === 0) return { buf, i };
    const rest = buf.subarray(i);
    const next = new Uint8Array(replay.length + rest.length);
    next.set(replay, 0);
    next.set(rest, replay.length);
    return { buf: next, i: 0 };
  }

  private error(reason: ParseErrorReason, message: string, byteCount: number): ParsedItem {
    return { kind: 'error', reason, message, byteCount };
  }

  private addNoise(b: number, out: ParsedItem[]): void {
    this.noise[this.noiseLen++] = b;
    if (this.noiseLen === this.maxNoise) this.flushNoise(out);
  }

  private flushNoise(out: ParsedItem[]): void {
    if (this.noiseLen === 0) return;
    out.push({ kind: 'noise', bytes: this.noise.slice(0, this.noiseLen) });
    this.noiseLen = 0;
  }
}

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

/** A parser for what the device sends (the client side). */
export class DeviceFrameParser extends FrameParser {
  constructor(opts?: FrameParserOptions) {
    super('device-to-host', opts);
  }
}

/** A parser for what the host sends (the emulator side). */
export class HostFrameParser extends FrameParser {
  constructor(opts?: FrameParserOptions) {
    super('host-to-device', opts);
  }
}

/** Parses a whole capture at once. */
export function parseCapture(bytes: Uint8Array, direction: ParserDirection = 'auto', opts?: FrameParserOptions): ParsedItem[] {
  const p = new FrameParser(direction, opts);
  return [...p.push(bytes), ...p.end()];
}
