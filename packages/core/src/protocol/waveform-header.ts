/**
 * SUB 0A → F5 waveform/record header (protocol.md §10.4, §22). Its length is variable: the probe
 * reply says it at data[4] — 0x46 for a full event, 0x2C for a monitor-log (partial) record.
 * The content layout is sfm's ([sfm], conventions.ts); the monitor-log record follows what is
 * known of it: start and stop times, the serial ("BE…") and "Geo: " with the trigger level.
 */
import { asciiBytes, f32be, putF32be, putU16be, putU32be, readAscii, tidyFloat32, u16be, u32be, writeAsciiField } from './bytes.js';
import { FULL_HEADER, HEADER_LENGTH_FULL, HEADER_LENGTH_PARTIAL, PARTIAL_HEADER, RECORD_TYPE_CODE } from './conventions.js';
import { PayloadError, requireLength } from './errors.js';
import { decodeTimestamp, encodeTimestamp } from './timestamp.js';
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

export interface MonitorLogHeader {
  kind: 'monitor_log';
  start_time: string | null;
  stop_time: string | null;
  serial: string;
  geo_trigger_ips: number | null;
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
    const geo = readAscii(content, PARTIAL_HEADER.geoLabel, 5) === 'Geo: ' ? tidyFloat32(f32be(content, PARTIAL_HEADER.geoTrigger)) : null;
    return {
      kind: 'monitor_log',
      start_time: decodeTimestamp(content, PARTIAL_HEADER.startTime),
      stop_time: decodeTimestamp(content, PARTIAL_HEADER.stopTime),
      serial: readAscii(content, PARTIAL_HEADER.serial, 8),
      geo_trigger_ips: geo,
    };
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
  if (header.kind === 'monitor_log') {
    const out = new Uint8Array(HEADER_LENGTH_PARTIAL);
    if (header.start_time) encodeTimestamp(header.start_time, out, PARTIAL_HEADER.startTime);
    if (header.stop_time) encodeTimestamp(header.stop_time, out, PARTIAL_HEADER.stopTime);
    writeAsciiField(out, PARTIAL_HEADER.serial, 8, header.serial, 'serial');
    if (header.geo_trigger_ips !== null) {
      out.set(asciiBytes('Geo: '), PARTIAL_HEADER.geoLabel);
      putF32be(out, PARTIAL_HEADER.geoTrigger, header.geo_trigger_ips);
    }
    return out;
  }
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
