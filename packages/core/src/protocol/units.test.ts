import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  GEO_COUNTS_PER_UNIT,
  MIC_PSI_PER_COUNT,
  geoFullScaleIps,
  geoUnitsToIps,
  ipsToGeoUnits,
  micCountsToDbl,
  micCountsToPsi,
  psiToMicCounts,
  type GeoRange,
} from './units.js';

describe('geophone units', () => {
  it('uses 10 in/s (normal) and 1.25 in/s (sensitive) full scale at 32768 counts', () => {
    expect(geoFullScaleIps('normal')).toBe(10);
    expect(geoFullScaleIps('sensitive')).toBe(1.25);
    expect(GEO_COUNTS_PER_UNIT).toBe(16);
    // 32768 counts = 2048 units.
    expect(geoUnitsToIps(2048, 'normal')).toBeCloseTo(10, 12);
    expect(geoUnitsToIps(2048, 'sensitive')).toBeCloseTo(1.25, 12);
    expect(geoUnitsToIps(-2048, 'normal')).toBeCloseTo(-10, 12);
  });

  it('makes one 16-count unit ≈ 0.00488 in/s in the normal range', () => {
    expect(geoUnitsToIps(1, 'normal')).toBeCloseTo(0.00488, 5);
    expect(geoUnitsToIps(1, 'sensitive')).toBeCloseTo(0.00061, 5);
  });

  it('is not the 6.206053/32767 scale of other tools (which reads ~38% low)', () => {
    const buggy = (2048 * GEO_COUNTS_PER_UNIT * 6.206053) / 32767;
    expect(geoUnitsToIps(2048, 'normal') / buggy).toBeGreaterThan(1.6);
  });

  it('rounds ips → units to the nearest unit and clamps to int16', () => {
    expect(ipsToGeoUnits(10, 'normal')).toBe(2048);
    expect(ipsToGeoUnits(0.0049, 'normal')).toBe(1);
    expect(ipsToGeoUnits(-0.001, 'normal')).toBe(0);
    expect(Object.is(ipsToGeoUnits(-0.001, 'normal'), -0)).toBe(false);
    expect(ipsToGeoUnits(1e9, 'normal')).toBe(32767);
    expect(ipsToGeoUnits(-1e9, 'sensitive')).toBe(-32768);
    expect(() => ipsToGeoUnits(Number.NaN, 'normal')).toThrow(RangeError);
  });

  it('round-trips ips → units → ips within half a unit', () => {
    fc.assert(
      fc.property(fc.constantFrom<GeoRange>('normal', 'sensitive'), fc.double({ min: -9.9, max: 9.9, noNaN: true }), (range, raw) => {
        const ips = range === 'normal' ? raw : raw / 8;
        const back = geoUnitsToIps(ipsToGeoUnits(ips, range), range);
        expect(Math.abs(back - ips)).toBeLessThanOrEqual(geoUnitsToIps(0.5, range) + 1e-12);
      }),
    );
  });

  it('round-trips units → ips → units exactly', () => {
    fc.assert(
      fc.property(fc.constantFrom<GeoRange>('normal', 'sensitive'), fc.integer({ min: -32768, max: 32767 }), (range, units) => {
        expect(ipsToGeoUnits(geoUnitsToIps(units, range), range)).toBe(units);
      }),
    );
  });
});

describe('microphone units', () => {
  it('derives the psi scale from the dB(L) formula (≈ 0.25 Pa per count)', () => {
    const paPerCount = 20e-6 * 10 ** (81.94 / 20);
    expect(paPerCount).toBeCloseTo(0.25007, 4);
    expect(MIC_PSI_PER_COUNT).toBeCloseTo(paPerCount / 6894.757, 15);
    expect(MIC_PSI_PER_COUNT).toBeCloseTo(3.6269e-5, 8);
    expect(micCountsToPsi(1000)).toBeCloseTo(0.036269, 5);
    expect(micCountsToPsi(-2)).toBeCloseTo(-2 * MIC_PSI_PER_COUNT, 15);
  });

  it('is consistent with the dB formula: c counts → psi → dB re 20 µPa', () => {
    for (const c of [1, 7, 100, 4000]) {
      const pa = micCountsToPsi(c) * 6894.757;
      expect(20 * Math.log10(pa / 20e-6)).toBeCloseTo(micCountsToDbl(c), 9);
    }
  });

  it('rounds psi → counts and clamps to int16', () => {
    expect(psiToMicCounts(micCountsToPsi(1234))).toBe(1234);
    expect(psiToMicCounts(micCountsToPsi(-5.4))).toBe(-5);
    expect(psiToMicCounts(100)).toBe(32767);
    expect(psiToMicCounts(-100)).toBe(-32768);
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (c) => {
        expect(psiToMicCounts(micCountsToPsi(c))).toBe(c);
      }),
    );
  });

  it('gives signed dB(L) with 81.94 dB at one count and 0 below one count', () => {
    expect(micCountsToDbl(1)).toBeCloseTo(81.94, 10);
    expect(micCountsToDbl(10)).toBeCloseTo(101.94, 10);
    expect(micCountsToDbl(-100)).toBeCloseTo(-121.94, 10);
    expect(micCountsToDbl(32767)).toBeCloseTo(172.25, 2);
    expect(micCountsToDbl(0)).toBe(0);
    expect(micCountsToDbl(0.5)).toBe(0);
    expect(micCountsToDbl(-0.99)).toBe(0);
  });
});
