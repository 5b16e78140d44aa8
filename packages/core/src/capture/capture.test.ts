import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGolden } from '@sfm/test-support';
import { buildDeviceFrame, buildReadFrame, parseHex, SUB } from '../protocol/index.js';
import { CAPTURE_PREAMBLE_LENGTH, CaptureFormatError, CaptureReader, isCapture, readCapture, type CaptureRecord } from './format.js';
import { CaptureTimeline } from './timeline.js';
import { CaptureWriter, type CaptureSink } from './writer.js';

/** A sink in memory that also remembers where each write ended (the record boundaries). */
function memorySink(): CaptureSink & { bytes(): Uint8Array; boundaries: number[]; failAfter?: number } {
  const parts: Uint8Array[] = [];
  let size = 0;
  const sink = {
    boundaries: [] as number[],
    failAfter: undefined as number | undefined,
    write(b: Uint8Array) {
      if (sink.failAfter !== undefined && size + b.length > sink.failAfter) throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
      parts.push(b.slice());
      size += b.length;
      sink.boundaries.push(size);
    },
    flush() {},
    close() {},
    bytes() {
      const out = new Uint8Array(size);
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    },
  };
  return sink;
}

/** A clock that moves 1.5 ms per reading, from a fixed start. */
function steppingClock(start = Date.parse('2026-05-05T10:00:00Z')): () => number {
  let t = start - 1.5;
  return () => (t += 1.5);
}

const POLL = buildReadFrame(SUB.POLL, 0);
const POLL_REPLY = buildDeviceFrame(0xa4, new Uint8Array(11), { leadingAck: true });

function sampleCapture(sink = memorySink()) {
  const w = new CaptureWriter(sink, { recorder: 'sfm test', command: ['events'] }, { now: steppingClock() });
  const s1 = w.startSession({ host: 'sfm', device: 'tcp:127.0.0.1:12345' });
  s1.host(POLL);
  s1.device(POLL_REPLY.subarray(0, 5)); // a reply that arrives in two pieces
  s1.device(POLL_REPLY.subarray(5));
  s1.note({ serial: 'BE18189' });
  s1.end({ closed_by: 'host' });
  const s2 = w.startSession({ host: 'sfm', device: 'tcp:127.0.0.1:12345' });
  s2.host(POLL);
  w.close(); // ends session 2 as the recorder's doing
  return { sink, writer: w };
}

describe('capture files', () => {
  it('read back as written: header, sessions, both directions in order with their times, the end', () => {
    const { sink, writer } = sampleCapture();
    const { records, cut } = readCapture(sink.bytes());
    expect(cut).toBeNull();
    expect(writer.error).toBeNull();
    expect(records.map((r) => r.type)).toEqual(['capture', 'session-start', 'host', 'device', 'device', 'note', 'session-end', 'session-start', 'host', 'session-end', 'capture-end']);
    expect(records[0]).toEqual({ type: 'capture', timeUs: 0, header: { format: 'sfm-capture', version: 1, started_at: '2026-05-05T10:00:00.000Z', recorder: 'sfm test', command: ['events'] } });
    expect(records[1]).toMatchObject({ session: { session: 1, host: 'sfm', device: 'tcp:127.0.0.1:12345' } });
    expect(records[2]).toMatchObject({ type: 'host', bytes: POLL });
    expect(records.map((r) => r.timeUs)).toEqual(records.map((_, i) => i * 1500));
    expect(records[6]).toMatchObject({ end: { session: 1, closed_by: 'host' } });
    expect(records[9]).toMatchObject({ end: { session: 2, closed_by: 'recorder' } });
    expect(records[10]).toMatchObject({ end: { sessions: 2, bytes: { host: 2 * POLL.length, device: POLL_REPLY.length } } });
  });

  it('a capture cut anywhere (a crash) reads up to the cut: every whole record before it, nothing after', () => {
    const { sink } = sampleCapture();
    const whole = sink.bytes();
    const all = readCapture(whole).records;
    // The file's records end at these offsets (the preamble goes out with the header's write).
    const ends = sink.boundaries.slice(1);
    for (let n = 0; n < whole.length; n++) {
      const { records, cut } = readCapture(whole.subarray(0, n));
      const complete = ends.filter((e) => e <= n).length;
      expect(records, `cut at ${n}`).toEqual(all.slice(0, complete));
      const atBoundary = ends.includes(n);
      expect(cut === null, `cut at ${n}`).toBe(atBoundary);
      if (!atBoundary) expect(cut!.reason).toBe('truncated');
    }
  });

  it('reads the same whatever the chunks it arrives in', () => {
    const whole = sampleCapture().sink.bytes();
    const expected = readCapture(whole).records;
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 60 }), (sizes) => {
      const r = new CaptureReader();
      const got: CaptureRecord[] = [];
      let o = 0;
      for (let i = 0; o < whole.length; i++) {
        const n = sizes[i % sizes.length]!;
        got.push(...r.push(whole.subarray(o, o + n)));
        o += n;
      }
      expect(r.end()).toBeNull();
      expect(got).toEqual(expected);
    }));
  });

  it('damage ends the readable part where it starts: a flipped byte, a zero-filled tail', () => {
    const { sink } = sampleCapture();
    const whole = sink.bytes();
    const ends = sink.boundaries;
    const flipped = whole.slice();
    flipped[ends[3]! + 12] ^= 0xff; // inside the 4th record after the header's
    const a = readCapture(flipped);
    expect(a.records.map((r) => r.type)).toEqual(['capture', 'session-start', 'host']);
    expect(a.cut).toMatchObject({ reason: 'damaged', offset: ends[3] });
    // A file system may leave zeros after the last write of a crashed process.
    const zeros = new Uint8Array(ends[4]! + 64);
    zeros.set(whole.subarray(0, ends[4]));
    const b = readCapture(zeros);
    expect(b.records).toHaveLength(4);
    expect(b.cut).toMatchObject({ reason: 'damaged', offset: ends[4] });
  });

  it('tells captures from raw byte dumps; refuses another version', () => {
    const golden = loadGolden();
    expect(isCapture(sampleCapture().sink.bytes())).toBe(true);
    expect(isCapture(parseHex(golden.stream_example.wire))).toBe(false);
    expect(isCapture(readFileSync(new URL('../../../../samples/session.bin', import.meta.url)))).toBe(false);
    const other = sampleCapture().sink.bytes();
    other[CAPTURE_PREAMBLE_LENGTH - 1] = 2;
    expect(() => readCapture(other)).toThrow(CaptureFormatError);
    expect(() => readCapture(new Uint8Array(64))).toThrow(/not an sfm capture/);
  });

  it('a write that fails stops the recording, not the session; the error is kept for close()', () => {
    const sink = memorySink();
    sink.failAfter = 300;
    const { writer } = sampleCapture(sink);
    expect(writer.error?.message).toMatch(/recording stopped: ENOSPC/);
    const { records, cut } = readCapture(sink.bytes());
    expect(cut).toBeNull(); // what got written is whole records
    expect(records.length).toBeGreaterThan(1);
  });

  it('a file: created, written as it goes, readable while still open', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-capture-'));
    const path = join(dir, 'c.sfmcap');
    writeFileSync(path, 'old contents');
    const w = CaptureWriter.create(path, { recorder: 'sfm test' });
    w.startSession({ host: 'a', device: 'b' }).host(POLL);
    // Not closed yet: a reader (or a crash now) sees every record so far.
    expect(readCapture(readFileSync(path)).records.map((r) => r.type)).toEqual(['capture', 'session-start', 'host']);
    w.close();
    expect(readCapture(readFileSync(path)).records.at(-1)!.type).toBe('capture-end');
    expect(() => CaptureWriter.create(join(dir, 'no', 'such', 'dir.sfmcap'), { recorder: 'x' })).toThrow(/cannot write the capture .*: ENOENT/);
  });
});

describe('the capture timeline', () => {
  it('gives each frame its direction, time and session; a frame split across records is one frame', () => {
    const t = new CaptureTimeline();
    const entries = readCapture(sampleCapture().sink.bytes()).records.flatMap((r) => t.push(r));
    const frames = entries.filter((e) => e.kind === 'item' && e.item.kind === 'frame');
    expect(frames.map((e) => e.kind === 'item' && [e.direction, e.session, e.timeS])).toEqual([
      ['host-to-device', 1, 0.003],
      ['device-to-host', 1, 0.006], // when its last byte came
      ['host-to-device', 2, 0.012],
    ]);
    // The host frame, the 0x41 before the reply (noise), the reply.
    expect(entries.map((e) => e.kind)).toEqual(['capture', 'session-start', 'item', 'item', 'item', 'note', 'session-end', 'session-start', 'item', 'session-end', 'capture-end']);
  });

  it('a session that ends inside a frame: the frame is reported truncated, in that session', () => {
    const sink = memorySink();
    const w = new CaptureWriter(sink, { recorder: 'sfm test' }, { now: steppingClock() });
    const s = w.startSession({ host: 'a', device: 'b' });
    s.device(POLL_REPLY.subarray(0, 10));
    w.close();
    const t = new CaptureTimeline();
    const items = readCapture(sink.bytes()).records.flatMap((r) => t.push(r)).filter((e) => e.kind === 'item');
    expect(items).toMatchObject([
      { direction: 'device-to-host', session: 1, item: { kind: 'noise' } }, // the 41 before DLE STX
      { direction: 'device-to-host', session: 1, item: { kind: 'error', reason: 'truncated' } },
    ]);
  });
});
