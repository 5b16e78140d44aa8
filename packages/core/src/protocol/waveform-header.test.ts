import { describe, expect, it } from 'vitest';
import { asciiBytes, toHex } from './bytes.js';
import { encodeTimestamp } from './timestamp.js';
import { decodeWaveformHeader, encodeWaveformHeader, HEADER_LENGTH_PARTIAL, type MonitorLogHeader } from './waveform-header.js';

const log = (over: Partial<MonitorLogHeader> = {}): MonitorLogHeader => ({
  kind: 'monitor_log', start_time: '2026-04-08T01:00:00', stop_time: '2026-04-08T03:30:15', serial: 'BE18189', trigger_level_ips: 0.5, ...over,
});

/** A 44-byte record with the pieces where a test puts them. */
function record(parts: [at: number, bytes: Uint8Array][]): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH_PARTIAL);
  for (const [at, b] of parts) out.set(b, at);
  return out;
}
const time = (iso: string) => {
  const b = new Uint8Array(8);
  encodeTimestamp(iso, b, 0);
  return b;
};

describe('monitor-log header (0A, 0x2C)', () => {
  it('sfm writes start, stop, the serial slot, then "Geo: " and the level as text', () => {
    const b = encodeWaveformHeader(log());
    expect(toHex(b.subarray(0, 16))).toBe('08 04 07 EA 00 01 00 00 08 04 07 EA 00 03 1E 0F');
    expect(new TextDecoder().decode(b.subarray(16, 24))).toBe('BE18189\0');
    expect(new TextDecoder().decode(b.subarray(24, 38))).toBe('Geo: 0.5 in/s\0');
    expect(decodeWaveformHeader(b, HEADER_LENGTH_PARTIAL)).toEqual(log());
  });

  it('start and stop sharing mm:ss have one byte between them; the decoder steps over it', () => {
    const h = log({ start_time: '2026-04-08T01:17:42', stop_time: '2026-04-08T05:17:42' });
    const b = encodeWaveformHeader(h);
    expect(b[8]).toBe(0);
    expect(toHex(b.subarray(9, 17))).toBe('08 04 07 EA 00 05 11 2A');
    expect(new TextDecoder().decode(b.subarray(17, 24))).toBe('BE18189');
    expect(decodeWaveformHeader(b, HEADER_LENGTH_PARTIAL)).toEqual(h);
    // Same minute, other second: no gap.
    expect(encodeWaveformHeader(log({ start_time: '2026-04-08T01:17:42', stop_time: '2026-04-08T05:17:43' }))[8]).toBe(8);
  });

  it('finds the serial by "BE" and the level by "Geo: " wherever they sit', () => {
    const b = record([
      [0, time('2026-05-11T06:00:00')],
      [9, time('2026-05-11T07:00:00')],
      [19, asciiBytes('BE11529')],
      [28, asciiBytes('Geo:  1.250in/s')],
    ]);
    expect(decodeWaveformHeader(b, HEADER_LENGTH_PARTIAL)).toEqual({
      kind: 'monitor_log', start_time: '2026-05-11T06:00:00', stop_time: '2026-05-11T07:00:00', serial: 'BE11529', trigger_level_ips: 1.25,
    });
  });

  it('what the record does not give is null, never guessed', () => {
    const bare = record([[0, time('2026-05-11T06:00:00')]]);
    expect(decodeWaveformHeader(bare, HEADER_LENGTH_PARTIAL)).toEqual({ kind: 'monitor_log', start_time: '2026-05-11T06:00:00', stop_time: null, serial: null, trigger_level_ips: null });
    // A level in another unit, or no number after the label, is not read as in/s.
    const mm = record([[0, time('2026-05-11T06:00:00')], [24, asciiBytes('Geo: 12.7 mm/s')]]);
    expect(decodeWaveformHeader(mm, HEADER_LENGTH_PARTIAL)).toMatchObject({ trigger_level_ips: null });
    const blank = record([[24, asciiBytes('Geo: ---')]]);
    expect(decodeWaveformHeader(blank, HEADER_LENGTH_PARTIAL)).toMatchObject({ trigger_level_ips: null });
    // The null fields round-trip as null.
    const none = log({ start_time: null, stop_time: null, serial: null, trigger_level_ips: null });
    expect(decodeWaveformHeader(encodeWaveformHeader(none), HEADER_LENGTH_PARTIAL)).toEqual(none);
    expect(decodeWaveformHeader(encodeWaveformHeader(log({ start_time: null })), HEADER_LENGTH_PARTIAL)).toEqual(log({ start_time: null }));
    expect(decodeWaveformHeader(encodeWaveformHeader(log({ stop_time: null })), HEADER_LENGTH_PARTIAL)).toEqual(log({ stop_time: null }));
  });

  it('the encoder refuses a serial the decoder could not find, and a level that does not fit', () => {
    expect(() => encodeWaveformHeader(log({ serial: 'XY12345' }))).toThrow(/starts with "BE"/);
    expect(() => encodeWaveformHeader(log({ trigger_level_ips: 0.123456789012 }))).toThrow(/at most 20 fit/);
  });
});
