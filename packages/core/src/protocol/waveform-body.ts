/**
 * MiniMate Plus waveform body codec.
 *
 * Layout (all multi-byte integers big-endian):
 *
 *   preamble   00 02 00, Tran[0] i16, Tran[1] i16      the first Tran segment's two anchors
 *   blocks     deltas for the current channel:
 *                00 NN   NN zero deltas (run length)
 *                10 NN   NN signed 4-bit deltas, high nibble first        (NN/2 bytes)
 *                20 NN   NN int8 deltas                                   (NN bytes)
 *                30 NN   NN 12-bit deltas in groups of 6 bytes:           (NN·1.5 bytes)
 *                        [4 high nibbles, MSB-first][4 low bytes]
 *              NN is a multiple of 4. Above 0xFC it is "wide": the tag's low nibble X holds
 *              bits 8..11 (`11 90` = 400 nibble deltas).
 *   40 02 + 18 segment header: [0:4] two i16 deltas that end the previous channel's segment,
 *              [6:8] u16 byte length of the next segment's blocks (a hint only, never trusted),
 *              [8:12] u32 little-endian segment counter, one more than the previous header's,
 *              [14:18] two i16 anchors (absolute) that start the next channel's segment.
 *
 * Channels take turns Tran → Vert → Long → MicL → Tran …, one segment each. Segment length is
 * set by bytes on real units, so the decoder walks blocks to the next header and never counts.
 * The body ends with a header whose anchors belong to no segment.
 *
 * Sample arithmetic is int16 and wraps, like the unit's ADC words: anchors and carried deltas are
 * int16, and wrapping is what lets any int16 → int16 jump be carried as an int16 delta.
 */
import { SfmError } from '../errors.js';
import { SEGMENT_COUNTER } from './conventions.js';

export const CHANNEL_NAMES = ['Tran', 'Vert', 'Long', 'MicL'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export interface DecodedBody {
  /** Samples in units (geophones: ×16 for ADC counts; MicL: native counts). */
  channels: Record<ChannelName, Int32Array>;
  /** The body ended early (mid-block, or without its final header), or a channel has fewer than `samplesPerChannel` samples. */
  truncated: boolean;
  /** The first segment header's counter (null without a whole header); each later one is one more. */
  firstSegmentCounter: number | null;
}

export interface DecodeOptions {
  /** Cut every channel to this many samples (drops encoder padding); a shorter channel sets `truncated`. */
  samplesPerChannel?: number;
}

export interface EncodeOptions {
  /** Most samples in one segment (anchors + block deltas + carried deltas). Default 512, minimum 4. */
  maxSegmentSamples?: number;
  /** Most block bytes in one segment (headers excluded). Default 1024. */
  maxSegmentBytes?: number;
}

export class WaveformBodyError extends SfmError {
  /** Byte offset in the body where the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super('PROTOCOL_ERROR', `waveform body: ${message} (at byte ${offset})`);
    this.name = 'WaveformBodyError';
    this.offset = offset;
  }
}

const MAGIC = [0x00, 0x02, 0x00] as const;
const PREAMBLE_LENGTH = 7;
const HEADER_TAG = 0x40;
const HEADER_SUBTAG = 0x02;
const HEADER_LENGTH = 20; // 2 tag bytes + 18
const CHANNEL_COUNT = CHANNEL_NAMES.length;

// Block kinds are the tag's high nibble.
const KIND_ZERO = 0;
const KIND_NIBBLE = 1;
const KIND_INT8 = 2;
const KIND_INT12 = 3;

/** Guards against hostile bodies: `0F FC` alone claims 4092 samples per 2 bytes. */
const MAX_SAMPLES_PER_CHANNEL = 1 << 24;

const int16 = (v: number): number => (v << 16) >> 16;
const readI16 = (b: Uint8Array, p: number): number => int16((b[p] << 8) | b[p + 1]);
const readU32le = (b: Uint8Array, p: number): number => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
/** Where a header's counter sits from its tag. */
const COUNTER_AT = 2 + SEGMENT_COUNTER.offset;

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

/** Growable per-channel sample buffers plus the running value of the current channel. */
class ChannelSink {
  readonly buffers: Int32Array[] = [];
  readonly lengths = [0, 0, 0, 0];
  channel = 0;
  value = 0;

  constructor(initialCapacity: number) {
    for (let c = 0; c < CHANNEL_COUNT; c++) this.buffers.push(new Int32Array(initialCapacity));
  }

  /** Makes room for `count` more samples in the current channel and returns its buffer. */
  room(count: number, offset: number): Int32Array {
    const c = this.channel;
    const needed = this.lengths[c] + count;
    let buffer = this.buffers[c];
    if (needed > buffer.length) {
      if (needed > MAX_SAMPLES_PER_CHANNEL) {
        throw new WaveformBodyError(`more than ${MAX_SAMPLES_PER_CHANNEL} samples in channel ${CHANNEL_NAMES[c]}`, offset);
      }
      const grown = new Int32Array(Math.min(MAX_SAMPLES_PER_CHANNEL, Math.max(needed, buffer.length * 2)));
      grown.set(buffer.subarray(0, this.lengths[c]));
      this.buffers[c] = buffer = grown;
    }
    return buffer;
  }

  /** An absolute sample (segment anchor). */
  anchor(v: number, offset: number): void {
    this.room(1, offset)[this.lengths[this.channel]++] = v;
    this.value = v;
  }

  /** A single delta (the ones carried in a segment header). */
  delta(d: number, offset: number): void {
    this.anchor(int16(this.value + d), offset);
  }

  nextChannel(): void {
    this.channel = (this.channel + 1) % CHANNEL_COUNT;
  }
}

/** Data bytes (after the 2 tag bytes) of a complete block of `kind` with `nn` deltas. */
function blockDataLength(kind: number, nn: number): number {
  switch (kind) {
    case KIND_ZERO:
      return 0;
    case KIND_NIBBLE:
      return nn >> 1;
    case KIND_INT8:
      return nn;
    default:
      return (nn >> 2) * 6;
  }
}

/** How many whole deltas a block cut short to `available` data bytes still holds. */
function wholeDeltas(kind: number, nn: number, available: number): number {
  switch (kind) {
    case KIND_ZERO:
      return nn;
    case KIND_NIBBLE:
      return Math.min(nn, available * 2);
    case KIND_INT8:
      return Math.min(nn, available);
    default: {
      // A group's high nibbles come first, so each low byte after them completes one delta.
      const rest = available % 6;
      return Math.min(nn, Math.floor(available / 6) * 4 + (rest > 2 ? rest - 2 : 0));
    }
  }
}

/** Applies `count` deltas of a block whose data starts at `p`. */
function readBlock(body: Uint8Array, p: number, kind: number, count: number, sink: ChannelSink, tagOffset: number): void {
  const out = sink.room(count, tagOffset);
  const c = sink.channel;
  let n = sink.lengths[c];
  let v = sink.value;
  switch (kind) {
    case KIND_ZERO:
      out.fill(v, n, n + count);
      n += count;
      break;
    case KIND_NIBBLE:
      for (let i = 0; i < count; i++) {
        const byte = body[p + (i >> 1)];
        // (x << 28) >> 28 sign-extends a nibble.
        const d = i & 1 ? (byte << 28) >> 28 : (byte << 24) >> 28;
        v = int16(v + d);
        out[n++] = v;
      }
      break;
    case KIND_INT8:
      for (let i = 0; i < count; i++) {
        v = int16(v + ((body[p + i] << 24) >> 24));
        out[n++] = v;
      }
      break;
    default:
      for (let i = 0; i < count; i++) {
        const group = p + (i >> 2) * 6;
        const j = i & 3;
        const hi = (body[group + (j >> 1)] >> (j & 1 ? 0 : 4)) & 0x0f;
        v = int16(v + ((((hi << 8) | body[group + 2 + j]) << 20) >> 20));
        out[n++] = v;
      }
  }
  sink.lengths[c] = n;
  sink.value = v;
}

/**
 * Decodes a waveform body into per-channel samples (units).
 *
 * Throws WaveformBodyError on a bad magic, an unknown tag or a malformed block count. A body that
 * ends early (inside a block or header, or without its final header) is not an error: the whole
 * samples before the cut are returned with `truncated: true`.
 */
export function decodeWaveformBody(body: Uint8Array, opts: DecodeOptions = {}): DecodedBody {
  const limit = opts.samplesPerChannel;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new RangeError(`samplesPerChannel must be a non-negative integer, got ${limit}`);
  }
  const end = body.length;
  // Nibble blocks give ~0.5 samples per body byte per channel; grow from there if runs are longer.
  const sink = new ChannelSink(Math.min(limit !== undefined ? limit + 8 : Infinity, (end >> 1) + 16));
  let firstCounter: number | null = null;
  let lastCounter = 0;
  const result = (truncated: boolean): DecodedBody => finishDecode(sink, truncated, limit, firstCounter);

  for (let i = 0; i < MAGIC.length && i < end; i++) {
    if (body[i] !== MAGIC[i]) throw new WaveformBodyError(`bad magic, expected 00 02 00`, i);
  }
  if (end < PREAMBLE_LENGTH) {
    if (end >= 5) sink.anchor(readI16(body, 3), 3);
    return result(true);
  }
  sink.anchor(readI16(body, 3), 3);
  sink.anchor(readI16(body, 5), 5);

  let p = PREAMBLE_LENGTH;
  while (p < end) {
    if (p + 2 > end) return result(true); // a lone tag byte
    const tag = body[p];
    const second = body[p + 1];
    const available = end - p - 2;

    if (tag === HEADER_TAG && second === HEADER_SUBTAG) {
      // Two deltas close the current segment; they are whole even if the header is cut after them.
      if (available >= 2) sink.delta(readI16(body, p + 2), p + 2);
      if (available >= 4) sink.delta(readI16(body, p + 4), p + 4);
      if (available < HEADER_LENGTH - 2) return result(true);
      // Segments are numbered: a jump means one was lost or repeated when the body was put together.
      const counter = readU32le(body, p + COUNTER_AT);
      if (firstCounter === null) firstCounter = counter;
      else if (counter !== ((lastCounter + 1) >>> 0)) {
        throw new WaveformBodyError(`segment counter ${counter} follows ${lastCounter}: a segment is missing or repeated`, p + COUNTER_AT);
      }
      lastCounter = counter;
      if (p + HEADER_LENGTH === end) return result(false); // the final header: its anchors start nothing
      sink.nextChannel();
      sink.anchor(readI16(body, p + 16), p + 16);
      sink.anchor(readI16(body, p + 18), p + 18);
      p += HEADER_LENGTH;
      continue;
    }

    const kind = tag >> 4;
    if (kind > KIND_INT12) {
      throw new WaveformBodyError(`unknown block tag ${hex(tag)} ${hex(second)}`, p);
    }
    const nn = ((tag & 0x0f) << 8) | second;
    // Nibble and 12-bit layouts only make sense for whole pairs / groups of four.
    if ((kind === KIND_NIBBLE || kind === KIND_INT12) && (nn & 3) !== 0) {
      throw new WaveformBodyError(`block ${hex(tag)} ${hex(second)}: count ${nn} is not a multiple of 4`, p);
    }
    const length = blockDataLength(kind, nn);
    const count = length <= available ? nn : wholeDeltas(kind, nn, available);
    readBlock(body, p + 2, kind, count, sink, p);
    if (length > available) return result(true);
    p += 2 + length;
  }
  // No final header: the last segment lacks its carried deltas, so the body was cut short.
  return result(true);
}

function finishDecode(sink: ChannelSink, truncated: boolean, limit: number | undefined, firstSegmentCounter: number | null): DecodedBody {
  const channels = {} as Record<ChannelName, Int32Array>;
  CHANNEL_NAMES.forEach((name, c) => {
    let n = sink.lengths[c];
    if (limit !== undefined) {
      if (n < limit) truncated = true;
      n = Math.min(n, limit);
    }
    channels[name] = sink.buffers[c].slice(0, n);
  });
  return { channels, truncated, firstSegmentCounter };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

// ---------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------
//
// Every segment holds a multiple of 4 samples (2 anchors + blocks of 4k deltas + 2 carried
// deltas), so in each channel's sample stream segments start at multiples of 4. Positions
// 4q+2 … 4q+5 form "quad" q: it is either one group of four block deltas, or a segment boundary
// (2 carried deltas + the next segment's 2 anchors). A boundary takes any value (carried deltas
// are int16 and wrap, anchors are absolute), so that is where jumps too big for a 12-bit delta go.
// Each channel is cut into segments independently; the segments are then interleaved in rotation,
// padding channels that run out early.

const DEFAULT_MAX_SEGMENT_SAMPLES = 512;
const DEFAULT_MAX_SEGMENT_BYTES = 1024;

/** Data bytes per quad for each block kind. */
const QUAD_BYTES = [0, 2, 4, 6];
/** Most quads per block: NN ≤ 0xFC for 00/30 (we only write wide NN for 10/20), ≤ 0xFFC for 10/20. */
const QUAD_CAP = [63, 1023, 1023, 63];
/** Class of a quad that no block can carry. */
const CLASS_BOUNDARY = 4;
const INFINITE_COST = 0x3fffffff;

function deltaClass(d: number): number {
  if (d === 0) return KIND_ZERO;
  if (d >= -8 && d <= 7) return KIND_NIBBLE;
  if (d >= -128 && d <= 127) return KIND_INT8;
  if (d >= -2048 && d <= 2047) return KIND_INT12;
  return CLASS_BOUNDARY;
}

/**
 * Picks block kinds for the quads of one segment, quad by quad, so the segment can stop as soon
 * as it would exceed its byte budget. Dynamic programming over "kind of the block the last quad is
 * in": each quad may go in any block wide enough for it, and each new block costs a 2-byte tag.
 */
class BlockPlanner {
  private cost = new Int32Array(4);
  private run = new Int32Array(4);
  private nextCost = new Int32Array(4);
  private nextRun = new Int32Array(4);
  /** back[4·i + k]: kind of quad i−1 on the cheapest path that puts quad i in kind k. */
  private back: Uint8Array;
  count = 0;
  bytes = 0;

  constructor(maxQuads: number) {
    this.back = new Uint8Array(4 * Math.max(1, maxQuads));
  }

  reset(): void {
    this.count = 0;
    this.bytes = 0;
  }

  /** Adds a quad of class `cls` unless that would push the blocks past `maxBytes`. */
  tryAdd(cls: number, maxBytes: number): boolean {
    const { cost, run, nextCost, nextRun, back } = this;
    const i = this.count;
    let best = INFINITE_COST;
    for (let k = 0; k < 4; k++) {
      nextCost[k] = INFINITE_COST;
      if (k < cls) continue;
      if (i === 0) {
        nextCost[k] = 2 + QUAD_BYTES[k];
        nextRun[k] = 1;
        back[k] = k;
      } else {
        for (let j = 0; j < 4; j++) {
          if (cost[j] >= INFINITE_COST) continue;
          const full = j === k && run[j] === QUAD_CAP[k];
          const extends_ = j === k && !full;
          const c = cost[j] + QUAD_BYTES[k] + (extends_ ? 0 : 2);
          if (c < nextCost[k]) {
            nextCost[k] = c;
            nextRun[k] = extends_ ? run[j] + 1 : 1;
            back[4 * i + k] = j;
          }
        }
      }
      if (nextCost[k] < best) best = nextCost[k];
    }
    if (best > maxBytes) return false;
    cost.set(nextCost);
    run.set(nextRun);
    this.count = i + 1;
    this.bytes = best;
    return true;
  }

  /** Writes the chosen kind of each quad into kinds[offset …]. */
  backtrack(kinds: Uint8Array, offset: number): void {
    if (this.count === 0) return;
    let k = 0;
    for (let j = 1; j < 4; j++) if (this.cost[j] < this.cost[k]) k = j;
    for (let i = this.count - 1; i >= 0; i--) {
      kinds[offset + i] = k;
      k = this.back[4 * i + k];
    }
  }
}

interface Segment {
  /** First quad of the segment: its anchors are samples 4a, 4a+1. */
  a: number;
  /** Boundary quad: its first two positions are the carried deltas. Blocks cover quads a … b−1. */
  b: number;
  blockBytes: number;
}

/** One channel prepared for encoding: padded samples, wrapped deltas and segment plan. */
interface ChannelPlan {
  /** Samples, padded with the last value to a multiple of 4 (at least 4). */
  samples: Int32Array;
  /** deltas[i] = int16(samples[i] − samples[i−1]). */
  deltas: Int32Array;
  /** Block kind per quad (block quads only). */
  kinds: Uint8Array;
  segments: Segment[];
  /** Value used for padding segments. */
  last: number;
}

function planChannel(input: ArrayLike<number>, name: ChannelName, maxBlockQuads: number, maxBytes: number, planner: BlockPlanner): ChannelPlan {
  const length = input.length;
  const padded = Math.max(4, (length + 3) & ~3);
  const samples = new Int32Array(padded);
  for (let i = 0; i < length; i++) {
    const v = input[i];
    if (!Number.isInteger(v) || v < -32768 || v > 32767) {
      throw new RangeError(`${name}[${i}] = ${v} is not an int16 sample`);
    }
    samples[i] = v;
  }
  const last = length > 0 ? samples[length - 1] : 0;
  samples.fill(last, length);

  // Two spare zero deltas: the last boundary quad reaches two positions past the samples.
  const deltas = new Int32Array(padded + 2);
  for (let i = 1; i < padded; i++) deltas[i] = int16(samples[i] - samples[i - 1]);

  const quads = padded >> 2;
  const classes = new Uint8Array(quads);
  for (let q = 0; q < quads; q++) {
    const p = 4 * q + 2;
    classes[q] = Math.max(deltaClass(deltas[p]), deltaClass(deltas[p + 1]), deltaClass(deltas[p + 2]), deltaClass(deltas[p + 3]));
  }

  const kinds = new Uint8Array(quads);
  const segments: Segment[] = [];
  if (length === 0) return { samples, deltas, kinds, segments, last };
  for (let a = 0; a < quads; ) {
    // Grow the segment greedily; the first quad that doesn't fit becomes its boundary.
    planner.reset();
    let b = a;
    while (b < quads - 1 && b - a < maxBlockQuads && classes[b] !== CLASS_BOUNDARY && planner.tryAdd(classes[b], maxBytes)) b++;
    planner.backtrack(kinds, a);
    segments.push({ a, b, blockBytes: planner.bytes });
    a = b + 1;
  }
  return { samples, deltas, kinds, segments, last };
}

/** Bounded big-endian byte writer. */
class ByteWriter {
  readonly bytes: Uint8Array;
  pos = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
  }

  u8(v: number): void {
    this.bytes[this.pos++] = v;
  }

  u16(v: number): void {
    this.bytes[this.pos++] = (v >> 8) & 0xff;
    this.bytes[this.pos++] = v & 0xff;
  }

  u32le(v: number): void {
    for (let i = 0; i < 4; i++) this.bytes[this.pos++] = (v >>> (8 * i)) & 0xff;
  }

  zeros(n: number): void {
    this.pos += n; // the buffer starts zeroed
  }
}

/** Writes one block of `kind` with the deltas at positions from … from+nn−1. */
function writeBlock(w: ByteWriter, kind: number, deltas: Int32Array, from: number, nn: number): void {
  w.u8((kind << 4) | (nn >> 8)); // nn > 0xFC spills into the tag's low nibble ("wide NN")
  w.u8(nn & 0xff);
  const to = from + nn;
  switch (kind) {
    case KIND_ZERO:
      break;
    case KIND_NIBBLE:
      for (let i = from; i < to; i += 2) w.u8(((deltas[i] & 0x0f) << 4) | (deltas[i + 1] & 0x0f));
      break;
    case KIND_INT8:
      for (let i = from; i < to; i++) w.u8(deltas[i] & 0xff);
      break;
    default:
      for (let i = from; i < to; i += 4) {
        const d0 = deltas[i] & 0xfff, d1 = deltas[i + 1] & 0xfff, d2 = deltas[i + 2] & 0xfff, d3 = deltas[i + 3] & 0xfff;
        w.u8(((d0 >> 8) << 4) | (d1 >> 8));
        w.u8(((d2 >> 8) << 4) | (d3 >> 8));
        w.u8(d0 & 0xff);
        w.u8(d1 & 0xff);
        w.u8(d2 & 0xff);
        w.u8(d3 & 0xff);
      }
  }
}

/** Writes the blocks of quads a … b−1, merging runs of the same kind. */
function writeSegmentBlocks(w: ByteWriter, plan: ChannelPlan, seg: Segment): void {
  for (let q = seg.a; q < seg.b; ) {
    const kind = plan.kinds[q];
    let n = 1;
    while (q + n < seg.b && plan.kinds[q + n] === kind && n < QUAD_CAP[kind]) n++;
    writeBlock(w, kind, plan.deltas, 4 * q + 2, 4 * n);
    q += n;
  }
}

/**
 * Encodes four equally long channels of int16 units into a waveform body that
 * decodeWaveformBody(body, { samplesPerChannel: length }) turns back into exactly the input.
 */
export function encodeWaveformBody(channels: Record<ChannelName, ArrayLike<number>>, opts: EncodeOptions = {}): Uint8Array {
  const maxSamples = opts.maxSegmentSamples ?? DEFAULT_MAX_SEGMENT_SAMPLES;
  const maxBytes = opts.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
  if (!Number.isSafeInteger(maxSamples) || maxSamples < 4) {
    throw new RangeError(`maxSegmentSamples must be an integer ≥ 4, got ${maxSamples}`);
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`maxSegmentBytes must be a non-negative integer, got ${maxBytes}`);
  }
  const length = channels.Tran?.length;
  for (const name of CHANNEL_NAMES) {
    if (!channels[name] || channels[name].length !== length) {
      throw new RangeError(`all channels must have the same length (Tran has ${length}, ${name} has ${channels[name]?.length})`);
    }
  }

  const maxBlockQuads = (maxSamples - 4) >> 2;
  const planner = new BlockPlanner(maxBlockQuads);
  const plans = CHANNEL_NAMES.map((name) => planChannel(channels[name], name, maxBlockQuads, maxBytes, planner));

  // Strict rotation: channels before the last one to finish get one more segment than those after.
  const counts = plans.map((p) => p.segments.length);
  const most = Math.max(1, ...counts);
  const lastFull = Math.max(0, counts.lastIndexOf(most));
  const pad: Segment = { a: -1, b: -1, blockBytes: 0 };
  plans.forEach((plan, c) => {
    const target = c <= lastFull ? most : most - 1;
    while (plan.segments.length < target) plan.segments.push(pad);
  });

  // Global segment g belongs to channel g % 4.
  const order: [ChannelPlan, Segment][] = [];
  for (let g = 0; ; g++) {
    const plan = plans[g % CHANNEL_COUNT];
    const seg = plan.segments[Math.floor(g / CHANNEL_COUNT)];
    if (!seg) break;
    order.push([plan, seg]);
  }

  const total = PREAMBLE_LENGTH + order.reduce((sum, [, seg]) => sum + seg.blockBytes + HEADER_LENGTH, 0);
  const w = new ByteWriter(total);
  const anchor = (plan: ChannelPlan, seg: Segment, i: 0 | 1): number => (seg === pad ? plan.last : plan.samples[4 * seg.a + i]);

  const [firstPlan, firstSeg] = order[0];
  for (const byte of MAGIC) w.u8(byte);
  w.u16(anchor(firstPlan, firstSeg, 0));
  w.u16(anchor(firstPlan, firstSeg, 1));

  order.forEach(([plan, seg], g) => {
    if (seg !== pad) writeSegmentBlocks(w, plan, seg);
    // Header: carried deltas of this segment, then the anchors of the next one (zeros after the last).
    w.u8(HEADER_TAG);
    w.u8(HEADER_SUBTAG);
    w.u16(seg === pad ? 0 : plan.deltas[4 * seg.b + 2]);
    w.u16(seg === pad ? 0 : plan.deltas[4 * seg.b + 3]);
    w.zeros(2);
    const next = order[g + 1];
    w.u16(next ? Math.min(0xffff, next[1].blockBytes) : 0); // block-length hint, as real units write it
    w.u32le(SEGMENT_COUNTER.first + g); // this header begins segment g + 1
    w.zeros(2);
    w.u16(next ? anchor(next[0], next[1], 0) : 0);
    w.u16(next ? anchor(next[0], next[1], 1) : 0);
  });
  if (w.pos !== total) throw new Error(`internal: wrote ${w.pos} of ${total} planned bytes`);
  return w.bytes;
}

/**
 * The same body grown to exactly `length` bytes with empty zero-run blocks (`00 00`, no samples)
 * before its final header, so it decodes to the same samples: an emulated event of a given size.
 */
export function padWaveformBody(body: Uint8Array, length: number): Uint8Array {
  const extra = length - body.length;
  if (!Number.isSafeInteger(length) || extra < 0 || extra % 2 !== 0) {
    throw new RangeError(`a body of ${body.length} bytes grows by empty 2-byte blocks only: ${length} cannot be reached`);
  }
  const tail = body.length - HEADER_LENGTH;
  if (tail < PREAMBLE_LENGTH || body[tail] !== HEADER_TAG || body[tail + 1] !== HEADER_SUBTAG) throw new RangeError('the body does not end with its final segment header');
  const out = new Uint8Array(length);
  out.set(body.subarray(0, tail), 0);
  out.set(body.subarray(tail), tail + extra); // the gap stays 00 00 …
  return out;
}
