/**
 * Event keys (protocol.md §9.3, §10): 4 bytes such as 01 11 24 5A; key4[2:4] is the event's base
 * offset. Keys restart at 01110000 after an erase, so a key alone never identifies an event.
 * SUB 1E / 1F replies carry 8 bytes: the key, then 4 bytes sfm leaves at zero ([sfm]).
 */
import { PayloadError, requireLength } from './errors.js';
import { u32be, putU32be } from './bytes.js';

export const FIRST_KEY = 0x01110000;
export const NULL_KEY = 0;
export const EVENT_KEY_REPLY_LENGTH = 8;

export function keyToHex(key: number): string {
  return (key >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

export function keyFromHex(text: string): number {
  if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new PayloadError(`an event key is 8 hex digits, got ${JSON.stringify(text)}`);
  return parseInt(text, 16) >>> 0;
}

export function keyBytes(key: number): Uint8Array {
  const b = new Uint8Array(4);
  putU32be(b, 0, key >>> 0);
  return b;
}

export function keyFromBytes(b: Uint8Array, o = 0): number {
  return u32be(b, o);
}

/** The key a 1E/1F reply names (0 = no more events). */
export function decodeEventKeyReply(content: Uint8Array): number {
  requireLength(content, 4, 'event key reply');
  return keyFromBytes(content, 0);
}

export function encodeEventKeyReply(key: number): Uint8Array {
  const out = new Uint8Array(EVENT_KEY_REPLY_LENGTH);
  putU32be(out, 0, key >>> 0);
  return out;
}
