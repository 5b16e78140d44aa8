import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dominantFrequency, fftInPlace, realFftPower } from './fft.js';

/** |X[k]|² by the definition, for k = 0…N/2. */
function naivePower(x: Float64Array): number[] {
  const n = x.length;
  return Array.from({ length: n / 2 + 1 }, (_, k) => {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      re += x[t]! * Math.cos((2 * Math.PI * k * t) / n);
      im -= x[t]! * Math.sin((2 * Math.PI * k * t) / n);
    }
    return re * re + im * im;
  });
}

describe('realFftPower', () => {
  it('matches the DFT definition for any real signal of power-of-two length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }).chain((log2) => fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2 ** log2, maxLength: 2 ** log2 })), (values) => {
        const x = Float64Array.from(values);
        const expected = naivePower(x);
        const actual = realFftPower(x);
        expect(actual.length).toBe(expected.length);
        expected.forEach((p, k) => expect(Math.abs(actual[k]! - p)).toBeLessThanOrEqual(1e-8 * (1 + p)));
      }),
      { numRuns: 50 },
    );
  });

  it('puts a cosine of k cycles in bin k', () => {
    const n = 64;
    const x = Float64Array.from({ length: n }, (_, t) => 3 * Math.cos((2 * Math.PI * 5 * t) / n));
    const power = realFftPower(x);
    expect(power[5]).toBeCloseTo((3 * n / 2) ** 2, 6);
    expect(power[4]).toBeCloseTo(0, 6);
  });
});

it('fftInPlace leaves a single sample alone and transforms an impulse to a flat spectrum', () => {
  const one = [Float64Array.of(2), Float64Array.of(0)] as const;
  fftInPlace(one[0], one[1]);
  expect([...one[0]]).toEqual([2]);
  const re = Float64Array.from({ length: 8 }, (_, i) => (i === 0 ? 1 : 0));
  const im = new Float64Array(8);
  fftInPlace(re, im);
  expect([...re]).toEqual(new Array(8).fill(1));
  expect([...im].every((v) => Math.abs(v) < 1e-15)).toBe(true);
});

describe('dominantFrequency', () => {
  const tone = (hz: number, rate: number, seconds: number, extra: (t: number) => number = () => 0): number[] =>
    Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.sin(2 * Math.PI * hz * (i / rate)) + extra(i / rate));

  it('finds a tone between bins to within 0.1 %', () => {
    for (const hz of [1.7, 4.3, 12.345, 63.2, 201.7]) {
      const f = dominantFrequency(tone(hz, 1024, 3), 1536, 1024)!;
      expect(Math.abs(f / hz - 1)).toBeLessThan(1e-3);
    }
  });

  it('ignores what is below 1 Hz and picks the strongest component above it', () => {
    const samples = tone(9, 1024, 8, (t) => 5 * Math.sin(2 * Math.PI * 0.4 * t) + 0.4 * Math.sin(2 * Math.PI * 30 * t));
    expect(dominantFrequency(samples, 4096, 1024)).toBeCloseTo(9, 2);
  });

  it('looks only at the 2^15 samples nearest the peak of a long record', () => {
    const rate = 4096;
    // 60 s: 20 Hz everywhere, but a loud 7 Hz burst from 46 to 54 s; the window around 20 s ends at 24 s.
    const samples = tone(20, rate, 60, (t) => (Math.abs(t - 50) < 4 ? 3 * Math.sin(2 * Math.PI * 7 * t) : 0));
    expect(dominantFrequency(samples, 50 * rate, rate)).toBeCloseTo(7, 1);
    expect(dominantFrequency(samples, 20 * rate, rate)).toBeCloseTo(20, 1);
  });

  it('has no answer for a flat or too short record', () => {
    expect(dominantFrequency(new Array(1024).fill(0.3), 0, 1024)).toBeNull();
    expect(dominantFrequency([1, -1, 1], 0, 1024)).toBeNull();
  });
});
