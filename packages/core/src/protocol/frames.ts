/**
 * Frame types and builders for both directions (protocol.md §2–§3, and the conventions of §0.1).
 *
 *   host → device:  41 02 | payload ‖ checksum, stuffed per frame style | 03
 *   device → host:  [41] 10 02 | escaped(payload ‖ checksum) | 03
 *
 * Host payload:   10 00 SUB 00 offset_hi offset_lo params[10] data…   (16 logical bytes for reads)
 * Device payload: 00 10 SUB page_hi page_lo data…  where data = 11-byte echo + content
 */
import { dleAwareWordSum, sum8, writeFrameChecksum } from './checksum.js';
import { frameStyleOf, type FrameStyle } from './sub-codes.js';

export const ACK = 0x41;
export const DLE = 0x10;
export const STX = 0x02;
export const ETX = 0x03;
export const EOT = 0x04;
export const HOST_CMD = 0x10;
export const DEVICE_CMD = 0x00;
export const DEVICE_FLAGS = 0x10;
export const PARAMS_LENGTH = 10;
/** The response data starts with an echo of the request's offset byte and its 10 params. */
export const ECHO_LENGTH = 11;

/** A request as the host sends it (the emulator's view of the wire). */
export interface HostFrame {
  readonly direction: 'host-to-device';
  readonly style: FrameStyle;
  readonly cmd: number;
  readonly flags: number;
  readonly sub: number;
  /** The offset word: for read frames the data length asked for (0 = probe); 0x1004/0x005A for 5A. */
  readonly offset: number;
  readonly params: Uint8Array;
  /** Write frames only: the data after the params, exactly as sent (device-escaped blocks). */
  readonly data: Uint8Array;
  readonly checksum: number;
  readonly checksumOk: boolean;
}

/** A response as the device sends it (the client's view of the wire). */
export interface DeviceFrame {
  readonly direction: 'device-to-host';
  readonly cmd: number;
  readonly flags: number;
  readonly sub: number;
  /** payload[3:5]; 0 in most replies, a page key in A5 stream replies. */
  readonly page: number;
  /** payload[5:] without the checksum: the 11-byte echo, then the content. */
  readonly data: Uint8Array;
  readonly checksum: number;
  readonly checksumOk: boolean;
}

export type Frame = HostFrame | DeviceFrame;

function checkByte(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${what} must be a byte (0–255), got ${v}`);
}
function checkWord(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what} must be 0–65535, got ${v}`);
}

/** Ten param bytes: zeros, with optional bytes set by index. */
export function params(set: Record<number, number> = {}): Uint8Array {
  const p = new Uint8Array(PARAMS_LENGTH);
  for (const [i, v] of Object.entries(set)) p[Number(i)] = v;
  return p;
}

/** Token 0xFE at params[7]: storage range, erase, and the "arm" reads of 1E/1F. */
export const TOKEN_FE = 0xfe;
export function tokenParams(): Uint8Array {
  return params({ 7: TOKEN_FE });
}
/** 0A / 0C keyed reads: the event key at params[4..7]. */
export function keyParams(key: Uint8Array): Uint8Array {
  if (key.length !== 4) throw new RangeError('an event key is 4 bytes');
  const p = params();
  p.set(key, 4);
  return p;
}
/** 1A compliance reads: page (start address high byte) at params[2], 0x64 at params[7]. */
export function complianceParams(page: number): Uint8Array {
  return params({ 2: page, 7: 0x64 });
}

// ---------------------------------------------------------------------------------------------
// Host frame builders (byte-exact to the "stated rules" table, protocol.md §2.3)

function pushStuffed(out: number[], b: number): void {
  if (b === DLE) out.push(DLE);
  out.push(b);
}

/** A read-style request: every 0x10 in payload and checksum is doubled; checksum SUM8. */
export function buildReadFrame(sub: number, offset: number, p: Uint8Array = params()): Uint8Array {
  checkByte(sub, 'SUB');
  checkWord(offset, 'offset');
  if (p.length !== PARAMS_LENGTH) throw new RangeError(`read frames take ${PARAMS_LENGTH} params, got ${p.length}`);
  const payload = [HOST_CMD, 0x00, sub, 0x00, offset >> 8, offset & 0xff, ...p];
  const out = [ACK, STX];
  for (const b of payload) pushStuffed(out, b);
  pushStuffed(out, sum8(payload));
  out.push(ETX);
  return Uint8Array.from(out);
}

/**
 * [sfm] The offset word of a write frame: data length − 1 (0 for a frame without data). The one
 * captured data point is the call-home write: 127 data bytes, offset 0x7E.
 */
export function writeOffsetFor(dataLength: number): number {
  return dataLength === 0 ? 0 : dataLength - 1;
}
export function writeDataLengthFor(offset: number): number {
  return offset === 0 ? 0 : offset + 1;
}

/** A write-style request: only the CMD byte is doubled; everything else raw; large-frame checksum. */
export function buildWriteFrame(sub: number, data: Uint8Array = new Uint8Array(0), p: Uint8Array = params()): Uint8Array {
  checkByte(sub, 'SUB');
  if (p.length !== PARAMS_LENGTH) throw new RangeError(`write frames take ${PARAMS_LENGTH} params, got ${p.length}`);
  if (data.length > 0x10000) throw new RangeError('write data too long');
  if (data.length === 1) throw new RangeError('a write frame carries no data or at least 2 bytes (its offset word is length − 1)');
  const offset = writeOffsetFor(data.length);
  const payload = new Uint8Array(16 + data.length);
  payload.set([HOST_CMD, 0x00, sub, 0x00, offset >> 8, offset & 0xff]);
  payload.set(p, 6);
  payload.set(data, 16);
  const out = new Uint8Array(payload.length + 5); // 41 02 10 ‖ payload ‖ chk 03
  out[0] = ACK;
  out[1] = STX;
  out[2] = DLE;
  out.set(payload, 3);
  out[out.length - 2] = writeFrameChecksum(payload);
  out[out.length - 1] = ETX;
  return out;
}

/** 5A offset words. */
export const BULK_OFFSET_STREAM = 0x1004;
export const BULK_OFFSET_TERM = 0x005a;

/** A 5A request: CMD doubled, offset word raw, params stuffed; DLE-aware checksum. */
export function buildBulkFrame(offset: number, p: Uint8Array): Uint8Array {
  checkWord(offset, 'offset');
  if (p.length < 10 || p.length > 12) throw new RangeError(`5A frames take 10–12 params, got ${p.length}`);
  const out = [ACK, STX, DLE, HOST_CMD, 0x00, 0x5a, 0x00, offset >> 8, offset & 0xff];
  let chk = HOST_CMD + 0x5a + dleAwareWordSum(offset >> 8, offset & 0xff);
  for (const b of p) {
    pushStuffed(out, b);
    chk += b;
  }
  pushStuffed(out, chk & 0xff);
  out.push(ETX);
  return Uint8Array.from(out);
}

/** Builds a host request in the style its SUB uses (read or write; 5A has its own builder). */
export function buildHostFrame(sub: number, offset: number, p: Uint8Array = params(), data?: Uint8Array): Uint8Array {
  const style = frameStyleOf(sub);
  if (style === 'write') return buildWriteFrame(sub, data, p);
  if (style === 'bulk') return buildBulkFrame(offset, p);
  return buildReadFrame(sub, offset, p);
}

// ---------------------------------------------------------------------------------------------
// Device side (the emulator): escaping and response frames

/** True for the bytes the device escapes with a DLE (protocol.md §0.1 rule 2). */
export function deviceEscapes(b: number): boolean {
  return b === DLE || b === STX || b === ETX || b === EOT;
}

/** Device-style escaping: 10/02/03/04 → 10 X. Used for response frames and for the wire form of blocks. */
export function escapeDeviceBytes(logical: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of logical) if (deviceEscapes(b)) extra++;
  if (extra === 0) return logical.slice();
  const out = new Uint8Array(logical.length + extra);
  let o = 0;
  for (const b of logical) {
    if (deviceEscapes(b)) out[o++] = DLE;
    out[o++] = b;
  }
  return out;
}

/** The inverse: `10 X` → X for every X (a trailing lone DLE is kept). */
export function unescapeDeviceBytes(wire: Uint8Array): Uint8Array {
  const out = new Uint8Array(wire.length);
  let o = 0;
  for (let i = 0; i < wire.length; i++) {
    const b = wire[i]!;
    if (b === DLE && i + 1 < wire.length) out[o++] = wire[++i]!;
    else out[o++] = b;
  }
  return out.slice(0, o);
}

export interface DeviceFrameOptions {
  page?: number;
  /** Real units often send a 0x41 before DLE STX. */
  leadingAck?: boolean;
}

/** A device response: payload 00 10 SUB page_hi page_lo ‖ data, SUM8 checksum, escaped, bare ETX. */
export function buildDeviceFrame(responseSub: number, data: Uint8Array, opts: DeviceFrameOptions = {}): Uint8Array {
  checkByte(responseSub, 'SUB');
  const page = opts.page ?? 0;
  checkWord(page, 'page');
  const payload = new Uint8Array(6 + data.length);
  payload[0] = DEVICE_CMD;
  payload[1] = DEVICE_FLAGS;
  payload[2] = responseSub;
  payload[3] = page >> 8;
  payload[4] = page & 0xff;
  payload.set(data, 5);
  payload[payload.length - 1] = sum8(payload, 0, payload.length - 1);
  const body = escapeDeviceBytes(payload);
  const lead = opts.leadingAck ? 1 : 0;
  const out = new Uint8Array(lead + 2 + body.length + 1);
  if (lead) out[0] = ACK;
  out[lead] = DLE;
  out[lead + 1] = STX;
  out.set(body, lead + 2);
  out[out.length - 1] = ETX;
  return out;
}

/** The 11-byte echo a response starts with: the request's offset low byte and its first 10 params. */
export function echoHeader(offset: number, p: Uint8Array): Uint8Array {
  const e = new Uint8Array(ECHO_LENGTH);
  e[0] = offset & 0xff;
  e.set(p.subarray(0, PARAMS_LENGTH), 1);
  return e;
}

/** The content of a response: data after the 11-byte echo. */
export function responseContent(frame: DeviceFrame): Uint8Array {
  return frame.data.subarray(Math.min(ECHO_LENGTH, frame.data.length));
}
