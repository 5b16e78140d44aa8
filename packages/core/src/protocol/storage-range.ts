/**
 * SUB 06 → F9 storage range (36 bytes, protocol.md §9.2): the last 8 bytes are two keys, read in
 * the notes as the first and the last key in storage. After an erase both are 01110000, and an
 * empty unit must be told from a unit holding one event at 01110000, so sfm reads the second as
 * the key the NEXT record will get ([A]): the unit is empty when first == next. The key of the last
 * stored record is therefore not in this block; it comes from the event walk (relay-service.ts).
 */
import { requireLength } from './errors.js';
import { keyFromBytes, keyToHex } from './event-key.js';
import { putU32be } from './bytes.js';
import type { StorageRange } from '../model.js';

export const STORAGE_RANGE_LENGTH = 0x24;
const FIRST_KEY_AT = 28;
const NEXT_KEY_AT = 32;

export interface StorageRangeKeys {
  /** The key of the first stored record (the next key too when the unit is empty). */
  first: number;
  /** The key the next record will get. */
  next: number;
}

export function decodeStorageRange(content: Uint8Array): StorageRangeKeys {
  requireLength(content, STORAGE_RANGE_LENGTH, 'storage-range block');
  return { first: keyFromBytes(content, FIRST_KEY_AT), next: keyFromBytes(content, NEXT_KEY_AT) };
}

export function encodeStorageRange(keys: StorageRangeKeys): Uint8Array {
  const out = new Uint8Array(STORAGE_RANGE_LENGTH);
  putU32be(out, FIRST_KEY_AT, keys.first >>> 0);
  putU32be(out, NEXT_KEY_AT, keys.next >>> 0);
  return out;
}

export function isEmptyRange(keys: StorageRangeKeys): boolean {
  return keys.first === keys.next;
}

/**
 * The contract's StorageRange. `lastKey` is the last stored record's key, which SUB 06 does not
 * give: null when the unit is empty, or when the caller did not walk the list (a decoded frame).
 */
export function storageRangeView(keys: StorageRangeKeys, lastKey: number | null): StorageRange {
  const empty = isEmptyRange(keys);
  return {
    first_key: keyToHex(keys.first),
    last_key: empty || lastKey === null ? null : keyToHex(lastKey),
    next_key: keyToHex(keys.next),
    is_empty: empty,
  };
}
