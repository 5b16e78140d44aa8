/**
 * The FFT dominant frequency of a channel (labelled as such, beside the ZC frequency).
 *
 * Taken over a bounded window so a long record costs no more than a short one: the
 * FFT_MAX_WINDOW samples nearest the peak (the whole record when shorter), mean removed,
 * Hann-weighted, and zero-padded to twice the next power of two while that stays within
 * FFT_MAX_WINDOW points (short records get finer bins; long windows have fine bins already). The
 * largest bin at or above MIN_DOMINANT_HZ is refined by a parabola through the log power of it
 * and its neighbours.
 */
import { FFT_MAX_WINDOW, MIN_DOMINANT_HZ } from './constants.js';

export function dominantFrequency(samples: ArrayLike<number>, centre: number, sampleRate: number): number | null {
  const n = samples.length;
  const length = Math.min(n, FFT_MAX_WINDOW);
  if (length < 4) return null;
  const start = Math.min(Math.max(centre - (length >> 1), 0), n - length);

  let mean = 0;
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = samples[start + i]!;
    mean += v;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  if (low === high) return null; // a constant window has no frequency (rounding would invent one)
  mean /= length;
  const size = Math.max(nextPowerOfTwo(length), Math.min(nextPowerOfTwo(length) * 2, FFT_MAX_WINDOW));
  const x = new Float64Array(size);
  const hann = hannWindow(length);
  for (let i = 0; i < length; i++) x[i] = (samples[start + i]! - mean) * hann[i]!;

  const power = realFftPower(x);
  const binHz = sampleRate / size;
  let best = -1;
  let bestPower = 0;
  for (let k = Math.ceil(MIN_DOMINANT_HZ / binHz); k < power.length; k++) {
    if (power[k]! > bestPower) {
      bestPower = power[k]!;
      best = k;
    }
  }
  if (best < 0) return null;
  return (best + parabolicOffset(power, best)) * binHz;
}

/** Where the vertex of the parabola through log power at k−1, k, k+1 lies, in bins from k (|offset| ≤ ½). */
function parabolicOffset(power: Float64Array, k: number): number {
  if (k <= 0 || k >= power.length - 1) return 0;
  const left = Math.log(power[k - 1]!);
  const centre = Math.log(power[k]!);
  const right = Math.log(power[k + 1]!);
  const curvature = left - 2 * centre + right;
  if (!Number.isFinite(curvature) || curvature >= 0) return 0;
  return (0.5 * (left - right)) / curvature;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Memoised tables, keyed by size: a few distinct sizes occur (record lengths up to the window cap). */
const MAX_CACHED_SIZES = 8;
const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array }>();
const hannCache = new Map<number, Float64Array>();

function remember<T>(cache: Map<number, T>, size: number, make: () => T): T {
  let value = cache.get(size);
  if (value === undefined) {
    if (cache.size >= MAX_CACHED_SIZES) cache.clear();
    value = make();
    cache.set(size, value);
  }
  return value;
}

/** The symmetric Hann window of `length` points. */
function hannWindow(length: number): Float64Array {
  return remember(hannCache, length, () => {
    const step = (2 * Math.PI) / (length - 1);
    return Float64Array.from({ length }, (_, i) => 0.5 - 0.5 * Math.cos(step * i));
  });
}

/**
 * cos and −sin of π·k/half for k = 0…half: the factors e^(−2πik/N) of a real FFT of N = 2·half
 * points; every second one is a twiddle factor of the half-size complex FFT.
 */
function twiddles(half: number): { cos: Float64Array; sin: Float64Array } {
  return remember(twiddleCache, half, () => {
    const cos = new Float64Array(half + 1);
    const sin = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      cos[k] = Math.cos((Math.PI * k) / half);
      sin[k] = -Math.sin((Math.PI * k) / half);
    }
    return { cos, sin };
  });
}

/**
 * |X[k]|² for k = 0…N/2 of a real signal of power-of-two length N ≥ 2, via one complex FFT of N/2
 * points: even samples as the real part, odd samples as the imaginary part, then split.
 */
export function realFftPower(x: Float64Array): Float64Array {
  const n = x.length;
  const half = n >> 1;
  const re = new Float64Array(half);
  const im = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    re[k] = x[2 * k]!;
    im[k] = x[2 * k + 1]!;
  }
  const { cos, sin } = twiddles(half);
  complexFft(re, im, cos, sin);

  const power = new Float64Array(half + 1);
  for (let k = 0; k <= half; k++) {
    const a = k === half ? 0 : k;
    const b = k === 0 ? 0 : half - k;
    // Z[k] and conj(Z[half−k]) give the spectra of the even (E) and odd (O) samples.
    const zr = re[a]!;
    const zi = im[a]!;
    const cr = re[b]!;
    const ci = -im[b]!;
    const er = (zr + cr) / 2;
    const ei = (zi + ci) / 2;
    const or = (zi - ci) / 2;
    const oi = -(zr - cr) / 2;
    const wr = cos[k]!;
    const wi = sin[k]!;
    const xr = er + wr * or - wi * oi;
    const xi = ei + wr * oi + wi * or;
    power[k] = xr * xr + xi * xi;
  }
  return power;
}

/** Iterative radix-2 decimation-in-time FFT, in place; length a power of two. */
export function fftInPlace(re: Float64Array, im: Float64Array): void {
  const { cos, sin } = twiddles(re.length);
  complexFft(re, im, cos, sin);
}

/** The FFT of n = re.length points; cos/sin hold e^(−πik/L) for k = 0…L, L a multiple of n (a twiddles() table). */
function complexFft(re: Float64Array, im: Float64Array, cos: Float64Array, sin: Float64Array): void {
  const n = re.length;
  if (n <= 1) return;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i]!;
      re[i] = re[j]!;
      re[j] = tr;
      const ti = im[i]!;
      im[i] = im[j]!;
      im[j] = ti;
    }
  }
  const tableSize = cos.length - 1;
  for (let span = 1; span < n; span <<= 1) {
    // This stage's factors e^(−πik/span) are table entries k·(L/span).
    const stride = (tableSize / span) | 0;
    for (let startAt = 0; startAt < n; startAt += 2 * span) {
      for (let k = 0; k < span; k++) {
        const wr = cos[k * stride]!;
        const wi = sin[k * stride]!;
        const p = startAt + k;
        const q = p + span;
        const tr = wr * re[q]! - wi * im[q]!;
        const ti = wr * im[q]! + wi * re[q]!;
        re[q] = re[p]! - tr;
        im[q] = im[p]! - ti;
        re[p] = re[p]! + tr;
        im[p] = im[p]! + ti;
      }
    }
  }
}
