import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyFromHex } from '@sfm/core';
import { ReferenceStore, sampleEvent, sampleInfo, sampleKey, sampleStatus, sampleWaveform, storedEvent, storeContractSuite } from './index.js';

// The suite checks itself against the plainest Store there is.
storeContractSuite('reference', () => new ReferenceStore(), { describe, it, expect, beforeEach, afterEach });

describe('fixtures', () => {
  it('sampleEvent is a realistic contract Event of about 600 bytes as JSON', () => {
    const e = sampleEvent(3, sampleKey(3));
    expect(e.index).toBe(3);
    expect(keyFromHex(e.key)).toBe(sampleKey(3));
    expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    const size = JSON.stringify(e).length;
    expect(size).toBeGreaterThan(500);
    expect(size).toBeLessThan(700);
  });

  it('builders are deterministic and return fresh objects', () => {
    expect(sampleEvent(5)).toEqual(sampleEvent(5));
    expect(sampleEvent(5)).not.toBe(sampleEvent(5));
    expect(storedEvent(2, 77, 1000)).toEqual({ event: sampleEvent(2, 77), key: 77, geoRange: 'normal', fetchedAt: 1000 });
    expect(sampleInfo('BE1').serial).toBe('BE1');
    expect(sampleInfo('BE1').compliance).not.toBe(sampleInfo('BE1').compliance);
    expect(sampleStatus({ battery_v: 5 }).battery_v).toBe(5);
  });

  it('sampleWaveform holds int16 damped sines of the asked length', () => {
    const w = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 10240);
    for (const ch of Object.values(w.channels)) {
      expect(ch).toBeInstanceOf(Int16Array);
      expect(ch.length).toBe(10240);
    }
    expect(Math.max(...w.channels.Tran)).toBeGreaterThan(5000);
    expect(Math.abs(w.channels.Tran[10000]!)).toBeLessThan(100);
    expect(w.channels.Vert).not.toEqual(w.channels.Tran);
    expect(sampleWaveform(1, null, 64, { seed: 1 }).channels.Tran).not.toEqual(sampleWaveform(1, null, 64, { seed: 2 }).channels.Tran);
  });
});
