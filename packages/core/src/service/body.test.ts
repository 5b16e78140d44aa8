/** Body: each compressed form made once and decoding to the plain bytes; gunzipWhole with a good or a lying size hint. */
import { describe, expect, it } from 'vitest';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { Body, compress, gunzipWhole } from './body.js';

const plain = Buffer.from(JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ i, v: Math.round(Math.sin(i) * 1e6) / 1e6 }))));

describe('Body', () => {
  it('makes each form once, decoding to the plain bytes, and says when it grew', () => {
    let grew = 0;
    const b = new Body(plain);
    b.onGrow = () => grew++;
    const br = b.encoded('br');
    expect(brotliDecompressSync(br).equals(plain)).toBe(true);
    expect(b.encoded('br')).toBe(br);
    expect(gunzipSync(b.encoded('gzip')).equals(plain)).toBe(true);
    expect(grew).toBe(2);
    expect(b.byteLength).toBe(plain.length + br.length + b.encoded('gzip').length);
  });

  it('keeps a form it was given (a stored document) without making it again', () => {
    const gz = compress(plain, 'gzip');
    const b = new Body(plain, { gzip: gz });
    expect(b.encoded('gzip')).toBe(gz);
  });
});

describe('gunzipWhole', () => {
  it('gives the plain bytes; a corrupt trailer is an error, never wrong bytes', () => {
    const gz = gzipSync(plain);
    expect(gunzipWhole(gz).equals(plain)).toBe(true);
    const lying = Buffer.from(gz);
    lying.writeUInt32LE(7, lying.length - 4); // a wrong ISIZE fails zlib's own check
    expect(() => gunzipWhole(lying)).toThrow();
    expect(gunzipWhole(gzipSync(Buffer.alloc(0))).length).toBe(0);
  });
});
