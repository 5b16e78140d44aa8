/**
 * The 5A bulk waveform stream (protocol.md §12), sfm's reading of it:
 *
 *   probe   offset 1004, params 00 ‖ key4 ‖ zeros (11)     → A5: STRT record + 6-byte preamble
 *   pages   offset 1004, params 00 ‖ key4[0:2] ‖ 1002|1004 ‖ zeros (12) → text page, unit page
 *   chunks  offset 1004, params 00 ‖ key4[0:2] ‖ counter ‖ zeros (11)  → 512 bytes of the event file
 *   (one stray byte after the last chunk)
 *   TERM    offset 005A, params 00 ‖ key4[0:2] ‖ last counter + 0x200 ‖ zeros (10) → A5, page 0
 *
 * Counters are the low 16 bits of memory addresses: chunk n (n ≥ 1) is at key + n·0x200, up to the
 * STRT end_offset; counter key+0 would repeat the probe. Which chunk counter comes first and the
 * TERM formula are unknown on real units ([sfm], conventions.ts).
 */
import { asciiBytes, putU16be, putU32be, readAscii, u16be, u32be, writeAsciiField } from './bytes.js';
import {
  BULK_CHUNK_STEP, BULK_PAGE_TEXT, BULK_PAGE_UNIT, BULK_TERM_COUNTER_STEP, EVENT_FILE_FOOTER_LENGTH,
  EVENT_FILE_FOOTER_MAGIC, STRT, STRT_PREAMBLE, TEXT_PAGE_LENGTH, UNIT_PAGE,
} from './conventions.js';
import { PayloadError, requireLength } from './errors.js';
import { BULK_OFFSET_STREAM, BULK_OFFSET_TERM, buildBulkFrame, type HostFrame } from './frames.js';
import { decodeTextFields, encodeTextFields } from './text-fields.js';
import type { ProjectText } from '../model.js';

export { BULK_PAGE_TEXT, BULK_PAGE_UNIT, BULK_CHUNK_STEP };
const STRT_MAGIC = asciiBytes('STRT');
export const STRT_RECORD_MARKER = 0x46;

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

/** Content of the probe reply: the 21-byte STRT record and the 6-byte preamble. */
export function encodeProbeReply(strt: StrtRecord): Uint8Array {
  if (!Number.isInteger(strt.total_samples) || strt.total_samples < 0 || strt.total_samples > MAX_SAMPLES_PER_CHANNEL) {
    throw new PayloadError(`a STRT record counts 0–${MAX_SAMPLES_PER_CHANNEL} samples per channel, got ${strt.total_samples}`);
  }
  const out = new Uint8Array(STRT.length + STRT_PREAMBLE.length);
  out.set(STRT_MAGIC, 0);
  putU16be(out, STRT.sampleRate, strt.sample_rate);
  putU16be(out, STRT.totalSamples, strt.total_samples);
  putU16be(out, STRT.recordTime, Math.round(strt.record_time_s));
  putU32be(out, STRT.endOffset, strt.end_offset >>> 0);
  putU16be(out, STRT.pretriggerSamples, strt.pretrigger_samples);
  out[STRT.marker] = STRT_RECORD_MARKER;
  out.set(STRT_PREAMBLE, STRT.length);
  return out;
}

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

function bulkParams(length: number, key: number, counter: number): Uint8Array {
  const p = new Uint8Array(length);
  p[1] = (key >>> 24) & 0xff;
  p[2] = (key >>> 16) & 0xff;
  putU16be(p, 3, counter & 0xffff);
  return p;
}

export function bulkProbeFrame(key: number): Uint8Array {
  return buildBulkFrame(BULK_OFFSET_STREAM, bulkParams(11, key, key & 0xffff));
}
export function bulkPageFrame(key: number, page: typeof BULK_PAGE_TEXT | typeof BULK_PAGE_UNIT): Uint8Array {
  return buildBulkFrame(BULK_OFFSET_STREAM, bulkParams(12, key, page));
}
export function bulkChunkFrame(key: number, chunk: number): Uint8Array {
  return buildBulkFrame(BULK_OFFSET_STREAM, bulkParams(11, key, chunkCounter(key, chunk)));
}
export function bulkTermFrame(key: number, chunkCount: number): Uint8Array {
  const last = chunkCount > 0 ? chunkCounter(key, chunkCount) : key & 0xffff;
  return buildBulkFrame(BULK_OFFSET_TERM, bulkParams(10, key, last + BULK_TERM_COUNTER_STEP));
}

/** The counter of chunk n (n ≥ 1). */
export function chunkCounter(key: number, chunk: number): number {
  return ((key & 0xffff) + chunk * BULK_CHUNK_STEP) & 0xffff;
}

/** How many chunks lie between the probe region and end_offset. */
export function chunkCountFor(key: number, endOffset: number): number {
  const bytes = endOffset - (key >>> 0) - BULK_CHUNK_STEP;
  if (bytes < 0) throw new PayloadError(`STRT end_offset ${endOffset.toString(16)} lies before the event's data`);
  return Math.ceil(bytes / BULK_CHUNK_STEP);
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

/** The event file's data after the probe region: the waveform body and the footer. */
export function eventFileData(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + EVENT_FILE_FOOTER_LENGTH);
  out.set(body, 0);
  out.set(EVENT_FILE_FOOTER_MAGIC, body.length);
  return out;
}

/** The waveform body out of the concatenated chunk contents (the footer removed). */
export function bodyFromEventFileData(data: Uint8Array): Uint8Array {
  if (data.length < EVENT_FILE_FOOTER_LENGTH) throw new PayloadError(`event data of ${data.length} bytes is shorter than its footer`);
  const f = data.length - EVENT_FILE_FOOTER_LENGTH;
  for (let i = 0; i < EVENT_FILE_FOOTER_MAGIC.length; i++) {
    if (data[f + i] !== EVENT_FILE_FOOTER_MAGIC[i]) throw new PayloadError('event data does not end with the file footer');
  }
  return data.subarray(0, f);
}

/** The end address of an event whose file data (body + footer) has `dataLength` bytes. */
export function endOffsetFor(key: number, dataLength: number): number {
  return (key >>> 0) + BULK_CHUNK_STEP + dataLength;
}
