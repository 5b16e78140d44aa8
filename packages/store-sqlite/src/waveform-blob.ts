/**
 * The on-disk form of a StoredWaveform's metadata and samples: one BLOB, little-endian.
 *
 *   offset  size  field
 *   0       4     magic "SFMW"
 *   4       1     layout version (1)
 *   5       1     geo range: 0 normal, 1 sensitive
 *   6       2     reserved, 0
 *   8       8     sample rate, float64
 *   16      4     pretrigger samples, uint32
 *   20      4     event index, uint32
 *   24      16    sample counts of Tran, Vert, Long, MicL, uint32 each
 *   40      …     the samples, int16, channel after channel in that order
 *
 * Key, timestamp and fetchedAt are columns beside the blob (they identify and age it).
 * 10 240 samples × 4 channels take 81 960 bytes, against ~175 KB as JSON numbers.
 */
import { endianness } from 'node:os';
import { StoreError } from '@sfm/core/cache';
import type { GeoRangeName } from '@sfm/core';
import type { StoredWaveform } from '@sfm/core/cache';

export const WAVEFORM_BLOB_HEADER_BYTES = 40;
const MAGIC = 0x574d4653; // "SFMW" read as uint32 LE
const LAYOUT_VERSION = 1;
const CHANNELS = ['Tran', 'Vert', 'Long', 'MicL'] as const;
const GEO_RANGES: readonly GeoRangeName[] = ['normal', 'sensitive'];
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export function encodeWaveformBlob(w: StoredWaveform): Buffer {
  const geo = GEO_RANGES.indexOf(w.geoRange);
  if (geo < 0) throw new StoreError(`waveform: unknown geo range ${JSON.stringify(w.geoRange)}`);
  const pretrigger = u32(w.pretriggerSamples, 'pretriggerSamples');
  const index = u32(w.index, 'index');
  if (typeof w.sampleRate !== 'number') throw new StoreError('waveform: sampleRate must be a number');
  const channels = CHANNELS.map((name) => {
    const ch = w.channels[name];
    if (!(ch instanceof Int16Array)) throw new StoreError(`waveform: channel ${name} must be an Int16Array`);
    return ch;
  });
  const total = channels.reduce((n, ch) => n + ch.length, 0);
  const buf = Buffer.allocUnsafe(WAVEFORM_BLOB_HEADER_BYTES + 2 * total);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, LAYOUT_VERSION);
  view.setUint8(5, geo);
  view.setUint16(6, 0, true);
  view.setFloat64(8, w.sampleRate, true);
  view.setUint32(16, pretrigger, true);
  view.setUint32(20, index, true);
  let offset = WAVEFORM_BLOB_HEADER_BYTES;
  channels.forEach((ch, i) => {
    view.setUint32(24 + 4 * i, ch.length, true);
    if (LITTLE_ENDIAN_HOST) {
      buf.set(new Uint8Array(ch.buffer, ch.byteOffset, ch.byteLength), offset);
    } else {
      for (let k = 0; k < ch.length; k++) view.setInt16(offset + 2 * k, ch[k]!, true);
    }
    offset += ch.byteLength;
  });
  return buf;
}

/**
 * Rebuilds the waveform from its blob and columns. The channels are views over `blob` when its
 * memory allows (little-endian host, even offset): callers pass a buffer nobody else holds (each
 * better-sqlite3 read returns a fresh one), so the result shares memory with no one.
 */
export function decodeWaveformBlob(blob: Uint8Array, key: number, timestamp: string | null, fetchedAt: number): StoredWaveform {
  if (blob.byteLength < WAVEFORM_BLOB_HEADER_BYTES) throw corrupt('shorter than its header');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw corrupt('bad magic');
  if (view.getUint8(4) !== LAYOUT_VERSION) throw corrupt(`unknown layout version ${view.getUint8(4)}`);
  const geoRange = GEO_RANGES[view.getUint8(5)];
  if (!geoRange) throw corrupt(`unknown geo range code ${view.getUint8(5)}`);
  const counts = CHANNELS.map((_, i) => view.getUint32(24 + 4 * i, true));
  const total = counts.reduce((n, c) => n + c, 0);
  if (blob.byteLength !== WAVEFORM_BLOB_HEADER_BYTES + 2 * total) throw corrupt(`${blob.byteLength} bytes for ${total} samples`);
  const zeroCopy = LITTLE_ENDIAN_HOST && blob.byteOffset % 2 === 0;
  let offset = WAVEFORM_BLOB_HEADER_BYTES;
  const channels = {} as StoredWaveform['channels'];
  CHANNELS.forEach((name, i) => {
    const n = counts[i]!;
    let samples: Int16Array;
    if (zeroCopy) {
      samples = new Int16Array(blob.buffer, blob.byteOffset + offset, n);
    } else if (LITTLE_ENDIAN_HOST) {
      samples = new Int16Array(n);
      new Uint8Array(samples.buffer).set(blob.subarray(offset, offset + 2 * n));
    } else {
      samples = new Int16Array(n);
      for (let k = 0; k < n; k++) samples[k] = view.getInt16(offset + 2 * k, true);
    }
    channels[name] = samples;
    offset += 2 * n;
  });
  return {
    key,
    timestamp,
    index: view.getUint32(20, true),
    sampleRate: view.getFloat64(8, true),
    pretriggerSamples: view.getUint32(16, true),
    geoRange,
    channels,
    fetchedAt,
  };
}

function u32(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new StoreError(`waveform: ${field} must be an integer in 0..2^32-1, got ${v}`);
  return v;
}

function corrupt(why: string): StoreError {
  return new StoreError(`stored waveform is corrupt: ${why}`);
}
