import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CHANNEL_NAMES,
  WaveformBodyError,
  decodeWaveformBody,
  encodeWaveformBody,
  padWaveformBody,
  type ChannelName,
  type DecodedBody,
} from './waveform-body.js';
import { SEGMENT_COUNTER } from './conventions.js';

// ---- hand-building helpers ------------------------------------------------------------------

const i16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const preamble = (a0: number, a1: number): number[] => [0x00, 0x02, 0x00, ...i16(a0), ...i16(a1)];
/** `40 02` header: carried deltas c0, c1 for the old channel, anchors a0, a1 for the new one (body() numbers it). */
const header = (c0: number, c1: number, a0 = 0, a1 = 0, hint = 0): number[] => [
  0x40, 0x02, ...i16(c0), ...i16(c1), 0, 0, ...i16(hint), 0, 0, 0, 0, 0, 0, ...i16(a0), ...i16(a1),
];
const finalHeader = (c0: number, c1: number): number[] => header(c0, c1, 0x1234, -0x1234);
const isHeader = (p: number[]): boolean => p.length === 20 && p[0] === 0x40 && p[1] === 0x02;
/** The counter at [8:12] after the tag, little-endian. */
const withCounter = (h: number[], n: number): number[] => h.map((b, i) => (i >= 10 && i < 14 ? (n >>> (8 * (i - 10))) & 0xff : b));
/** The parts in order, each header numbered from `first` up (the unit numbers them so). */
const numberedBody = (first: number, ...parts: number[][]): Uint8Array => {
  let n = first;
  return Uint8Array.from(parts.flatMap((p) => (isHeader(p) ? withCounter(p, n++) : p)));
};
const body = (...parts: number[][]): Uint8Array => numberedBody(SEGMENT_COUNTER.first, ...parts);

const arr = (a: ArrayLike<number>): number[] => Array.from(a);
/** Running sums: the samples a list of deltas produces after `start`. */
const integrate = (start: number, deltas: number[]): number[] => {
  let v = start;
  return deltas.map((d) => (v += d));
};

function channels(fill: (name: ChannelName) => number[]): Record<ChannelName, number[]> {
  return Object.fromEntries(CHANNEL_NAMES.map((n) => [n, fill(n)])) as Record<ChannelName, number[]>;
}

function expectChannels(decoded: DecodedBody, expected: Partial<Record<ChannelName, number[]>>): void {
  for (const name of CHANNEL_NAMES) expect(arr(decoded.channels[name]), name).toEqual(expected[name] ?? []);
}

/** Decodes, and fails the test if anything but a WaveformBodyError escapes. */
function decodeOrBodyError(bytes: Uint8Array, samplesPerChannel?: number): DecodedBody | WaveformBodyError {
  try {
    return decodeWaveformBody(bytes, { samplesPerChannel });
  } catch (error) {
    if (error instanceof WaveformBodyError) return error;
    throw error;
  }
}

/** Walks an encoded body's structure (independently of the decoder) to check segment limits. */
function segmentsOf(bytes: Uint8Array): { tags: number[]; samples: number; blockBytes: number; hint: number }[] {
  const segments = [{ tags: [] as number[], samples: 2, blockBytes: 0, hint: -1 }];
  let p = 7;
  while (p < bytes.length) {
    const seg = segments[segments.length - 1];
    const tag = bytes[p];
    if (tag === 0x40) {
      seg.samples += 2;
      segments.push({ tags: [], samples: 2, blockBytes: 0, hint: (bytes[p + 8] << 8) | bytes[p + 9] });
      p += 20;
      continue;
    }
    const nn = ((tag & 0x0f) << 8) | bytes[p + 1];
    const length = 2 + [0, nn / 2, nn, nn * 1.5][tag >> 4];
    seg.tags.push(tag >> 4);
    seg.samples += nn;
    seg.blockBytes += length;
    p += length;
  }
  segments.pop(); // opened by the final header
  return segments;
}

// ---- decoding hand-built bodies -------------------------------------------------------------

describe('decodeWaveformBody: blocks', () => {
  it('reads the preamble anchors as the first two Tran samples', () => {
    const d = decodeWaveformBody(body(preamble(-300, 4660), finalHeader(0, 0)));
    expectChannels(d, { Tran: [-300, 4660, 4660, 4660] });
    expect(d.truncated).toBe(false);
  });

  it('decodes `10` nibble deltas high nibble first, 8–F negative', () => {
    const d = decodeWaveformBody(body(preamble(100, 101), [0x10, 0x08, 0x12, 0x7f, 0x8f, 0x00], finalHeader(3, -4)));
    expectChannels(d, { Tran: [100, 101, ...integrate(101, [1, 2, 7, -1, -8, -1, 0, 0, 3, -4])] });
  });

  it('decodes `20` int8 deltas, 0x80 = −128 and 0x7F = 127', () => {
    const d = decodeWaveformBody(body(preamble(0, 0), [0x20, 0x04, 0x80, 0x7f, 0x01, 0xff], finalHeader(0, 0)));
    expectChannels(d, { Tran: [0, 0, -128, -1, 0, -1, -1, -1] });
  });

  it('decodes `00 NN` as NN repeats of the current value', () => {
    const d = decodeWaveformBody(body(preamble(5, 7), [0x00, 0x08], finalHeader(1, 1)));
    expectChannels(d, { Tran: [5, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 9] });
  });

  it('decodes `30` 12-bit deltas: high nibbles first (MSB-first), then low bytes, sign-extended', () => {
    // Deltas 0x800, 0x7FF, 0x123, 0xFFF: high nibbles 8 7 1 F, low bytes 00 FF 23 FF.
    const d = decodeWaveformBody(body(preamble(0, 0), [0x30, 0x04, 0x87, 0x1f, 0x00, 0xff, 0x23, 0xff], finalHeader(0, 0)));
    expectChannels(d, { Tran: [0, 0, ...integrate(0, [-2048, 2047, 291, -1, 0, 0])] });
  });

  it('decodes two `30` groups in order', () => {
    const d = decodeWaveformBody(
      body(preamble(0, 0), [0x30, 0x08, 0x00, 0x00, 1, 2, 3, 4, 0xf0, 0x0f, 0xff, 5, 6, 0xff], finalHeader(0, 0)),
    );
    expectChannels(d, { Tran: [0, 0, ...integrate(0, [1, 2, 3, 4, -1, 5, 6, -1, 0, 0])] });
  });

  it('decodes a wide `11 90` block: 400 nibble deltas in 202 bytes', () => {
    const block = [0x11, 0x90, ...new Array<number>(200).fill(0x1f)]; // +1, −1 pairs
    block[2] = 0x77; // first two deltas +7 +7
    expect(block.length).toBe(202);
    const d = decodeWaveformBody(body(preamble(0, 10), block, finalHeader(2, 3)));
    const deltas = [7, 7, ...new Array<number>(398).fill(0).map((_, i) => (i % 2 ? -1 : 1))];
    expectChannels(d, { Tran: [0, 10, ...integrate(10, [...deltas, 2, 3])] });
    expect(d.truncated).toBe(false);
  });

  it('decodes a wide `21 00` block (256 int8 deltas) and accepts wide `0X` / `3X` tags', () => {
    const d = decodeWaveformBody(
      body(preamble(0, 0), [0x21, 0x00, ...new Array<number>(256).fill(0xfe)], [0x01, 0x04], [0x31, 0x00, ...new Array<number>(384).fill(0)], finalHeader(0, 0)),
    );
    const tran = arr(d.channels.Tran);
    expect(tran.length).toBe(2 + 256 + 260 + 256 + 2);
    expect(tran[2 + 255]).toBe(-512);
    expect(new Set(tran.slice(2 + 256))).toEqual(new Set([-512]));
  });

  it('accepts zero-length blocks', () => {
    const d = decodeWaveformBody(body(preamble(1, 2), [0x00, 0x00, 0x10, 0x00, 0x20, 0x00, 0x30, 0x00], finalHeader(0, 0)));
    expectChannels(d, { Tran: [1, 2, 2, 2] });
  });
});

describe('decodeWaveformBody: segments', () => {
  it('a `40 02` header ends Tran with two carried deltas and starts Vert at two absolute anchors', () => {
    const d = decodeWaveformBody(
      body(preamble(10, 11), [0x20, 0x04, 1, 1, 1, 1], header(5, -5, 200, 201), [0x10, 0x04, 0x11, 0x11], finalHeader(1, 1)),
    );
    expectChannels(d, {
      Tran: [10, 11, 12, 13, 14, 15, 20, 15],
      Vert: [200, 201, 202, 203, 204, 205, 206, 207],
    });
    expect(d.truncated).toBe(false);
  });

  it('rotates Tran → Vert → Long → MicL → Tran with segments of unequal lengths', () => {
    const d = decodeWaveformBody(
      body(
        preamble(1, 2),
        [0x00, 0x0c], // Tran: 12 repeats
        header(1, 1, 100, 100),
        header(-1, -1, 200, 201), // Vert: anchors + carried only (4 samples)
        [0x20, 0x04, 1, 2, 3, 4, 0x10, 0x04, 0xff, 0xff],
        header(0, 0, -300, -301), // Long: 10 samples
        [0x30, 0x04, 0, 0, 9, 9, 9, 9],
        header(7, 7, 3, 3), // MicL: 8 samples
        [0x10, 0x08, 0x11, 0x11, 0x11, 0x11],
        header(2, 2, 9, 9), // Tran again, then Vert again
        finalHeader(-9, -9),
      ),
    );
    expectChannels(d, {
      Tran: [1, 2, ...new Array<number>(12).fill(2), 3, 4, 3, 3, ...integrate(3, [1, 1, 1, 1, 1, 1, 1, 1, 2, 2])],
      Vert: [100, 100, 99, 98, 9, 9, 0, -9],
      Long: [200, 201, 202, 204, 207, 211, 210, 209, 208, 207, 207, 207],
      MicL: [-300, -301, -292, -283, -274, -265, -258, -251],
    });
    expect(d.truncated).toBe(false);
  });

  it('ignores the unknown header bytes and the block-length hint', () => {
    const plain = body(preamble(1, 1), [0x10, 0x04, 0x12, 0x34], header(1, 2, 50, 60), [0x00, 0x04], finalHeader(3, 4));
    const noisy = plain.slice();
    for (const h of [11, 33]) for (const i of [6, 7, 8, 9, 14, 15]) noisy[h + i] = 0xa5;
    expect(decodeWaveformBody(noisy)).toEqual(decodeWaveformBody(plain));
  });

  it('segment counters (u32 LE at [8:12] after the tag) rise by one from any start; a jump is a lost or repeated segment', () => {
    const parts = [preamble(1, 1), [0x00, 0x04], header(0, 0, 5, 5), [0x00, 0x04], header(0, 0, 6, 6), finalHeader(0, 0)];
    expect(decodeWaveformBody(body(...parts)).firstSegmentCounter).toBe(SEGMENT_COUNTER.first);
    const from = decodeWaveformBody(numberedBody(0xfffffffe, ...parts)); // and across the u32 wrap
    expect(from.firstSegmentCounter).toBe(0xfffffffe);
    expect(from.channels).toEqual(decodeWaveformBody(body(...parts)).channels);
    const jump = body(...parts);
    jump[7 + 2 + 20 + 2 + 10] = 9; // the second header says 9
    expect(() => decodeWaveformBody(jump)).toThrow(/segment counter 9 follows 1: a segment is missing or repeated/);
    expect(decodeWaveformBody(body(preamble(1, 1))).firstSegmentCounter).toBeNull();
  });

  it('stops at a final header: its anchors start no segment', () => {
    const d = decodeWaveformBody(body(preamble(0, 0), header(1, 1, 7, 7), finalHeader(2, 2)));
    expectChannels(d, { Tran: [0, 0, 1, 2], Vert: [7, 7, 9, 11] });
    expect(d.truncated).toBe(false);
  });

  it('without a final header decodes what is there and flags the body as truncated', () => {
    const d = decodeWaveformBody(body(preamble(0, 0), [0x20, 0x04, 1, 1, 1, 1], header(1, 1, 7, 7), [0x00, 0x04]));
    expectChannels(d, { Tran: [0, 0, 1, 2, 3, 4, 5, 6], Vert: [7, 7, 7, 7, 7, 7] });
    expect(d.truncated).toBe(true);
  });

  it('samplesPerChannel cuts padding and flags channels that come up short', () => {
    const b = body(preamble(0, 1), [0x10, 0x04, 0x11, 0x11], header(1, 1, 5, 5), finalHeader(0, 0));
    const cut = decodeWaveformBody(b, { samplesPerChannel: 3 });
    expectChannels(cut, { Tran: [0, 1, 2], Vert: [5, 5, 5] });
    expect(cut.truncated).toBe(true); // Long and MicL have nothing
    const zero = decodeWaveformBody(b, { samplesPerChannel: 0 });
    expectChannels(zero, {});
    expect(zero.truncated).toBe(false);
    expect(() => decodeWaveformBody(b, { samplesPerChannel: -1 })).toThrow(RangeError);
  });

  it('wraps sample arithmetic at int16, like the unit', () => {
    const d = decodeWaveformBody(body(preamble(32767, 32767), [0x10, 0x04, 0x10, 0xf0], finalHeader(-32768, 1)));
    expectChannels(d, { Tran: [32767, 32767, -32768, -32768, 32767, 32767, -1, 0] });
  });
});

describe('decodeWaveformBody: bad and truncated input', () => {
  const expectBodyError = (bytes: Uint8Array, offset: number, message: RegExp): void => {
    let caught: unknown;
    try {
      decodeWaveformBody(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WaveformBodyError);
    expect((caught as WaveformBodyError).offset).toBe(offset);
    expect((caught as WaveformBodyError).message).toMatch(message);
  };

  it('rejects a bad magic', () => {
    expectBodyError(body([0x01, 0x02, 0x00, 0, 0, 0, 0], finalHeader(0, 0)), 0, /bad magic/);
    expectBodyError(body([0x00, 0x02, 0x01, 0, 0, 0, 0]), 2, /bad magic/);
    expectBodyError(body([0x00, 0x03]), 1, /bad magic/);
  });

  it('rejects unknown tags', () => {
    expectBodyError(body(preamble(0, 0), [0x00, 0x04], [0x50, 0x04, 0, 0], finalHeader(0, 0)), 9, /unknown block tag 50 04/);
    expectBodyError(body(preamble(0, 0), [0x40, 0x03], new Array<number>(18).fill(0)), 7, /unknown block tag 40 03/);
    expectBodyError(body(preamble(0, 0), [0xff, 0xff]), 7, /unknown block tag ff ff/);
  });

  it('rejects nibble and 12-bit blocks whose count is not a multiple of 4', () => {
    expectBodyError(body(preamble(0, 0), [0x10, 0x06, 0, 0, 0], finalHeader(0, 0)), 7, /not a multiple of 4/);
    expectBodyError(body(preamble(0, 0), [0x30, 0x02, 0, 0, 0], finalHeader(0, 0)), 7, /not a multiple of 4/);
  });

  it('a block cut by the end of input keeps its whole deltas and sets truncated', () => {
    const int8 = decodeWaveformBody(body(preamble(0, 0), [0x20, 0x08, 1, 2, 3]));
    expectChannels(int8, { Tran: [0, 0, 1, 3, 6] });
    expect(int8.truncated).toBe(true);

    const nibble = decodeWaveformBody(body(preamble(0, 0), [0x11, 0x90, 0x11, 0x11, 0x11]));
    expectChannels(nibble, { Tran: [0, 0, 1, 2, 3, 4, 5, 6] });
    expect(nibble.truncated).toBe(true);

    // 12-bit: one whole group, then the next group's high nibbles and two of its low bytes.
    const int12 = decodeWaveformBody(body(preamble(0, 0), [0x30, 0x08, 0, 0, 1, 1, 1, 1, 0x10, 0x00, 0x00, 2]));
    expectChannels(int12, { Tran: [0, 0, 1, 2, 3, 4, 260, 262] });
    expect(int12.truncated).toBe(true);
  });

  it('a header cut by the end of input keeps the carried deltas it still holds', () => {
    const full = body(preamble(0, 0), header(5, 6, 1, 1), finalHeader(0, 0));
    expectChannels(decodeWaveformBody(full.subarray(0, 7 + 4)), { Tran: [0, 0, 5] });
    expectChannels(decodeWaveformBody(full.subarray(0, 7 + 6)), { Tran: [0, 0, 5, 11] });
    const cut = decodeWaveformBody(full.subarray(0, 7 + 19));
    expectChannels(cut, { Tran: [0, 0, 5, 11] });
    expect(cut.truncated).toBe(true);
    expect(decodeWaveformBody(full.subarray(0, 8)).truncated).toBe(true); // a lone tag byte
  });

  it('a cut right after a header looks like a final header; samplesPerChannel catches the loss', () => {
    const full = body(preamble(0, 0), header(1, 1, 7, 7), [0x00, 0x04], finalHeader(0, 0));
    const cut = full.subarray(0, 7 + 20);
    expect(decodeWaveformBody(cut).truncated).toBe(false);
    expect(decodeWaveformBody(cut, { samplesPerChannel: 4 }).truncated).toBe(true);
  });

  it('an empty or partial preamble is a truncated, empty body', () => {
    for (const n of [0, 1, 2, 3, 4, 6]) {
      const d = decodeWaveformBody(body(preamble(9, 9)).subarray(0, n));
      expect(d.truncated).toBe(true);
      expect(arr(d.channels.Tran)).toEqual(n >= 5 ? [9] : []);
    }
  });

  it('refuses bodies that claim absurd sample counts instead of exhausting memory', () => {
    const runs = Array.from({ length: 5000 }, () => [0x0f, 0xfc]).flat(); // 4092 zero deltas per 2 bytes
    const result = decodeOrBodyError(body(preamble(0, 0), runs));
    expect(result).toBeInstanceOf(WaveformBodyError);
  });
});

// ---- encoding -------------------------------------------------------------------------------

describe('encodeWaveformBody', () => {
  it('encodes no samples as a preamble plus a final header', () => {
    const encoded = encodeWaveformBody(channels(() => []));
    expect(encoded.length).toBe(7 + 20);
    const d = decodeWaveformBody(encoded, { samplesPerChannel: 0 });
    expectChannels(d, {});
    expect(d.truncated).toBe(false);
  });

  it('writes the expected bytes for a tiny body', () => {
    const encoded = encodeWaveformBody({
      Tran: [1, 2, 2, 2, 2, 2, 3],
      Vert: [-1, -1, -1, -1, -1, -1, -1],
      Long: [0, 0, 0, 0, 0, 0, 0],
      MicL: [5, 6, 7, 8, 9, 9, 9],
    });
    // Each channel is one 8-sample segment, padded with its last value.
    const expected = body(
      preamble(1, 2),
      [0x00, 0x04],
      header(1, 0, -1, -1, 2), // hint: the next segment's blocks are 2 bytes
      [0x00, 0x04],
      header(0, 0, 0, 0, 2),
      [0x00, 0x04],
      header(0, 0, 5, 6, 4),
      [0x10, 0x04, 0x11, 0x10],
      header(0, 0, 0, 0, 0), // final
    );
    expect(arr(encoded)).toEqual(arr(expected));
  });

  it('padWaveformBody grows a body by empty blocks before its final header: the same samples, the same counters', () => {
    const tran = Array.from({ length: 40 }, (_, i) => (i * 37) % 300);
    const encoded = encodeWaveformBody(channels(() => tran));
    const padded = padWaveformBody(encoded, encoded.length + 10);
    expect(padded.length).toBe(encoded.length + 10);
    expect(decodeWaveformBody(padded, { samplesPerChannel: 40 })).toEqual(decodeWaveformBody(encoded, { samplesPerChannel: 40 }));
    expect(padWaveformBody(encoded, encoded.length)).toEqual(encoded);
    expect(() => padWaveformBody(encoded, encoded.length + 1)).toThrow(RangeError);
    expect(() => padWaveformBody(encoded, encoded.length - 2)).toThrow(RangeError);
    expect(() => padWaveformBody(encoded.subarray(0, encoded.length - 1), encoded.length + 1)).toThrow(/final segment header/);
  });

  it('chooses 00 / 10 / 20 / 30 blocks by delta size', () => {
    const deltas = [
      ...[0, 0, 0, 0, 0, 0, 0, 0],
      ...[3, -8, 7, 1, 1, 1, 1, 1],
      ...[100, -128, 127, 5, -5, 20, -20, 1],
      ...[1000, -2048, 2047, 9, -9, 300, -300, 0],
    ];
    const tran = [0, 0, ...integrate(0, deltas), 0, 0];
    const encoded = encodeWaveformBody(channels(() => tran));
    const segments = segmentsOf(encoded);
    expect(segments[0].tags).toEqual([0, 1, 2, 3]);
    expect(encoded.subarray(7, 9)).toEqual(Uint8Array.from([0x00, 0x08]));
    expect(arr(decodeWaveformBody(encoded, { samplesPerChannel: tran.length }).channels.Tran)).toEqual(tran);
  });

  it('uses wide NN for long nibble runs', () => {
    const tran = Array.from({ length: 1000 }, (_, i) => (i % 3) - 1);
    const encoded = encodeWaveformBody(channels(() => tran), { maxSegmentSamples: 2000, maxSegmentBytes: 2000 });
    expect(encoded[7] & 0xf0).toBe(0x10);
    expect(((encoded[7] & 0x0f) << 8) | encoded[8]).toBe(996); // 1000 − 2 anchors − 2 carried
    expect(arr(decodeWaveformBody(encoded, { samplesPerChannel: 1000 }).channels.Tran)).toEqual(tran);
  });

  it('puts jumps that no block can carry on segment boundaries, at any position', () => {
    for (let at = 1; at < 14; at++) {
      const tran = Array.from({ length: 16 }, (_, i) => (i < at ? -32768 : 32767));
      const mic = Array.from({ length: 16 }, (_, i) => (i === at ? 30000 : -30000 + i));
      const input = { Tran: tran, Vert: tran.map((v) => -v - 1), Long: new Array<number>(16).fill(0), MicL: mic };
      const d = decodeWaveformBody(encodeWaveformBody(input), { samplesPerChannel: 16 });
      expectChannels(d, input);
    }
  });

  it('respects maxSegmentSamples and maxSegmentBytes, and writes the block-length hint', () => {
    const wild = Array.from({ length: 777 }, (_, i) => Math.round(1500 * Math.sin(i * 1.7)));
    const quiet = Array.from({ length: 777 }, (_, i) => (i >> 5) % 2);
    const input = { Tran: wild, Vert: quiet, Long: wild.map((v) => v >> 4), MicL: quiet.map((v) => 1 - v) };
    for (const [maxSegmentSamples, maxSegmentBytes] of [[8, 2000], [600, 16], [100, 50], [512, 1024]]) {
      const encoded = encodeWaveformBody(input, { maxSegmentSamples, maxSegmentBytes });
      const segments = segmentsOf(encoded);
      for (const [g, seg] of segments.entries()) {
        expect(seg.samples).toBeLessThanOrEqual(maxSegmentSamples);
        expect(seg.samples % 4).toBe(0);
        expect(seg.blockBytes).toBeLessThanOrEqual(maxSegmentBytes);
        if (g > 0) expect(seg.hint).toBe(seg.blockBytes);
      }
      expectChannels(decodeWaveformBody(encoded, { samplesPerChannel: 777 }), input);
    }
  });

  it('pads channels that need fewer segments so the rotation stays strict', () => {
    // Tran jumps every few samples (many short segments); the others are flat (one segment each).
    const tran = Array.from({ length: 64 }, (_, i) => (i % 8 < 4 ? 20000 : -20000));
    const flat = new Array<number>(64).fill(3);
    const input = { Tran: tran, Vert: flat, Long: flat, MicL: flat };
    const encoded = encodeWaveformBody(input);
    const plain = decodeWaveformBody(encoded);
    expect(plain.truncated).toBe(false);
    const counts = CHANNEL_NAMES.map((n) => plain.channels[n].length);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(64);
    expect(new Set(arr(plain.channels.Vert))).toEqual(new Set([3]));
    expectChannels(decodeWaveformBody(encoded, { samplesPerChannel: 64 }), input);
  });

  it('validates its input', () => {
    const ok = channels(() => [0, 1, 2]);
    expect(() => encodeWaveformBody({ ...ok, Vert: [0, 1.5, 2] })).toThrow(RangeError);
    expect(() => encodeWaveformBody({ ...ok, Long: [0, 32768, 2] })).toThrow(RangeError);
    expect(() => encodeWaveformBody({ ...ok, MicL: [0, -32769, 2] })).toThrow(RangeError);
    expect(() => encodeWaveformBody({ ...ok, MicL: [0, Number.NaN, 2] })).toThrow(RangeError);
    expect(() => encodeWaveformBody({ ...ok, Tran: [0, 1] })).toThrow(RangeError);
    expect(() => encodeWaveformBody(ok, { maxSegmentSamples: 3 })).toThrow(RangeError);
    expect(() => encodeWaveformBody(ok, { maxSegmentBytes: -1 })).toThrow(RangeError);
    expect(() => encodeWaveformBody({ ...ok, Tran: Int16Array.from([0, 1, 2]) })).not.toThrow();
  });

  it('compresses a 10 s × 1024 Sa/s blast-like record well below 2 bytes/sample', () => {
    const n = 10 * 1024;
    const rand = mulberry32(42);
    const blast = (amplitude: number, freqs: number[], tau: number): number[] =>
      Array.from({ length: n }, (_, i) => {
        const t = i / 1024 - 0.25; // 0.25 s pre-trigger
        let v = Math.round((rand() - 0.5) * 2.2); // ±1 unit of noise
        if (t >= 0) for (const [k, f] of freqs.entries()) v += (amplitude / (k + 1)) * Math.exp(-t / tau) * Math.sin(2 * Math.PI * f * t + k);
        return clamp16(v);
      });
    const input = {
      Tran: blast(250, [12, 27, 45, 80], 0.6), // ≈ 1.2 in/s peak (normal range)
      Vert: blast(180, [8, 19, 33, 61], 0.8),
      Long: blast(220, [5, 15, 40, 72], 0.5),
      MicL: blast(900, [5, 9, 14, 22], 1.2),
    };
    const encoded = encodeWaveformBody(input);
    const bytesPerSample = encoded.length / (4 * n);
    expect(bytesPerSample).toBeLessThan(1); // ≈ 0.6 with the default segment limits
    expectChannels(decodeWaveformBody(encoded, { samplesPerChannel: n }), input);
  });
});

// ---- properties -----------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type PieceKind = 'sine' | 'walk' | 'jumps' | 'constant' | 'extremes' | 'noise';
interface Piece {
  kind: PieceKind;
  seed: number;
  scale: number;
  level: number;
}

const pieceArb: fc.Arbitrary<Piece> = fc.record({
  kind: fc.constantFrom<PieceKind>('sine', 'walk', 'jumps', 'constant', 'extremes', 'noise'),
  seed: fc.integer(),
  scale: fc.integer({ min: 0, max: 12 }), // amplitude / step size as a power of two
  level: fc.integer({ min: -32768, max: 32767 }),
});

const clamp16 = (v: number): number => Math.max(-32768, Math.min(32767, Math.round(v))) + 0; // + 0: no -0

/** A channel of `n` samples made of consecutive pieces of different character. */
function synthesize(pieces: Piece[], n: number): number[] {
  const out: number[] = [];
  pieces.forEach((piece, k) => {
    const rand = mulberry32(piece.seed);
    const amp = 2 ** piece.scale;
    const end = Math.round(((k + 1) * n) / pieces.length);
    const freq = 0.005 + rand() * 0.3;
    const tau = 50 + rand() * 2000;
    let v = piece.kind === 'sine' ? 0 : piece.level;
    for (let i = 0; out.length < end; i++) {
      switch (piece.kind) {
        case 'sine':
          v = clamp16(amp * 8 * Math.exp(-i / tau) * Math.sin(2 * Math.PI * freq * i));
          break;
        case 'walk':
          v = clamp16(v + Math.round((rand() - 0.5) * 2 * amp));
          break;
        case 'jumps':
          v = rand() < 0.1 ? clamp16((rand() - 0.5) * 65536) : clamp16(v + (rand() - 0.5) * 8);
          break;
        case 'constant':
          v = piece.seed % 2 ? 0 : piece.level;
          break;
        case 'extremes':
          v = [-32768, 32767, 0, -1, 32767, -32768][Math.floor(rand() * 6)];
          break;
        case 'noise':
          v = clamp16(piece.level + (rand() - 0.5) * 2 * amp);
          break;
      }
      out.push(v);
    }
  });
  return out;
}

const channelsArb = fc
  .integer({ min: 0, max: 3000 })
  .chain((n) =>
    fc
      .tuple(...CHANNEL_NAMES.map(() => fc.array(pieceArb, { minLength: 1, maxLength: 4 })))
      .map((specs) => Object.fromEntries(CHANNEL_NAMES.map((name, c) => [name, synthesize(specs[c], n)])) as Record<ChannelName, number[]>),
  );

const limitsArb = fc.record({
  maxSegmentSamples: fc.integer({ min: 8, max: 600 }),
  maxSegmentBytes: fc.integer({ min: 16, max: 2000 }),
});

describe('properties', () => {
  it('decode(encode(x)) === x for all four channels', () => {
    fc.assert(
      fc.property(channelsArb, limitsArb, (input, limits) => {
        const n = input.Tran.length;
        const decoded = decodeWaveformBody(encodeWaveformBody(input, limits), { samplesPerChannel: n });
        expect(decoded.truncated).toBe(false);
        for (const name of CHANNEL_NAMES) expect(arr(decoded.channels[name])).toEqual(input[name]);
      }),
      { numRuns: 150 },
    );
  });

  it('a truncated valid body decodes to a prefix of each channel, and says so unless nothing was lost', () => {
    fc.assert(
      fc.property(channelsArb, limitsArb, fc.double({ min: 0, max: 1, noNaN: true }), (input, limits, where) => {
        const encoded = encodeWaveformBody(input, limits);
        const cut = encoded.subarray(0, Math.floor(where * (encoded.length - 1)));
        const n = input.Tran.length;
        const decoded = decodeWaveformBody(cut, { samplesPerChannel: n });
        for (const name of CHANNEL_NAMES) {
          const got = arr(decoded.channels[name]);
          expect(got).toEqual(input[name].slice(0, got.length));
          // A cut right after a header looks like a complete body: fine if it only lost padding.
          if (!decoded.truncated) expect(got.length).toBe(n);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('random bytes only ever raise WaveformBodyError', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc.uint8Array({ maxLength: 600 }).map((tail) => Uint8Array.from([0x00, 0x02, 0x00, ...tail])),
      // Mostly valid-looking tags so the walk gets deep.
      fc
        .array(fc.tuple(fc.constantFrom(0x00, 0x10, 0x20, 0x30, 0x11, 0x40, 0x0f), fc.uint8Array({ minLength: 1, maxLength: 30 })), { maxLength: 40 })
        .map((blocks) => Uint8Array.from([0x00, 0x02, 0x00, 1, 2, 3, 4, ...blocks.flatMap(([tag, rest]) => [tag, ...rest])])),
    );
    fc.assert(
      fc.property(bytesArb, fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }), (bytes, limit) => {
        const result = decodeOrBodyError(bytes, limit);
        if (!(result instanceof WaveformBodyError)) {
          for (const name of CHANNEL_NAMES) expect(result.channels[name]).toBeInstanceOf(Int32Array);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('corrupted valid bodies only ever raise WaveformBodyError', () => {
    fc.assert(
      fc.property(channelsArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (input, edits) => {
        const encoded = encodeWaveformBody(input, { maxSegmentSamples: 64, maxSegmentBytes: 64 });
        for (const [at, value] of edits) encoded[at % encoded.length] = value;
        decodeOrBodyError(encoded, input.Tran.length);
      }),
      { numRuns: 200 },
    );
  });
});
