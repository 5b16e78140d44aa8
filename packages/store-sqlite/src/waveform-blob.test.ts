import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StoreError } from '@sfm/core/cache';
import { sampleWaveform } from '@sfm/test-kit';
import { WAVEFORM_BLOB_HEADER_BYTES, decodeWaveformBlob, encodeWaveformBlob } from './waveform-blob.js';

const int16s = fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 300 }).map((a) => Int16Array.from(a));

describe('waveform blob', () => {
  it('round-trips any samples and metadata exactly', () => {
    fc.assert(
      fc.property(
        fc.record({ Tran: int16s, Vert: int16s, Long: int16s, MicL: int16s }),
        fc.record({
          index: fc.nat(),
          sampleRate: fc.double({ noNaN: true }),
          pretriggerSamples: fc.nat(),
          geoRange: fc.constantFrom('normal' as const, 'sensitive' as const),
        }),
        (channels, meta) => {
          const w = { ...sampleWaveform(0x01110400, null, 0), ...meta, channels };
          const blob = encodeWaveformBlob(w);
          expect(blob.length).toBe(WAVEFORM_BLOB_HEADER_BYTES + 2 * (channels.Tran.length + channels.Vert.length + channels.Long.length + channels.MicL.length));
          const back = decodeWaveformBlob(blob, w.key, w.timestamp, w.fetchedAt);
          expect(back).toEqual(w);
          expect(Object.is(back.sampleRate, w.sampleRate)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is little-endian with the documented header', () => {
    const w = sampleWaveform(1, null, 0, { index: 7, sampleRate: 1024, pretriggerSamples: 256, geoRange: 'sensitive' });
    w.channels.Tran = Int16Array.from([0x0102, -2]);
    const b = encodeWaveformBlob(w);
    expect(b.subarray(0, 4).toString('latin1')).toBe('SFMW');
    expect([b[4], b[5]]).toEqual([1, 1]);
    expect(b.readDoubleLE(8)).toBe(1024);
    expect([b.readUInt32LE(16), b.readUInt32LE(20), b.readUInt32LE(24), b.readUInt32LE(28)]).toEqual([256, 7, 2, 0]);
    expect([...b.subarray(40)]).toEqual([0x02, 0x01, 0xfe, 0xff]);
  });

  it('decodes from a buffer at an odd offset (copying) as well as an aligned one (views)', () => {
    const w = sampleWaveform(1, 'T', 33, { seed: 4 });
    const blob = encodeWaveformBlob(w);
    const odd = Buffer.alloc(blob.length + 1);
    blob.copy(odd, 1);
    expect(decodeWaveformBlob(odd.subarray(1), 1, 'T', w.fetchedAt)).toEqual(w);
    const aligned = decodeWaveformBlob(Buffer.from(blob), 1, 'T', w.fetchedAt);
    expect(aligned).toEqual(w);
  });

  it('rejects corrupt blobs and unkeepable waveforms with StoreError', () => {
    const blob = encodeWaveformBlob(sampleWaveform(1, null, 8));
    const bad = (mutate: (b: Buffer) => Buffer) => () => decodeWaveformBlob(mutate(Buffer.from(blob)), 1, null, 0);
    expect(bad((b) => b.subarray(0, 20))).toThrow(StoreError);
    expect(bad((b) => (b.write('XXXX', 0, 'latin1'), b))).toThrow(/bad magic/);
    expect(bad((b) => ((b[4] = 9), b))).toThrow(/layout version 9/);
    expect(bad((b) => ((b[5] = 7), b))).toThrow(/geo range/);
    expect(bad((b) => b.subarray(0, b.length - 2))).toThrow(/bytes for/);
    const w = sampleWaveform(1, null, 8);
    expect(() => encodeWaveformBlob({ ...w, index: -1 })).toThrow(StoreError);
    expect(() => encodeWaveformBlob({ ...w, pretriggerSamples: 1.5 })).toThrow(StoreError);
    expect(() => encodeWaveformBlob({ ...w, channels: { ...w.channels, Vert: [1, 2] as unknown as Int16Array } })).toThrow(StoreError);
  });
});
