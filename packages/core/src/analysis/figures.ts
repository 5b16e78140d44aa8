/**
 * Per-channel figures of analysis.md §1, in the channel's own unit (in/s or psi) and seconds:
 * peak with its sample, ZC frequency of the peak, steepest slope, and the largest half-cycle area.
 *
 * Zero crossings, one rule everywhere: a sample that is exactly zero is a crossing (quantised
 * records sit on zero often; a half cycle that starts from rest starts at its last zero sample),
 * and between two samples of opposite sign the crossing is interpolated linearly.
 */
import type { ZcFlag } from '../model.js';
import { ZC_MAX_HZ } from './constants.js';

export interface ZeroCrossingFrequency {
  hz: number | null;
  flag: ZcFlag | null;
}

export interface ChannelFigures {
  /** max |x|; null when the channel has no samples or a non-finite one. */
  peak: number | null;
  /** First sample where |x| = peak (the first sample of an all-zero channel); null with peak. */
  peakIndex: number | null;
  zc: ZeroCrossingFrequency;
  /** max |Δx/Δt| over the whole record, per second. */
  maxSlopePerS: number | null;
  /** Largest |∫x dt| over one segment between consecutive zero crossings (trapezoidal), in unit·s; null with fewer than two crossings. */
  maxHalfCycleArea: number | null;
}

const NOT_APPLICABLE: ZeroCrossingFrequency = { hz: null, flag: 'n/a' };

/**
 * One pass over the samples for peak, slope and half-cycle areas; then a local walk for the ZC
 * frequency — "n/a" when the channel is `incomplete` (fewer samples than the event holds) or did
 * not move.
 */
export function measureChannel(samples: ArrayLike<number>, sampleRate: number, incomplete = false): ChannelFigures {
  const n = samples.length;
  const none: ChannelFigures = { peak: null, peakIndex: null, zc: NOT_APPLICABLE, maxSlopePerS: null, maxHalfCycleArea: null };
  if (n === 0) return none;

  let prev = samples[0]!;
  if (!Number.isFinite(prev)) return none;
  let peak = Math.abs(prev);
  let peakIndex = 0;
  let maxStep = 0;
  // The running area of the current segment (in unit·samples) and whether it began at a crossing.
  let area = 0;
  let segmentOpen = prev === 0;
  let maxArea = -1;

  for (let i = 1; i < n; i++) {
    const v = samples[i]!;
    if (!Number.isFinite(v)) return none;
    const magnitude = Math.abs(v);
    if (magnitude > peak) {
      peak = magnitude;
      peakIndex = i;
    }
    const step = Math.abs(v - prev);
    if (step > maxStep) maxStep = step;

    if ((prev > 0 && v < 0) || (prev < 0 && v > 0)) {
      const before = prev / (prev - v); // fraction of the interval before the crossing
      area += (prev * before) / 2;
      if (segmentOpen && Math.abs(area) > maxArea) maxArea = Math.abs(area);
      segmentOpen = true;
      area = (v * (1 - before)) / 2;
    } else {
      area += (prev + v) / 2;
      if (v === 0) {
        if (segmentOpen && Math.abs(area) > maxArea) maxArea = Math.abs(area);
        segmentOpen = true;
        area = 0;
      }
    }
    prev = v;
  }

  const dt = 1 / sampleRate;
  return {
    peak,
    peakIndex,
    zc: peak > 0 && !incomplete ? zeroCrossingFrequency(samples, peakIndex, sampleRate) : NOT_APPLICABLE,
    maxSlopePerS: maxStep * sampleRate,
    maxHalfCycleArea: maxArea >= 0 ? maxArea * dt : null,
  };
}

/**
 * The ZC frequency of the half cycle holding sample `at` (non-zero): the crossings either side
 * are T½ apart and f = 1 / (2·T½).
 */
export function zeroCrossingFrequency(samples: ArrayLike<number>, at: number, sampleRate: number): ZeroCrossingFrequency {
  const sign = Math.sign(samples[at]!);
  if (sign === 0) return NOT_APPLICABLE;
  let before = at - 1;
  while (before >= 0 && sign * samples[before]! > 0) before--;
  let after = at + 1;
  while (after < samples.length && sign * samples[after]! > 0) after++;
  if (before < 0 || after >= samples.length) return { hz: null, flag: 'lt_1' };

  const b0 = samples[before]!;
  const b1 = samples[before + 1]!;
  const a0 = samples[after - 1]!;
  const a1 = samples[after]!;
  const start = before + b0 / (b0 - b1);
  const end = after - 1 + a0 / (a0 - a1);
  const hz = sampleRate / (2 * (end - start));
  return hz > ZC_MAX_HZ ? { hz: null, flag: 'gt_100' } : { hz, flag: null };
}
