/**
 * A StoredWaveform as table columns: its metadata as columns, each channel's samples as one bytea
 * of little-endian int16 (read back as an Int16Array view, no per-sample work on a little-endian
 * host), the gzip document as bytea.
 */
import { endianness } from 'node:os';
import { StoreError } from '@sfm/core/cache';
import type { StoredWaveform } from '@sfm/core/cache';
import type { GeoRangeName } from '@sfm/core';
import { GEO_RANGES } from '@sfm/core/schema';
import { tsOf, type Row } from './statements.js';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';
const CHANNELS = ['Tran', 'Vert', 'Long', 'MicL'] as const;

/** The statement values of a waveform, checked (each channel's samples as little-endian bytes). */
export function waveformValues(serial: string, w: StoredWaveform): unknown[] {
  if (!(GEO_RANGES as readonly string[]).includes(w.geoRange)) throw new StoreError(`waveform: unknown geo range ${JSON.stringify(w.geoRange)}`);
  for (const [field, v] of [['index', w.index], ['pretriggerSamples', w.pretriggerSamples]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new StoreError(`waveform: ${field} must be an integer in 0..2^32-1, got ${v}`);
  }
  if (typeof w.sampleRate !== 'number') throw new StoreError('waveform: sampleRate must be a number');
  if (!Number.isSafeInteger(w.key)) throw new StoreError(`waveform: key must be an integer, got ${w.key}`);
  const samples = CHANNELS.map((name) => {
    const ch = w.channels[name];
    if (!(ch instanceof Int16Array)) throw new StoreError(`waveform: channel ${name} must be an Int16Array`);
    if (LITTLE_ENDIAN_HOST) return Buffer.from(ch.buffer, ch.byteOffset, ch.byteLength);
    const b = Buffer.allocUnsafe(ch.byteLength);
    ch.forEach((v, i) => b.writeInt16LE(v, 2 * i));
    return b;
  });
  return [
    serial, w.key, tsOf(w.timestamp), w.fetchedAt, w.index, w.sampleRate, w.pretriggerSamples, w.geoRange, ...samples,
    w.document ? Buffer.from(w.document.gzip.buffer, w.document.gzip.byteOffset, w.document.gzip.byteLength) : null, w.document?.index ?? null,
  ];
}

/** A waveform from its row (fetched_at, event_index, sample_rate, pretrigger, geo_range, 4 channels, document, document_index). */
export function waveformOf(row: Row, key: number, timestamp: string | null): StoredWaveform {
  const channels = {} as StoredWaveform['channels'];
  CHANNELS.forEach((name, i) => (channels[name] = samplesOf(row[5 + i] as Buffer)));
  const w: StoredWaveform = {
    key,
    timestamp,
    index: row[1] as number,
    sampleRate: row[2] as number,
    pretriggerSamples: row[3] as number,
    geoRange: row[4] as GeoRangeName,
    channels,
    fetchedAt: row[0] as number,
  };
  if (row[9] !== null && row[10] !== null) w.document = { index: row[10] as number, gzip: row[9] as Buffer };
  return w;
}

/** Little-endian int16 bytes as an Int16Array: a view when the memory allows, else a copy. */
function samplesOf(b: Buffer): Int16Array {
  const n = b.byteLength >> 1;
  if (LITTLE_ENDIAN_HOST && b.byteOffset % 2 === 0) return new Int16Array(b.buffer, b.byteOffset, n);
  const out = new Int16Array(n);
  for (let k = 0; k < n; k++) out[k] = b.readInt16LE(2 * k);
  return out;
}

