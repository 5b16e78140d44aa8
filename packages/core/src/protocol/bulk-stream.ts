/**
 * The 5A bulk waveform stream (protocol.md §12, §24), sfm's reading of it:
 *
 *   probe   offset 1004, params 00 ‖ key4 ‖ zeros (11)     → A5: the event's first 0x600 bytes
 *   pages   offset 1004, params 00 ‖ key4[0:2] ‖ 1002|1004 ‖ zeros (12) → text page, unit page
 *   chunks  offset 1004, params 00 ‖ key4[0:2] ‖ counter ‖ zeros (11)  → 0x200 bytes each
 *   (one stray byte after the last chunk)
 *   TERM    offset 005A, params 00 ‖ key4[0:2] ‖ residual counter ‖ zeros (10) → A5, page 0: the residual
 *
 * An event's memory runs from its start offset (key4[2:4], the probe's counter) to the STRT
 * end_offset: the STRT record, the preamble, the waveform body and the footer. Counters are its
 * offsets' low 16 bits; whole chunks start at start + 0x600 (bulkPlan). Which parts are known and
 * which are sfm's own is in conventions.ts.
 */
import { asciiBytes, putU16be, putU32be, readAscii, u16be, u32be, writeAsciiField } from './bytes.js';
import {
  BULK_CHUNK_STEP, BULK_FIRST_CHUNK, BULK_PAGE_TEXT, BULK_PAGE_UNIT, EVENT_FILE_FOOTER_LENGTH,
  EVENT_FILE_FOOTER_MAGIC, STRT, STRT_PREAMBLE, TEXT_PAGE_LENGTH, UNIT_PAGE,
} from './conventions.js';
import { PayloadError, requireLength } from './errors.js';
import { BULK_OFFSET_STREAM, BULK_OFFSET_TERM, buildBulkFrame, type HostFrame } from './frames.js';
import { decodeTextFields, encodeTextFields } from './text-fields.js';
import type { ProjectText } from '../model.js';

export { BULK_PAGE_TEXT, BULK_PAGE_UNIT, BULK_CHUNK_STEP, BULK_FIRST_CHUNK };
const STRT_MAGIC = asciiBytes('STRT');
export const STRT_RECORD_MARKER = 0x46;
/** Bytes of an event's memory that are not its waveform body: STRT, preamble, footer. */
export const EVENT_MEMORY_OVERHEAD = STRT.length + STRT_PREAMBLE.length + EVENT_FILE_FOOTER_LENGTH;

/**
 * The STRT record counts an event's samples per channel in a u16 (protocol.md §12.4, early
 * reading [C]): no record can hold more, whatever its rate and length.
 */
export const MAX_SAMPLES_PER_CHANNEL = 0xffff;

export interface StrtRecord {
  sample_rate: number;
  total_samples: number;
  record_time_s: number;
  end_offset: number;
  pretrigger_samples: number;
}

/** How one event's memory is read over 5A: what the probe carries, the chunks, TERM and its residual. */
export interface BulkPlan {
  /** key4[2:4]: where the event starts (the probe's counter). */
  start: number;
  /** The STRT end_offset. */
  end: number;
  /** Bytes of the event's memory (end − start). */
  length: number;
  /** Bytes the probe's reply carries: the first min(0x600, length). */
  probeLength: number;
  /** The whole sample chunks' counters as they go on the wire (16 bits, so they wrap past 64 KiB). */
  chunkCounters: number[];
  /** TERM's counter: where the residual starts (16 bits). */
  termCounter: number;
  /** Bytes TERM's reply carries (0–0x1FF). */
  residualLength: number;
}

/** The request walk of one event, from its key and the STRT end_offset its probe reply gives. */
export function bulkPlan(key: number, endOffset: number): BulkPlan {
  const start = key & 0xffff;
  const length = endOffset - start;
  if (!Number.isSafeInteger(endOffset) || length < STRT.length + STRT_PREAMBLE.length) {
    throw new PayloadError(`STRT end_offset ${hex(endOffset)} leaves no room for the event's data (it starts at ${hex(start)})`);
  }
  const first = start + BULK_FIRST_CHUNK;
  const chunks = length > BULK_FIRST_CHUNK ? Math.floor((endOffset - first) / BULK_CHUNK_STEP) : 0;
  const residualStart = first + chunks * BULK_CHUNK_STEP;
  return {
    start,
    end: endOffset,
    length,
    probeLength: Math.min(BULK_FIRST_CHUNK, length),
    chunkCounters: Array.from({ length: chunks }, (_, i) => (first + i * BULK_CHUNK_STEP) & 0xffff),
    termCounter: residualStart & 0xffff,
    residualLength: Math.max(0, endOffset - residualStart),
  };
}

function hex(n: number): string {
  return `0x${n.toString(16).toUpperCase()}`;
}

/**
 * An event's memory as the unit holds it: the STRT record (end_offset = the start offset + the
 * memory's length), the preamble, the waveform body and the footer.
 */
export function encodeEventMemory(key: number, strt: Omit<StrtRecord, 'end_offset'>, body: Uint8Array): Uint8Array {
  if (!Number.isInteger(strt.total_samples) || strt.total_samples < 0 || strt.total_samples > MAX_SAMPLES_PER_CHANNEL) {
    throw new PayloadError(`a STRT record counts 0–${MAX_SAMPLES_PER_CHANNEL} samples per channel, got ${strt.total_samples}`);
  }
  const length = EVENT_MEMORY_OVERHEAD + body.length;
  const out = new Uint8Array(length);
  out.set(STRT_MAGIC, 0);
  putU16be(out, STRT.sampleRate, strt.sample_rate);
  putU16be(out, STRT.totalSamples, strt.total_samples);
  putU16be(out, STRT.recordTime, Math.round(strt.record_time_s));
  putU32be(out, STRT.endOffset, endOffsetFor(key, length));
  putU16be(out, STRT.pretriggerSamples, strt.pretrigger_samples);
  out[STRT.marker] = STRT_RECORD_MARKER;
  out.set(STRT_PREAMBLE, STRT.length);
  out.set(body, STRT.length + STRT_PREAMBLE.length);
  out.set(EVENT_FILE_FOOTER_MAGIC, length - EVENT_FILE_FOOTER_LENGTH);
  return out;
}

/** The STRT end_offset of an event at `key` whose memory has `length` bytes. */
export function endOffsetFor(key: number, length: number): number {
  return (key & 0xffff) + length;
}

/** The STRT record at the start of the probe's reply. */
export function decodeProbeReply(content: Uint8Array): StrtRecord {
  requireLength(content, STRT.length, '5A probe reply');
  for (let i = 0; i < 4; i++) {
    if (content[i] !== STRT_MAGIC[i]) throw new PayloadError('5A probe reply does not start with a STRT record');
  }
  return {
    sample_rate: u16be(content, STRT.sampleRate),
    total_samples: u16be(content, STRT.totalSamples),
    record_time_s: u16be(content, STRT.recordTime),
    end_offset: u32be(content, STRT.endOffset),
    pretrigger_samples: u16be(content, STRT.pretriggerSamples),
  };
}

/** The waveform body out of an event's whole memory (probe reply, chunks and residual, concatenated). */
export function bodyFromEventMemory(memory: Uint8Array): Uint8Array {
  if (memory.length < EVENT_MEMORY_OVERHEAD) throw new PayloadError(`event memory of ${memory.length} bytes is shorter than its STRT, preamble and footer`);
  decodeProbeReply(memory);
  const bodyStart = STRT.length + STRT_PREAMBLE.length;
  for (let i = 0; i < STRT_PREAMBLE.length; i++) {
    if (memory[STRT.length + i] !== STRT_PREAMBLE[i]) throw new PayloadError('event memory: the STRT record is not followed by its preamble 00 00 FF FF FF FF');
  }
  const f = memory.length - EVENT_FILE_FOOTER_LENGTH;
  for (let i = 0; i < EVENT_FILE_FOOTER_MAGIC.length; i++) {
    if (memory[f + i] !== EVENT_FILE_FOOTER_MAGIC[i]) throw new PayloadError('event memory does not end with the file footer');
  }
  return memory.subarray(bodyStart, f);
}

function bulkParams(length: number, key: number, counter: number): Uint8Array {
  const p = new Uint8Array(length);
  p[1] = (key >>> 24) & 0xff;
  p[2] = (key >>> 16) & 0xff;
  putU16be(p, 3, counter & 0xffff);
  return p;
}

/** The probe: its counter is the event's start offset itself (key4[2:4]). */
export function bulkProbeFrame(key: number): Uint8Array {
  return buildBulkFrame(BULK_OFFSET_STREAM, bulkParams(11, key, key & 0xffff));
}
export function bulkPageFrame(key: number, page: typeof BULK_PAGE_TEXT | typeof BULK_PAGE_UNIT): Uint8Array {
  return buildBulkFrame(BULK_OFFSET_STREAM, bulkParams(12, key, page));
}
/** A sample chunk at `counter` (one of bulkPlan's chunkCounters). */
export function bulkChunkFrame(key: number, counter: number): Uint8Array {
  return buildBulkFrame(BULK_OFFSET_STREAM, bulkParams(11, key, counter));
}
/** TERM with the residual's counter (bulkPlan's termCounter). */
export function bulkTermFrame(key: number, counter: number): Uint8Array {
  return buildBulkFrame(BULK_OFFSET_TERM, bulkParams(10, key, counter));
}

export type BulkRequest =
  | { kind: 'probe'; keyHigh: number; counter: number }
  | { kind: 'page'; keyHigh: number; page: number }
  | { kind: 'chunk'; keyHigh: number; counter: number }
  | { kind: 'term'; keyHigh: number; counter: number };

/** What a parsed 5A request asks for. A probe and a chunk look alike: the caller tells them apart by key. */
export function classifyBulkRequest(frame: HostFrame): BulkRequest {
  if (frame.sub !== 0x5a) throw new PayloadError('not a 5A request');
  const p = frame.params;
  const keyHigh = (p[1]! << 8) | p[2]!;
  const counter = (p[3]! << 8) | p[4]!;
  if (frame.offset === BULK_OFFSET_TERM) return { kind: 'term', keyHigh, counter };
  if (p.length === 12) return { kind: 'page', keyHigh, page: counter };
  return { kind: 'chunk', keyHigh, counter };
}

/** Page 0x1002: the project text as it was when the event was recorded. */
export function encodeTextPage(text: ProjectText): Uint8Array {
  const out = new Uint8Array(TEXT_PAGE_LENGTH);
  encodeTextFields(out, 0, text);
  return out;
}
export function decodeTextPage(content: Uint8Array): ProjectText {
  return decodeTextFields(content);
}

export interface UnitPage {
  serial: string;
  firmware: string;
}
/** Page 0x1004: unit metadata, the same for every event. */
export function encodeUnitPage(u: UnitPage): Uint8Array {
  const out = new Uint8Array(UNIT_PAGE.length);
  writeAsciiField(out, UNIT_PAGE.serial, 8, u.serial, 'serial');
  writeAsciiField(out, UNIT_PAGE.firmware, 16, u.firmware, 'firmware');
  return out;
}
export function decodeUnitPage(content: Uint8Array): UnitPage {
  requireLength(content, UNIT_PAGE.length, 'unit page');
  return { serial: readAscii(content, UNIT_PAGE.serial, 8), firmware: readAscii(content, UNIT_PAGE.firmware, 16) };
}
