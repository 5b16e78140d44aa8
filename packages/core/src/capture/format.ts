/**
 * The sfm capture file (docs/capture-format.md): a session with a unit, both directions, with
 * times and who/what/when, written as it happens so a file cut off by a crash reads up to the cut.
 *
 *   file    = magic "SFMCAP\r\n" (8) ‖ version u16 BE ‖ record*
 *   record  = type u8 ‖ time u64 BE (µs since the capture started) ‖ length u32 BE ‖ payload ‖ CRC-32 u32 BE
 *             (the CRC covers type, time, length and payload)
 *
 * Records: `capture` (JSON, first and once: format, version, started_at, the recorder's own fields),
 * `session-start` / `session-end` (JSON), `host` / `device` (the bytes each side sent, as sent),
 * `note` (JSON), `capture-end` (JSON, last, when the recorder closed the file). Sessions in one file
 * follow each other; every `host`/`device` record belongs to the session open at the time.
 */
import { crc32 } from 'node:zlib';

export const CAPTURE_MAGIC = Uint8Array.from([0x53, 0x46, 0x4d, 0x43, 0x41, 0x50, 0x0d, 0x0a]); // "SFMCAP\r\n"
export const CAPTURE_VERSION = 1;
export const CAPTURE_FORMAT = 'sfm-capture';
/** How the files sfm names itself end (a call-home session's capture); a capture given by path may be called anything. */
export const CAPTURE_EXTENSION = '.sfmcap';
/** Bytes before the first record. */
export const CAPTURE_PREAMBLE_LENGTH = CAPTURE_MAGIC.length + 2;
/** Type, time and length. */
const RECORD_HEAD = 1 + 8 + 4;
const RECORD_CRC = 4;
/** No record is longer: a larger length field is damage, not data. */
export const MAX_RECORD_PAYLOAD = 16 * 1024 * 1024;

/** Record types, by their byte on disk. */
export const RECORD_TYPES = {
  capture: 1,
  'session-start': 2,
  host: 3,
  device: 4,
  'session-end': 5,
  note: 6,
  'capture-end': 7,
} as const;
export type RecordType = keyof typeof RECORD_TYPES;
const TYPE_NAMES = new Map<number, RecordType>(Object.entries(RECORD_TYPES).map(([k, v]) => [v, k as RecordType]));

export type Direction = 'host-to-device' | 'device-to-host';

/** The first record: who recorded it, what, when. `started_at` is UTC; record times count from it. */
export interface CaptureHeader {
  format: typeof CAPTURE_FORMAT;
  version: number;
  started_at: string;
  /** The program and what it was doing, e.g. "sfm 0.1.0 tap". */
  recorder: string;
  [field: string]: unknown;
}

/** A session: who spoke to whom. `host` is the side that sends requests, `device` the unit's. */
export interface SessionStart {
  session: number;
  host: string | null;
  device: string | null;
  [field: string]: unknown;
}

export interface SessionEnd {
  session: number;
  /** Which side ended it: the host's, the unit's, or the recorder (a shutdown). */
  closed_by: 'host' | 'device' | 'recorder';
  error?: string;
  [field: string]: unknown;
}

export type CaptureRecord =
  | { type: 'capture'; timeUs: number; header: CaptureHeader }
  | { type: 'session-start'; timeUs: number; session: SessionStart }
  | { type: 'session-end'; timeUs: number; end: SessionEnd }
  | { type: 'host' | 'device'; timeUs: number; bytes: Uint8Array }
  | { type: 'note'; timeUs: number; note: Record<string, unknown> }
  | { type: 'capture-end'; timeUs: number; end: Record<string, unknown> };

/** The direction of a data record. */
export function directionOf(type: 'host' | 'device'): Direction {
  return type === 'host' ? 'host-to-device' : 'device-to-host';
}

/** The file's first bytes. */
export function capturePreamble(): Uint8Array {
  const out = new Uint8Array(CAPTURE_PREAMBLE_LENGTH);
  out.set(CAPTURE_MAGIC, 0);
  out[CAPTURE_MAGIC.length] = CAPTURE_VERSION >> 8;
  out[CAPTURE_MAGIC.length + 1] = CAPTURE_VERSION & 0xff;
  return out;
}

/** True when `head` (the first bytes of a file) starts like a capture; a raw byte dump never does. */
export function isCapture(head: Uint8Array): boolean {
  if (head.length < CAPTURE_MAGIC.length) return false;
  return CAPTURE_MAGIC.every((b, i) => head[i] === b);
}

/** One record's bytes. */
export function encodeRecord(type: RecordType, timeUs: number, payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_RECORD_PAYLOAD) throw new RangeError(`a capture record holds at most ${MAX_RECORD_PAYLOAD} bytes, got ${payload.length}`);
  const out = new Uint8Array(RECORD_HEAD + payload.length + RECORD_CRC);
  const v = new DataView(out.buffer);
  v.setUint8(0, RECORD_TYPES[type]);
  v.setBigUint64(1, BigInt(Math.max(0, Math.round(timeUs))));
  v.setUint32(9, payload.length);
  out.set(payload, RECORD_HEAD);
  v.setUint32(RECORD_HEAD + payload.length, crc32(out.subarray(0, RECORD_HEAD + payload.length)));
  return out;
}

export function jsonPayload(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Why a capture stops being readable before its end. */
export interface CaptureCut {
  /** Byte offset in the file where the unreadable part starts. */
  offset: number;
  reason: 'truncated' | 'damaged';
  message: string;
}

/** A file that is not a capture of a version this sfm reads. */
export class CaptureFormatError extends Error {
  override name = 'CaptureFormatError';
}

/**
 * Reads a capture as it streams in: push() chunks, get the records that completed; end() says
 * whether the file was whole. A record cut short (a crash) or damaged (its CRC does not match)
 * ends the readable part: what came before is all given, nothing after it is guessed at.
 */
export class CaptureReader {
  private buf: Uint8Array = new Uint8Array(0);
  /** File offset of buf[0]. */
  private base = 0;
  private preambleRead = false;
  private headerSeen = false;
  private cut: CaptureCut | null = null;
  private ended = false;

  push(chunk: Uint8Array): CaptureRecord[] {
    if (this.cut) return [];
    this.buf = this.buf.length === 0 ? chunk.slice() : concat(this.buf, chunk);
    const out: CaptureRecord[] = [];
    if (!this.preambleRead) {
      if (this.buf.length < CAPTURE_PREAMBLE_LENGTH) return out;
      if (!isCapture(this.buf)) throw new CaptureFormatError('not an sfm capture (it does not start with "SFMCAP")');
      const version = (this.buf[CAPTURE_MAGIC.length]! << 8) | this.buf[CAPTURE_MAGIC.length + 1]!;
      if (version !== CAPTURE_VERSION) throw new CaptureFormatError(`capture version ${version}: this sfm reads version ${CAPTURE_VERSION}`);
      this.preambleRead = true;
      this.consume(CAPTURE_PREAMBLE_LENGTH);
    }
    let p = 0;
    while (this.buf.length - p >= RECORD_HEAD) {
      const v = new DataView(this.buf.buffer, this.buf.byteOffset + p);
      const typeByte = v.getUint8(0);
      const length = v.getUint32(9);
      if (length > MAX_RECORD_PAYLOAD) return this.damage(out, p, `a record claims ${length} bytes`);
      const total = RECORD_HEAD + length + RECORD_CRC;
      if (this.buf.length - p < total) break;
      const body = this.buf.subarray(p, p + RECORD_HEAD + length);
      if (crc32(body) !== v.getUint32(RECORD_HEAD + length)) return this.damage(out, p, 'a record\'s CRC does not match its bytes');
      const timeUs = Number(v.getBigUint64(1));
      const type = TYPE_NAMES.get(typeByte);
      const payload = body.subarray(RECORD_HEAD);
      if (type === undefined) {
        // A record type of a later version: skipped, its CRC says it is whole.
      } else if (!this.headerSeen && type !== 'capture') {
        return this.damage(out, p, 'the first record is not the capture header');
      } else {
        const record = this.decode(type, timeUs, payload);
        if (!record) return this.damage(out, p, `a ${type} record does not hold JSON`);
        this.headerSeen = true;
        out.push(record);
      }
      p += total;
    }
    this.consume(p);
    return out;
  }

  /** The end of the file: null when it ended between records, else where and why it stops being readable. */
  end(): CaptureCut | null {
    if (this.ended) return this.cut;
    this.ended = true;
    if (this.cut) return this.cut;
    if (!this.preambleRead) {
      this.cut = { offset: 0, reason: 'truncated', message: `the capture ends after ${this.buf.length} bytes, inside its first ${CAPTURE_PREAMBLE_LENGTH}` };
    } else if (this.buf.length > 0) {
      this.cut = { offset: this.base, reason: 'truncated', message: `the capture is cut at byte ${this.base + this.buf.length}, inside a record that starts at byte ${this.base}` };
    } else if (!this.headerSeen) {
      this.cut = { offset: this.base, reason: 'truncated', message: 'the capture ends before its header record' };
    }
    return this.cut;
  }

  private decode(type: RecordType, timeUs: number, payload: Uint8Array): CaptureRecord | null {
    if (type === 'host' || type === 'device') return { type, timeUs, bytes: payload.slice() };
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    } catch {
      return null;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
    switch (type) {
      case 'capture':
        return { type, timeUs, header: json as CaptureHeader };
      case 'session-start':
        return { type, timeUs, session: json as SessionStart };
      case 'session-end':
        return { type, timeUs, end: json as SessionEnd };
      case 'note':
        return { type, timeUs, note: json as Record<string, unknown> };
      case 'capture-end':
        return { type, timeUs, end: json as Record<string, unknown> };
    }
  }

  private damage(out: CaptureRecord[], p: number, why: string): CaptureRecord[] {
    const offset = this.base + p;
    this.cut = { offset, reason: 'damaged', message: `the capture is damaged at byte ${offset}: ${why}` };
    this.buf = new Uint8Array(0);
    return out;
  }

  private consume(n: number): void {
    this.base += n;
    this.buf = this.buf.subarray(n);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Reads a whole capture held in memory. */
export function readCapture(bytes: Uint8Array): { records: CaptureRecord[]; cut: CaptureCut | null } {
  const r = new CaptureReader();
  const records = r.push(bytes);
  return { records, cut: r.end() };
}
