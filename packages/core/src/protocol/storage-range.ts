/**
 * SUB 06 → F9 storage range (36 bytes, protocol.md §9.2): the last 8 bytes are the first and the
 * last key. After an erase both are 01110000, so sfm reads "last" as the key the next event will
 * get ([A]): the unit is empty when first == last.
 */
import { requireLength } from './errors.js';
import { keyFromBytes, keyToHex } from './event-key.js';
import { putU32be } from './bytes.js';
import type { StorageRange } from '../model.js';

export const STORAGE_RANGE_LENGTH = 0x24;

export interface StorageRangeKeys {
  first: number;
  last: number;
}

export function decodeStorageRange(content: Uint8Array): StorageRangeKeys {
  requireLength(content, STORAGE_RANGE_LENGTH, 'storage-range block');
  return { first: keyFromBytes(content, 28), last: keyFromBytes(content, 32) };
}

export function encodeStorageRange(keys: StorageRangeKeys): Uint8Array {
  const out = new Uint8Array(STORAGE_RANGE_LENGTH);
  putU32be(out, 28, keys.first >>> 0);
  putU32be(out, 32, keys.last >>> 0);
  return out;
}

export function storageRangeView(keys: StorageRangeKeys): StorageRange {
  return { first_key: keyToHex(keys.first), last_key: keyToHex(keys.last), is_empty: keys.first === keys.last };
}
