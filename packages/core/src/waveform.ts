/** Waveforms in physical units (the contract's Waveform shape) and their CSV form. */
import { CHANNEL_NAMES, type DecodedBody } from './protocol/waveform-body.js';
import { geoFullScaleIps, geoUnitsToIps, micCountsToPsi } from './protocol/units.js';
import type { GeoRangeName, Waveform, WaveformChannel } from './model.js';

export interface WaveformSource {
  serial: string;
  index: number;
  key: string;
  timestamp: string | null;
  sample_rate: number;
  pretrigger_samples: number;
  geo_range: GeoRangeName;
  /** The samples (a decoded body, or samples kept in a store). */
  body: Pick<DecodedBody, 'channels' | 'truncated'>;
}

const MIC_FULL_SCALE_COUNTS = 32767;

export function buildWaveform(src: WaveformSource): Waveform {
  const t0 = -src.pretrigger_samples / src.sample_rate;
  const channels: WaveformChannel[] = CHANNEL_NAMES.map((name) => {
    const units = src.body.channels[name];
    const mic = name === 'MicL';
    const samples = new Array<number>(units.length);
    let peakAbs = -1;
    let peakAt = 0;
    for (let i = 0; i < units.length; i++) {
      const v = mic ? roundTo(micCountsToPsi(units[i]!), 1e8) : geoUnitsToIps(units[i]!, src.geo_range);
      samples[i] = v;
      const a = Math.abs(v);
      if (a > peakAbs) {
        peakAbs = a;
        peakAt = i;
      }
    }
    return {
      name,
      unit: mic ? 'psi' : 'in/s',
      full_scale: mic ? roundTo(micCountsToPsi(MIC_FULL_SCALE_COUNTS), 1e6) : geoFullScaleIps(src.geo_range),
      peak: { value: Math.max(peakAbs, 0), t_s: roundTo(t0 + peakAt / src.sample_rate, 1e6) },
      samples,
    };
  });
  return {
    schema: 'sfm.waveform.v1',
    serial: src.serial,
    index: src.index,
    key: src.key,
    timestamp: src.timestamp,
    sample_rate: src.sample_rate,
    pretrigger_samples: src.pretrigger_samples,
    t0_s: t0,
    channels,
  };
}

function roundTo(v: number, scale: number): number {
  return Math.round(v * scale) / scale;
}

export const WAVEFORM_CSV_HEADER = 't_s,Tran_ips,Vert_ips,Long_ips,MicL_psi';

/** The CSV form: a header line, then one line per sample. Yields pieces so large files stream. */
export function* waveformCsv(w: Waveform, linesPerPiece = 2048): Generator<string> {
  const [tran, vert, long, mic] = (['Tran', 'Vert', 'Long', 'MicL'] as const).map((n) => w.channels.find((c) => c.name === n)?.samples ?? []);
  const n = Math.max(tran!.length, vert!.length, long!.length, mic!.length);
  let piece = WAVEFORM_CSV_HEADER + '\n';
  for (let i = 0; i < n; i++) {
    const t = roundTo(w.t0_s + i / w.sample_rate, 1e7);
    piece += `${t},${tran![i] ?? ''},${vert![i] ?? ''},${long![i] ?? ''},${mic![i] ?? ''}\n`;
    if ((i + 1) % linesPerPiece === 0) {
      yield piece;
      piece = '';
    }
  }
  if (piece) yield piece;
}
