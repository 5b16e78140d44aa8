/** Synthetic records for the analysis tests. */
import type { ChannelName, Waveform } from '../model.js';

export interface ToneSpec {
  hz: number;
  amplitude: number;
  rate: number;
  seconds: number;
  /** Phase at t = 0, radians. */
  phase?: number;
  /**
   * Raised-cosine fade-in and fade-out, seconds. The edge half cycles are then smaller than the
   * middle ones, so the peak (and its two zero crossings) lies inside the record, and the slope
   * never exceeds the steady tone's 2πfV (true for hz ≥ 0.71 / taper_s).
   */
  taper_s?: number;
}

/** V·w(t)·sin(2πft + φ) sampled at `rate`, w the taper envelope. */
export function taperedTone({ hz, amplitude, rate, seconds, phase = 0, taper_s = 0.5 }: ToneSpec): number[] {
  const n = Math.round(seconds * rate);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const edge = Math.min(t, (n - 1) / rate - t);
    const envelope = edge >= taper_s ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / taper_s);
    out[i] = amplitude * envelope * Math.sin(2 * Math.PI * hz * t + phase);
  }
  return out;
}

/** A Waveform with the given channels (missing ones left out), in the contract's shape. */
export function waveformOf(channels: Partial<Record<ChannelName, number[]>>, rate: number, pretriggerSamples = 0): Waveform {
  return {
    schema: 'sfm.waveform.v1',
    serial: 'UM12345',
    index: 0,
    key: '01110000',
    timestamp: '2026-04-09T07:15:00',
    sample_rate: rate,
    pretrigger_samples: pretriggerSamples,
    t0_s: -pretriggerSamples / rate,
    channels: (Object.entries(channels) as [ChannelName, number[]][]).map(([name, samples]) => {
      let at = 0;
      for (let i = 1; i < samples.length; i++) if (Math.abs(samples[i]!) > Math.abs(samples[at]!)) at = i;
      return {
        name,
        unit: name === 'MicL' ? 'psi' : 'in/s',
        full_scale: name === 'MicL' ? 0.5 : 10,
        peak: { value: Math.abs(samples[at] ?? 0), t_s: (at - pretriggerSamples) / rate },
        samples,
      };
    }),
  };
}
