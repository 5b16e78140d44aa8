/**
 * Synthetic but realistic event signals, deterministic from a seed: pre-trigger noise of a few
 * units, a blast-like burst on the geophones (a sum of 2–4 damped sinusoids between 5 and 80 Hz,
 * peak between 0.05 and 2 in/s) and an N-wave air-blast pulse on the microphone a few tens of ms
 * after the trigger. Samples are integer "units" as the waveform body carries them: geophone units
 * (16 ADC counts each) and native microphone counts.
 */
import { type GeoRangeName } from '@sfm/core';
import { CHANNEL_NAMES, geoFullScaleIps, geoUnitsToIps, ipsToGeoUnits, micCountsToPsi, psiToMicCounts, tidyFloat32, type ChannelName } from '@sfm/core/protocol';
import type { EventPeaks } from '@sfm/core';
import { Prng } from './prng.js';

export interface SignalSpec {
  sampleRate: number;
  totalSamples: number;
  /** The trigger point: samples before it are noise only. */
  pretriggerSamples: number;
  geoRange: GeoRangeName;
  seed: number;
}

export type EventChannels = Record<ChannelName, Int16Array>;

const GEO_CHANNELS = ['Tran', 'Vert', 'Long'] as const;
const GEO_NOISE_UNITS = 1.2;
const MIC_NOISE_COUNTS = 1.5;

function clampInt16(v: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(v))) + 0;
}

/** One damped sinusoid of the burst, starting `delay` seconds after the trigger. */
interface Mode {
  freq: number;
  weight: number;
  decay: number;
  delay: number;
  phase: number;
}

function burstShape(rng: Prng, n: number, rate: number, trigger: number): Float64Array {
  const modes: Mode[] = [];
  const count = rng.int(2, 4);
  for (let k = 0; k < count; k++) {
    const freq = rng.logRange(5, 80);
    modes.push({
      freq,
      weight: rng.range(0.3, 1),
      // Low frequencies ring longer, as ground motion does.
      decay: rng.range(0.6, 1.4) * Math.min(0.6, 2.5 / freq + 0.04),
      delay: rng.range(0, 0.03),
      phase: rng.range(0, 2 * Math.PI),
    });
  }
  const out = new Float64Array(n);
  for (let i = trigger; i < n; i++) {
    const t = (i - trigger) / rate;
    let v = 0;
    for (const m of modes) {
      const u = t - m.delay;
      if (u < 0) continue;
      const rise = 1 - Math.exp(-u / 0.004);
      v += m.weight * rise * Math.exp(-u / m.decay) * Math.sin(2 * Math.PI * m.freq * u + m.phase);
    }
    out[i] = v;
  }
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Four channels of integer samples for one event. */
export function synthesizeEvent(spec: SignalSpec): EventChannels {
  const { sampleRate: rate, totalSamples: n, geoRange } = spec;
  const trigger = Math.min(spec.pretriggerSamples, n);
  const rng = new Prng(spec.seed);

  // Geophones: the loudest channel peaks at the target, the others at 40–100 % of it. The target
  // stays below 90 % of the range's full scale so nothing clips.
  const fullScale = geoFullScaleIps(geoRange);
  const target = Math.min(rng.logRange(0.05, 2), 0.9 * fullScale);
  const weights = GEO_CHANNELS.map(() => rng.range(0.4, 1));
  const loudest = Math.max(...weights);
  const channels = {} as EventChannels;
  GEO_CHANNELS.forEach((name, c) => {
    const shape = burstShape(rng, n, rate, trigger);
    const peak = maxAbs(shape) || 1;
    const peakUnits = ipsToGeoUnits((target * weights[c]!) / loudest, geoRange);
    const samples = new Int16Array(n);
    for (let i = 0; i < n; i++) samples[i] = clampInt16((shape[i]! / peak) * peakUnits + rng.gauss() * GEO_NOISE_UNITS);
    channels[name] = samples;
  });

  // Microphone: an N-wave (jump to +P, linear fall to −P, back to 0) a few tens of ms after the
  // trigger, then a short low-frequency ring.
  const arrival = trigger + Math.round(rng.range(0.02, 0.08) * rate);
  const duration = rng.range(0.012, 0.04);
  const pCounts = psiToMicCounts(rng.logRange(0.002, 0.03));
  const ringFreq = rng.range(8, 20);
  const mic = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    if (i >= arrival) {
      const u = (i - arrival) / rate;
      if (u <= duration) {
        const rise = 1 - Math.exp(-u / 0.0008);
        v = pCounts * rise * (1 - (2 * u) / duration);
      } else {
        const w = u - duration;
        v = 0.15 * pCounts * Math.exp(-w / 0.06) * Math.sin(2 * Math.PI * ringFreq * w + Math.PI);
      }
    }
    mic[i] = clampInt16(v + rng.gauss() * MIC_NOISE_COUNTS);
  }
  channels.MicL = mic;
  return channels;
}

/**
 * Peaks as the unit reports them: max |value| per channel in physical units, and the peak vector
 * sum max over t of √(T²+V²+L²). Values are rounded through float32 the way the 0C record stores
 * them, so they equal what a client decodes.
 */
export function computePeaks(ch: EventChannels, geoRange: GeoRangeName): EventPeaks {
  const n = ch.Tran.length;
  let pvsUnits = 0;
  for (let i = 0; i < n; i++) {
    const t = ch.Tran[i]!, v = ch.Vert[i]!, l = ch.Long[i]!;
    pvsUnits = Math.max(pvsUnits, Math.sqrt(t * t + v * v + l * l));
  }
  const f32 = (x: number): number => tidyFloat32(Math.fround(x));
  return {
    tran_ips: f32(geoUnitsToIps(maxAbs(ch.Tran), geoRange)),
    vert_ips: f32(geoUnitsToIps(maxAbs(ch.Vert), geoRange)),
    long_ips: f32(geoUnitsToIps(maxAbs(ch.Long), geoRange)),
    mic_psi: f32(micCountsToPsi(maxAbs(ch.MicL))),
    pvs_ips: f32(geoUnitsToIps(pvsUnits, geoRange)),
  };
}

/** The channels as plain arrays in body order (for encodeWaveformBody and comparisons). */
export function channelArrays(ch: EventChannels): Record<ChannelName, number[]> {
  const out = {} as Record<ChannelName, number[]>;
  for (const name of CHANNEL_NAMES) out[name] = Array.from(ch[name]);
  return out;
}
