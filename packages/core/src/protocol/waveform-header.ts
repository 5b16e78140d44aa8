/**
 * SUB 0A → F5 waveform/record header (protocol.md §10.4, §22). Its length is variable: the probe
 * reply says it at data[4] — 0x46 for a full event, 0x2C for a monitor-log (partial) record.
 * The full header's layout is sfm's ([sfm], conventions.ts). The monitor-log record is decoded
 * the way the notes describe it: the start time, the stop time right after it (or one byte later
 * when both share mm:ss), the serial found by looking for "BE", and the geophone trigger level
 * found by looking for "Geo: ".
 */
import { asciiBytes, f32be, indexOfBytes, putF32be, putU16be, putU32be, readAscii, tidyFloat32, u16be, u32be, writeAsciiField } from './bytes.js';
import { FULL_HEADER, HEADER_LENGTH_FULL, HEADER_LENGTH_PARTIAL, PARTIAL_HEADER, RECORD_TYPE_CODE } from './conventions.js';
import { PayloadError, requireLength } from './errors.js';
import { decodeTimestamp, encodeTimestamp, TIMESTAMP_LENGTH } from './timestamp.js';
import type { GeoRangeName } from '../model.js';

export { HEADER_LENGTH_FULL, HEADER_LENGTH_PARTIAL };

export interface FullEventHeader {
  kind: 'full';
  timestamp: string | null;
  record_type: 'waveform' | 'histogram';
  sample_rate: number;
  total_samples: number;
  pretrigger_samples: number;
  record_time_s: number;
  geo_range: GeoRangeName;
  serial: string;
}

/** A monitor-log record: an interval of monitoring in which nothing crossed the trigger level. */
export interface MonitorLogHeader {
  kind: 'monitor_log';
  start_time: string | null;
  stop_time: string | null;
  /** The "BE…" serial in the record; null when it has none. */
  serial: string | null;
  /** The geophone trigger level in force ("Geo: 0.5 in/s"); null when the record does not give it in in/s. */
  trigger_level_ips: number | null;
}

export type WaveformHeader = FullEventHeader | MonitorLogHeader;

/** The header length announced by a 0A probe reply (its data[4]). */
export function headerLengthFromProbe(data: Uint8Array): number {
  requireLength(data, 5, '0A probe reply');
  const n = data[4]!;
  if (n !== HEADER_LENGTH_FULL && n !== HEADER_LENGTH_PARTIAL) {
    throw new PayloadError(`0A probe announces a header of 0x${n.toString(16)} bytes; known lengths are 0x46 and 0x2C`);
  }
  return n;
}

export function decodeWaveformHeader(content: Uint8Array, length: number): WaveformHeader {
  if (length === HEADER_LENGTH_PARTIAL) {
    requireLength(content, HEADER_LENGTH_PARTIAL, 'monitor-log header');
    return decodeMonitorLog(content.subarray(0, HEADER_LENGTH_PARTIAL));
  }
  requireLength(content, HEADER_LENGTH_FULL, 'event header');
  const h = FULL_HEADER;
  return {
    kind: 'full',
    timestamp: decodeTimestamp(content, h.timestamp),
    record_type: content[h.recordType] === RECORD_TYPE_CODE.histogram ? 'histogram' : 'waveform',
    sample_rate: u16be(content, h.sampleRate),
    total_samples: u32be(content, h.totalSamples),
    pretrigger_samples: u32be(content, h.pretriggerSamples),
    record_time_s: tidyFloat32(f32be(content, h.recordTime)),
    geo_range: content[h.geoRange] === 1 ? 'sensitive' : 'normal',
    serial: readAscii(content, h.serial, 8),
  };
}

export function encodeWaveformHeader(header: WaveformHeader): Uint8Array {
  if (header.kind === 'monitor_log') return encodeMonitorLog(header);
  const out = new Uint8Array(HEADER_LENGTH_FULL);
  const h = FULL_HEADER;
  if (header.timestamp) encodeTimestamp(header.timestamp, out, h.timestamp);
  out[h.recordType] = RECORD_TYPE_CODE[header.record_type];
  putU16be(out, h.sampleRate, header.sample_rate);
  putU32be(out, h.totalSamples, header.total_samples);
  putU32be(out, h.pretriggerSamples, header.pretrigger_samples);
  putF32be(out, h.recordTime, header.record_time_s);
  out[h.geoRange] = header.geo_range === 'sensitive' ? 1 : 0;
  writeAsciiField(out, h.serial, 8, header.serial, 'serial');
  return out;
}

// --- the monitor-log record ------------------------------------------------------------------------

const P = PARTIAL_HEADER;
const SERIAL_MARK = asciiBytes(P.serialMark);
const GEO_LABEL = asciiBytes(P.geoLabel);
/** The level's text: a decimal number, then the unit ("0.5 in/s", "1.250 in/s"). */
const GEO_LEVEL = new RegExp(`^ *(\\d+(?:\\.\\d+)?) *${P.geoUnit}`);

/** Start and stop share minutes and seconds: the record then has one byte between them (§10.4). */
function sharesMinuteSecond(a: string, b: string): boolean {
  return a.slice(14, 19) === b.slice(14, 19);
}

function decodeMonitorLog(c: Uint8Array): MonitorLogHeader {
  let stop = decodeTimestamp(c, P.stopTime);
  if (stop === null && c[P.stopTime] === P.gapByte) stop = decodeTimestamp(c, P.stopTimeAfterGap);
  // Neither "BE" nor "Geo: " can occur inside a timestamp (no field reaches 0x42), so the whole record is searched.
  const mark = indexOfBytes(c, SERIAL_MARK);
  const serial = mark < 0 ? null : /^[A-Za-z0-9]+/.exec(readAscii(c, mark, P.serialWidth))![0];
  const label = indexOfBytes(c, GEO_LABEL);
  const level = label < 0 ? null : GEO_LEVEL.exec(readAscii(c, label + GEO_LABEL.length, c.length));
  return {
    kind: 'monitor_log',
    start_time: decodeTimestamp(c, P.startTime),
    stop_time: stop,
    serial,
    trigger_level_ips: level ? Number(level[1]) : null,
  };
}

function encodeMonitorLog(header: MonitorLogHeader): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH_PARTIAL);
  const { start_time: start, stop_time: stop } = header;
  if (start) encodeTimestamp(start, out, P.startTime);
  const gap = start !== null && stop !== null && sharesMinuteSecond(start, stop);
  const stopAt = gap ? P.stopTimeAfterGap : P.stopTime;
  if (gap) out[P.stopTime] = P.gapByte;
  if (stop) encodeTimestamp(stop, out, stopAt);
  let at = stopAt + TIMESTAMP_LENGTH;
  if (header.serial !== null) {
    if (!header.serial.startsWith(P.serialMark)) throw new PayloadError(`a monitor-log record's serial starts with "${P.serialMark}" (it is found by it), got ${JSON.stringify(header.serial)}`);
    writeAsciiField(out, at, P.serialWidth, header.serial, 'serial');
  }
  at += P.serialWidth;
  if (header.trigger_level_ips !== null) {
    const text = `${P.geoLabel}${geoLevelText(header.trigger_level_ips)} ${P.geoUnit}`;
    writeAsciiField(out, at, HEADER_LENGTH_PARTIAL - at, text, 'trigger level');
  }
  return out;
}

/** The level as plain decimal text (never exponent form), as short as reads back the same. */
function geoLevelText(ips: number): string {
  if (!Number.isFinite(ips) || ips < 0 || ips >= 1e21) throw new PayloadError(`a trigger level must be a non-negative number, got ${ips}`);
  const text = String(ips);
  return /e/i.test(text) ? ips.toFixed(20).replace(/\.?0+$/, '') : text;
}
