import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameParser, parseCapture, type ParsedItem, type ParserDirection } from './frame-parser.js';
import { buildBulkFrame, buildDeviceFrame, buildReadFrame, buildWriteFrame, type DeviceFrame, type HostFrame } from './frames.js';
import { dleAwareWordSum, sum8, writeFrameChecksum } from './checksum.js';
import { SUB, SUB_TABLE } from './sub-codes.js';
import { parseHex, toHex } from './bytes.js';

/** Every byte value, with the protocol's special bytes (02 03 04 10 41) drawn often. */
const byteValue = fc.oneof(fc.constantFrom(0x02, 0x03, 0x04, 0x10, 0x41, 0x00, 0xff), fc.integer({ min: 0, max: 255 }));
const bytes = (min: number, max: number) => fc.array(byteValue, { minLength: min, maxLength: max }).map((a) => Uint8Array.from(a));
/** Line noise as units produce it: modem text, the banner, stray 0x41 — never a DLE. */
const lineNoise = fc.oneof(
  fc.constant(parseHex('0D 0A 52 49 4E 47 0D 0A 0D 0A 43 4F 4E 4E 45 43 54 0D 0A')),
  fc.constant(new TextEncoder().encode('Operating System')),
  fc.constant(Uint8Array.of(0x41)),
  fc.array(fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x10 && b !== 0x41), { maxLength: 20 }).map((a) => Uint8Array.from(a)),
);

const readSubs = SUB_TABLE.filter((r) => r.style === 'read').map((r) => r.request);
const writeSubs = SUB_TABLE.filter((r) => r.style === 'write').map((r) => r.request);

interface DeviceSpec { sub: number; page: number; data: Uint8Array; lead: boolean }
const deviceFrameSpec: fc.Arbitrary<DeviceSpec> = fc.record({
  sub: fc.integer({ min: 0, max: 255 }),
  page: fc.integer({ min: 0, max: 0xffff }),
  data: bytes(0, 300),
  lead: fc.boolean(),
});

function frames(items: ParsedItem[]) {
  return items.filter((x): x is Extract<ParsedItem, { kind: 'frame' }> => x.kind === 'frame').map((x) => x.frame);
}

function feedChunked(input: Uint8Array, cuts: number[], direction: ParserDirection): ParsedItem[] {
  const p = new FrameParser(direction);
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const out: ParsedItem[] = [];
  let prev = 0;
  for (const c of [...points, input.length]) {
    out.push(...p.push(input.subarray(prev, c)));
    prev = c;
  }
  out.push(...p.end());
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Recomputes a frame's checksum from its fields, independently of the parser. */
function recomputedChecksumOk(f: HostFrame | DeviceFrame): boolean {
  if (f.direction === 'device-to-host') {
    const payload = [f.cmd, f.flags, f.sub, f.page >> 8, f.page & 0xff, ...f.data];
    return sum8(payload) === f.checksum;
  }
  const head = [f.cmd, f.flags, f.sub, 0, f.offset >> 8, f.offset & 0xff];
  if (f.style === 'write') return writeFrameChecksum([...head, ...f.params, ...f.data]) === f.checksum;
  if (f.style === 'bulk') return ((f.cmd + f.flags + f.sub + dleAwareWordSum(f.offset >> 8, f.offset & 0xff) + sum8(f.params)) & 0xff) === f.checksum;
  return sum8([...head, ...f.params]) === f.checksum;
}

describe('device frames: build → parse is the identity', () => {
  it('for any content, including every byte value', () => {
    expect(() => buildWriteFrame(0x7e, Uint8Array.of(1))).toThrow(RangeError);
    fc.assert(
      fc.property(deviceFrameSpec, ({ sub, page, data, lead }) => {
        const items = parseCapture(buildDeviceFrame(sub, data, { page, leadingAck: lead }), 'device-to-host');
        const fs = frames(items);
        expect(fs).toHaveLength(1);
        const f = fs[0] as DeviceFrame;
        expect([f.cmd, f.flags, f.sub, f.page, f.checksumOk]).toEqual([0x00, 0x10, sub, page, true]);
        expect(toHex(f.data)).toBe(toHex(data));
      }),
    );
  });

  it('a stream of frames and line noise yields the same frames however it is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(lineNoise, deviceFrameSpec), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (parts, cuts) => {
          const wire = concat(parts.flatMap(([n, s]) => [n, buildDeviceFrame(s.sub, s.data, { page: s.page, leadingAck: s.lead })]));
          const whole = parseCapture(wire, 'device-to-host');
          const fs = frames(whole) as DeviceFrame[];
          expect(fs.map((f) => toHex(f.data))).toEqual(parts.map(([, s]) => toHex(s.data)));
          expect(feedChunked(wire, cuts, 'device-to-host')).toEqual(whole);
        },
      ),
    );
  });

  it('one byte at a time gives the same items as one chunk', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(lineNoise, deviceFrameSpec), { minLength: 1, maxLength: 3 }), (parts) => {
        const wire = concat(parts.flatMap(([n, s]) => [n, buildDeviceFrame(s.sub, s.data, { page: s.page })]));
        expect(feedChunked(wire, Array.from({ length: wire.length }, (_, i) => i), 'device-to-host')).toEqual(parseCapture(wire, 'device-to-host'));
      }),
    );
  });
});

describe('host frames: build → parse is the identity', () => {
  it('read frames for every read SUB, offset and params', () => {
    fc.assert(
      fc.property(fc.constantFrom(...readSubs), fc.integer({ min: 0, max: 0xffff }), bytes(10, 10), (sub, offset, p) => {
        const f = frames(parseCapture(buildReadFrame(sub, offset, p), 'host-to-device'))[0] as HostFrame;
        expect([f.style, f.sub, f.offset, toHex(f.params), f.checksumOk]).toEqual(['read', sub, offset, toHex(p), true]);
      }),
    );
  });

  it('write frames carry any data raw (0x03 and 0x10 included)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...writeSubs), bytes(10, 10), bytes(0, 400).filter((d) => d.length !== 1), (sub, p, data) => {
        const f = frames(parseCapture(buildWriteFrame(sub, data, p), 'host-to-device'))[0] as HostFrame;
        expect([f.style, f.sub, toHex(f.params), toHex(f.data), f.checksumOk]).toEqual(['write', sub, toHex(p), toHex(data), true]);
      }),
    );
  });

  it('5A frames: probe/chunks (11 params), pages (12), TERM (10), keys and counters with 0x10 and 0x03 bytes', () => {
    const keyPart = fc.array(byteValue, { minLength: 4, maxLength: 4 });
    const spec = fc.oneof(
      keyPart.map((k) => ({ offset: 0x1004, p: [0, ...k, 0, 0, 0, 0, 0, 0] })),
      keyPart.chain((k) => fc.constantFrom(0x1002, 0x1004).map((c) => ({ offset: 0x1004, p: [0, k[0]!, k[1]!, c >> 8, c & 0xff, 0, 0, 0, 0, 0, 0, 0] }))),
      keyPart.map((k) => ({ offset: 0x005a, p: [0, ...k, 0, 0, 0, 0, 0] })),
    );
    fc.assert(
      fc.property(spec, ({ offset, p }) => {
        const wire = buildBulkFrame(offset, Uint8Array.from(p));
        const items = parseCapture(wire, 'host-to-device');
        expect(items.map((x) => x.kind)).toEqual(['frame']);
        const f = frames(items)[0] as HostFrame;
        expect([f.style, f.sub, f.offset, toHex(f.params), f.checksumOk]).toEqual(['bulk', SUB.BULK_WAVEFORM, offset, toHex(Uint8Array.from(p)), true]);
      }),
    );
  });

  it('session resets between frames are reported in order, however chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(...readSubs)), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), (seq, cuts) => {
        const wire = concat(seq.flatMap(([resets, sub]) => [...Array.from({ length: resets }, () => Uint8Array.of(0x41, 0x03)), buildReadFrame(sub, 0)]));
        const whole = parseCapture(wire, 'host-to-device');
        expect(whole.map((x) => x.kind)).toEqual(seq.flatMap(([resets]) => [...Array.from({ length: resets }, () => 'session-reset'), 'frame']));
        expect(feedChunked(wire, cuts, 'host-to-device')).toEqual(whole);
      }),
    );
  });
});

describe('garbage and truncation', () => {
  for (const direction of ['device-to-host', 'host-to-device', 'auto'] as const) {
    it(`random bytes never throw and never yield a frame whose checksum is wrong but reported valid (${direction})`, () => {
      fc.assert(
        fc.property(bytes(0, 600), fc.array(fc.nat(), { maxLength: 20 }), (garbage, cuts) => {
          const items = feedChunked(garbage, cuts, direction);
          for (const f of frames(items)) expect(f.checksumOk).toBe(recomputedChecksumOk(f));
          expect(items).toEqual(parseCapture(garbage, direction));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('every byte of the input is accounted for: frames, noise or dropped in an error', () => {
    fc.assert(
      fc.property(bytes(0, 400), (garbage) => {
        const items = parseCapture(garbage, 'device-to-host');
        // Dropped bytes + noise bytes never exceed the input; an error never claims more than it saw.
        let claimed = 0;
        for (const x of items) {
          if (x.kind === 'noise') claimed += x.bytes.length;
          if (x.kind === 'error') claimed += x.byteCount;
        }
        expect(claimed).toBeLessThanOrEqual(garbage.length);
      }),
    );
  });

  it('a frame cut short anywhere is never reported as a good frame', () => {
    fc.assert(
      fc.property(deviceFrameSpec, fc.nat(), ({ sub, data, page }, cut) => {
        const wire = buildDeviceFrame(sub, data, { page });
        const n = cut % wire.length; // strictly shorter than the frame
        const items = parseCapture(wire.subarray(0, n), 'device-to-host');
        expect(frames(items).filter((f) => f.checksumOk)).toEqual([]);
      }),
    );
  });

  it('after garbage that contains a start marker, the next real frame is still found (resync)', () => {
    fc.assert(
      fc.property(bytes(0, 80), deviceFrameSpec, (garbage, s) => {
        const good = buildDeviceFrame(s.sub, s.data, { page: s.page });
        // A truncated frame (its start marker, no end) in front of a good one.
        const wire = concat([Uint8Array.of(0x10, 0x02), garbage.filter((b) => b !== 0x03 && b !== 0x10), good]);
        const fs = frames(parseCapture(wire, 'device-to-host')) as DeviceFrame[];
        expect(fs.some((f) => f.checksumOk && toHex(f.data) === toHex(s.data) && f.sub === s.sub)).toBe(true);
      }),
    );
  });

  it('an over-long frame is reported and dropped, and memory stays bounded', () => {
    const p = new FrameParser('device-to-host', { maxFrameBytes: 256 });
    const items = [...p.push(Uint8Array.of(0x10, 0x02)), ...p.push(new Uint8Array(1000).fill(0x55)), ...p.push(buildDeviceFrame(0xea, Uint8Array.of(1, 2, 3))), ...p.end()];
    expect(items.filter((x) => x.kind === 'error').map((x) => (x as { reason: string }).reason)).toEqual(['oversize']);
    expect(frames(items)).toHaveLength(1);
  });

  it('a corrupted byte gives a frame with checksum_ok false or an error, never a valid frame', () => {
    fc.assert(
      fc.property(deviceFrameSpec, fc.nat(), fc.integer({ min: 1, max: 255 }), ({ sub, data, page }, at, flip) => {
        const wire = buildDeviceFrame(sub, data, { page });
        const i = 2 + (at % (wire.length - 3)); // inside the body, not the markers
        const bad = wire.slice();
        bad[i] = bad[i]! ^ flip;
        for (const f of frames(parseCapture(bad, 'device-to-host'))) {
          if (f.checksumOk) expect(recomputedChecksumOk(f)).toBe(true);
        }
      }),
    );
  });

  // Regression (found by `pnpm fuzz`): payload[3] of a host frame is always 00 (protocol.md §3.1)
  // and HostFrame has no field for it. A non-zero byte there used to be accepted and dropped, so a
  // frame reported checksumOk did not recompute from its fields (and a frame damaged only there
  // was reported with a bad checksum although its fields were right).
  it('a host frame whose byte 3 is not 00 is a bad header, in every style, whatever its checksum', () => {
    const P = [0, 0, 0, 0, 0, 0, 0, 0xfe, 0, 0];
    const stuffed = (bytes: number[]): number[] => bytes.flatMap((b) => (b === 0x10 ? [0x10, 0x10] : [b]));
    /** A host frame with `byte3` at payload[3], its checksum right (or off by one). */
    const wire = (style: 'read' | 'write' | 'bulk', sub: number, byte3: number, right: boolean): Uint8Array => {
      const off = right ? 0 : 1;
      if (style === 'read') {
        const payload = [0x10, 0x00, sub, byte3, 0x00, 0x0a, ...P];
        return Uint8Array.of(0x41, 0x02, ...stuffed([...payload, (sum8(payload) + off) & 0xff]), 0x03);
      }
      if (style === 'write') {
        const payload = [0x10, 0x00, sub, byte3, 0x00, 0x02, ...P, 0x20, 0x21, 0x22];
        return Uint8Array.of(0x41, 0x02, 0x10, ...payload, (writeFrameChecksum(payload) + off) & 0xff, 0x03);
      }
      const p = [0x00, 0x01, 0x11, 0x24, 0x5a, 0, 0, 0, 0, 0, 0];
      const chk = (0x10 + 0x5a + byte3 + dleAwareWordSum(0x10, 0x04) + sum8(p) + off) & 0xff;
      return Uint8Array.of(0x41, 0x02, 0x10, 0x10, 0x00, 0x5a, byte3, 0x10, 0x04, ...stuffed([...p, chk]), 0x03);
    };
    const styled = fc.oneof(
      fc.constantFrom(...readSubs).map((sub) => ['read', sub] as const),
      fc.constantFrom(...writeSubs).map((sub) => ['write', sub] as const),
      fc.constant(['bulk', SUB.BULK_WAVEFORM] as const),
    );
    fc.assert(
      fc.property(styled, fc.integer({ min: 0, max: 255 }).filter((v) => v !== 0x10), fc.boolean(), fc.constantFrom<ParserDirection>('host-to-device', 'auto'), ([style, sub], byte3, right, direction) => {
        const good = buildReadFrame(SUB.SERIAL_NUMBER, 0x0a);
        const items = parseCapture(concat([wire(style, sub, byte3, right), good]), direction);
        const fs = frames(items) as HostFrame[];
        for (const f of fs) expect(f.checksumOk, `${style} ${sub} ${byte3}`).toBe(recomputedChecksumOk(f));
        if (byte3 === 0) {
          // The control: with 00 there the frame is the builders' frame.
          expect(fs.map((f) => [f.style, f.sub, f.checksumOk])).toEqual([[style, sub, right], ['read', SUB.SERIAL_NUMBER, true]]);
        } else {
          expect(items.find((x) => x.kind === 'error')).toMatchObject({ reason: 'bad-header' });
          expect(fs.map((f) => [f.style, f.sub, f.checksumOk])).toEqual([['read', SUB.SERIAL_NUMBER, true]]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('noise is reported in bounded runs', () => {
    const p = new FrameParser('device-to-host', { maxNoiseRun: 64 });
    const items = [...p.push(new Uint8Array(1000).fill(0x20)), ...p.end()];
    expect(items.every((x) => x.kind === 'noise' && x.bytes.length <= 64)).toBe(true);
    expect(items.reduce((n, x) => n + (x as { bytes: Uint8Array }).bytes.length, 0)).toBe(1000);
  });
});
