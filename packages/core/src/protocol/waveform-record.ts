/**
 * SUB 0C → F3 waveform record (210 bytes, protocol.md §11): timestamp, record type, the peak of
 * each channel as a float32 BE at its label + 6, and the peak vector sum at the Tran label − 12.
 * Labels are searched, not assumed; where sfm places them is in conventions.ts.
 */
import { asciiBytes, f32be, indexOfBytes, putF32be, tidyFloat32 } from './bytes.js';
import { RECORD_TYPE_CODE, WAVEFORM_RECORD } from './conventions.js';
import { requireLength } from './errors.js';
import { decodeTimestamp, encodeTimestamp } from './timestamp.js';
import type { EventPeaks } from '../model.js';

export const WAVEFORM_RECORD_LENGTH = 0xd2;

export interface WaveformRecord {
  timestamp: string | null;
  record_type: 'waveform' | 'histogram';
  peaks: EventPeaks;
}

const LABELS = { Tran: asciiBytes('Tran'), Vert: asciiBytes('Vert'), Long: asciiBytes('Long'), MicL: asciiBytes('MicL') };

function peakAt(b: Uint8Array, label: keyof typeof LABELS, from: number): { at: number; value: number | null } {
  const at = indexOfBytes(b, LABELS[label], from);
  if (at < 0 || at + 10 > b.length) return { at: -1, value: null };
  const v = f32be(b, at + 6);
  return { at, value: Number.isFinite(v) ? tidyFloat32(v) : null };
}

export function decodeWaveformRecord(content: Uint8Array): WaveformRecord {
  requireLength(content, WAVEFORM_RECORD_LENGTH, 'waveform record');
  const from = WAVEFORM_RECORD.recordType + 1;
  const tran = peakAt(content, 'Tran', from);
  const pvs = tran.at >= 12 + from ? f32be(content, tran.at - 12) : NaN;
  return {
    timestamp: decodeTimestamp(content, WAVEFORM_RECORD.timestamp),
    record_type: content[WAVEFORM_RECORD.recordType] === RECORD_TYPE_CODE.histogram ? 'histogram' : 'waveform',
    peaks: {
      tran_ips: tran.value,
      vert_ips: peakAt(content, 'Vert', from).value,
      long_ips: peakAt(content, 'Long', from).value,
      mic_psi: peakAt(content, 'MicL', from).value,
      pvs_ips: Number.isFinite(pvs) ? tidyFloat32(pvs) : null,
    },
  };
}

export function encodeWaveformRecord(rec: WaveformRecord): Uint8Array {
  const out = new Uint8Array(WAVEFORM_RECORD_LENGTH);
  if (rec.timestamp) encodeTimestamp(rec.timestamp, out, WAVEFORM_RECORD.timestamp);
  out[WAVEFORM_RECORD.recordType] = RECORD_TYPE_CODE[rec.record_type];
  const l = WAVEFORM_RECORD.labels;
  const values = { Tran: rec.peaks.tran_ips, Vert: rec.peaks.vert_ips, Long: rec.peaks.long_ips, MicL: rec.peaks.mic_psi };
  for (const name of ['Tran', 'Vert', 'Long', 'MicL'] as const) {
    out.set(LABELS[name], l[name]);
    putF32be(out, l[name] + 6, values[name] ?? Number.NaN);
  }
  putF32be(out, l.Tran - 12, rec.peaks.pvs_ips ?? Number.NaN);
  return out;
}
