/** Byte helpers shared by the codec: hex text, big-endian fields, ASCII. */
import { InvalidInput, SfmError } from '../errors.js';

/** Hex text a person gave that is not hex. */
export class HexParseError extends SfmError {
  override name = 'HexParseError';
  constructor(message: string) {
    super('INVALID_REQUEST', message);
  }
}

/** Parses hex text ("10 02 0a", "10020A", "0x10,0x02") into bytes. Throws HexParseError on bad input. */
export function parseHex(text: string): Uint8Array {
  const cleaned = text.replace(/0x/gi, '').replace(/[\s,:;-]+/g, '');
  if (cleaned.length === 0) return new Uint8Array(0);
  if (!/^[0-9a-fA-F]*$/.test(cleaned)) {
    const bad = cleaned.match(/[^0-9a-fA-F]/)?.[0] ?? '?';
    throw new HexParseError(`not a hex digit: ${JSON.stringify(bad)}`);
  }
  if (cleaned.length % 2 !== 0) {
    throw new HexParseError(`odd number of hex digits (${cleaned.length}): every byte needs two`);
  }
  const out = new Uint8Array(cleaned.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(cleaned.substr(i * 2, 2), 16);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** Formats bytes as space-separated upper-case hex, the notation of the protocol notes. */
export function toHex(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (i ? ' ' : '') + HEX[bytes[i]! & 0xff];
  return s;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Finds `needle` in `hay` from `from`; -1 when absent. */
export function indexOfBytes(hay: Uint8Array, needle: ArrayLike<number>, from = 0): number {
  const n = needle.length;
  if (n === 0) return from;
  const first = needle[0]!;
  outer: for (let i = from; i + n <= hay.length; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < n; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e || c < 0x20) throw new RangeError(`not printable ASCII: ${JSON.stringify(text)}`);
    out[i] = c;
  }
  return out;
}

/** Reads a NUL-terminated (or NUL-padded) ASCII field; non-printable bytes end the text. */
export function readAscii(bytes: Uint8Array, start: number, maxLen: number): string {
  let s = '';
  const end = Math.min(bytes.length, start + maxLen);
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c < 0x20 || c > 0x7e) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Writes ASCII into a fixed-width field, NUL-padded. Text that is not printable ASCII or does not
 * fit is the caller's input: InvalidInput naming the field.
 */
export function writeAsciiField(target: Uint8Array, start: number, width: number, text: string, field = 'text'): void {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new InvalidInput(field, `must be printable ASCII text, got ${JSON.stringify(text)}`);
  const b = asciiBytes(text);
  if (b.length > width) throw new InvalidInput(field, `${b.length} characters; at most ${width} fit in the unit's block`);
  target.fill(0, start, start + width);
  target.set(b, start);
}

export function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
export function i16be(b: Uint8Array, o: number): number {
  const v = u16be(b, o);
  return v & 0x8000 ? v - 0x10000 : v;
}
export function u32be(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}
export function putU16be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function putU32be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

const f32 = new DataView(new ArrayBuffer(4));
export function f32be(b: Uint8Array, o: number): number {
  f32.setUint8(0, b[o]!);
  f32.setUint8(1, b[o + 1]!);
  f32.setUint8(2, b[o + 2]!);
  f32.setUint8(3, b[o + 3]!);
  return f32.getFloat32(0, false);
}
export function putF32be(b: Uint8Array, o: number, v: number): void {
  f32.setFloat32(0, v, false);
  b[o] = f32.getUint8(0);
  b[o + 1] = f32.getUint8(1);
  b[o + 2] = f32.getUint8(2);
  b[o + 3] = f32.getUint8(3);
}
/** The float32 value nearest to `v`, as the unit stores it; used to compare read-back values. */
export function toFloat32(v: number): number {
  return Math.fround(v);
}
/** A float32 read from the unit, rounded to the precision it was entered with (0.2 reads back as 0.2, not 0.200000003). */
export function tidyFloat32(v: number): number {
  return Number.isFinite(v) ? Number.parseFloat(v.toPrecision(7)) : v;
}
