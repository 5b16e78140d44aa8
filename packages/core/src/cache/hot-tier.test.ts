/** The hot tier: bounded by every byte it holds (compressed forms too), dropped per unit. */
import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { Body } from '../service/body.js';
import { HotTier, hotKey } from './hot-tier.js';

const json = (n: number) => Buffer.from(JSON.stringify(Array.from({ length: n }, (_, i) => ({ i, v: Math.sin(i) }))));

describe('HotTier', () => {
  it('counts a compressed form when it is made, and a unit drop still finds the entry', () => {
    const hot = new HotTier(10_000_000);
    const k = hotKey('waveform', 'BE1', 'k');
    hot.set(k, json(2000), 0);
    const plain = hot.stats.bytes;
    const gz = hot.get(k)!.body.encoded('gzip');
    expect(gunzipSync(gz).equals(Buffer.from(hot.get(k)!.body.plain))).toBe(true);
    expect(hot.stats.bytes).toBe(plain + gz.byteLength);
    hot.get(k)!.body.encoded('gzip'); // kept: not made or counted twice
    expect(hot.stats.bytes).toBe(plain + gz.byteLength);
    hot.dropUnit('BE1', ['waveform']);
    expect(hot.get(k)).toBeUndefined();
    expect(hot.stats).toEqual({ entries: 0, bytes: 0 });
  });

  it('evicts by the bytes held, compressed forms included', () => {
    const one = new Body(json(2000)).byteLength;
    const hot = new HotTier(Math.floor(one * 2.2));
    hot.set(hotKey('events', 'BE1', 'a'), json(2000), 0);
    hot.set(hotKey('events', 'BE1', 'b'), json(2000), 0);
    expect(hot.stats.entries).toBe(2);
    // b's br form pushes the total over the budget: the least recently used (a) goes
    hot.get(hotKey('events', 'BE1', 'b'))!.body.encoded('br');
    expect(hot.get(hotKey('events', 'BE1', 'a'))).toBeUndefined();
    expect(hot.stats.entries).toBe(1);
  });

  it('drops exactly one unit\'s entries of the kinds named', () => {
    const hot = new HotTier();
    hot.set(hotKey('events', 'BE1', 'list'), Buffer.from('[]'), 0);
    hot.set(hotKey('waveform', 'BE1', 'x'), Buffer.from('{}'), 0);
    hot.set(hotKey('events', 'BE10', 'list'), Buffer.from('[]'), 0);
    hot.dropUnit('BE1', ['events']);
    expect([hot.get(hotKey('events', 'BE1', 'list')), hot.get(hotKey('waveform', 'BE1', 'x')) !== undefined, hot.get(hotKey('events', 'BE10', 'list')) !== undefined]).toEqual([undefined, true, true]);
  });
});
