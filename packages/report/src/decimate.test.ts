import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decimateMinMax } from './decimate.js';
import { niceStep, zcFrequency } from './format.js';

describe('decimateMinMax', () => {
  it('keeps a short trace as it is', () => {
    const line = decimateMinMax([3, -1, 4, 1, -5], 10);
    expect([...line.index]).toEqual([0, 1, 2, 3, 4]);
    expect([...line.value]).toEqual([3, -1, 4, 1, -5]);
  });

  it('keeps the lowest and highest sample of every column, in time order, at most two per column', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 50, maxLength: 3000 }), fc.integer({ min: 1, max: 24 }), (samples, columns) => {
        const line = decimateMinMax(samples, columns);
        expect(line.index.length).toBeLessThanOrEqual(2 * columns);
        for (let k = 1; k < line.index.length; k++) expect(line.index[k]!).toBeGreaterThan(line.index[k - 1]!);
        line.index.forEach((i, k) => expect(line.value[k]).toBe(samples[i]));
        for (let c = 0; c < columns; c++) {
          const from = Math.floor((c * samples.length) / columns);
          const to = Math.floor(((c + 1) * samples.length) / columns);
          const kept = [...line.index].filter((i) => i >= from && i < to).map((i) => samples[i]!);
          const column = samples.slice(from, to);
          expect(Math.max(...kept)).toBe(Math.max(...column));
          expect(Math.min(...kept)).toBe(Math.min(...column));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('draws a 60-s, 4096 Sa/s trace as a few hundred points', () => {
    const samples = Float64Array.from({ length: 60 * 4096 }, (_, i) => (i === 123_456 ? 9 : Math.sin(i / 50)));
    const line = decimateMinMax(samples, 400);
    expect(line.index.length).toBe(800);
    expect(Math.max(...line.value)).toBe(9); // a one-sample spike survives
  });
});

describe('format', () => {
  it('prints ZC flags as the vendor does', () => {
    expect(zcFrequency(12.345, null)).toBe('12.3');
    expect(zcFrequency(null, 'gt_100')).toBe('>100');
    expect(zcFrequency(null, 'lt_1')).toBe('<1');
    expect(zcFrequency(null, 'n/a')).toBe('N/A');
  });

  it('picks 1, 2 or 5 × 10^k steps for axes', () => {
    expect(niceStep(3.25, 8)).toBe(0.5);
    expect(niceStep(60, 8)).toBe(10);
    expect(niceStep(0.9, 8)).toBe(0.1);
  });
});
