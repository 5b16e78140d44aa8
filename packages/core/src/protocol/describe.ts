/**
 * One JSON-ready description per frame, in the shape `sfm decode` prints (http-api.md):
 * direction, cmd, sub, offset, params_hex, data_hex, checksum, checksum_ok and, where the SUB
 * is known and the content is complete, `decoded` with the contract's field names. Every field is
 * on every line: a device reply has no offset word and no params (its data begins with their
 * echo), so those are null there, and it has its page word (payload[3:5]) instead.
 */
import { toHex } from './bytes.js';
import { decodeCallHome, CALL_HOME_LENGTH } from './call-home.js';
import { decodeComplianceConfig } from './compliance-config.js';
import { decodeEventIndex, EVENT_INDEX_LENGTH } from './event-index.js';
import { decodeEventKeyReply, keyFromBytes, keyToHex } from './event-key.js';
import { ECHO_LENGTH, type DeviceFrame, type Frame, type HostFrame } from './frames.js';
import { decodeFullConfig, FULL_CONFIG_LENGTH } from './full-config.js';
import { decodeMonitorStatus, MONITOR_STATUS_LENGTH } from './monitor-status.js';
import { decodeSerialNumber, SERIAL_BLOCK_LENGTH } from './serial-number.js';
import { decodeStorageRange, storageRangeView, STORAGE_RANGE_LENGTH } from './storage-range.js';
import { SUB, requestSubFor, subInfoForRequest, subInfoForResponse } from './sub-codes.js';
import { decodeWaveformHeader, HEADER_LENGTH_FULL, HEADER_LENGTH_PARTIAL } from './waveform-header.js';
import { decodeWaveformRecord, WAVEFORM_RECORD_LENGTH } from './waveform-record.js';
import { classifyBulkRequest, decodeProbeReply } from './bulk-stream.js';

export interface FrameDescription {
  direction: Frame['direction'];
  cmd: number;
  sub: number;
  name: string | null;
  /** The host's offset word (payload[4:6]); null on a device reply. */
  offset: number | null;
  /** Device replies only: payload[3:5], 0 in most replies, the request's offset word in A5 stream replies. */
  page?: number;
  /** The host's params (10; 10–12 for 5A); null on a device reply. */
  params_hex: string | null;
  data_hex: string;
  checksum: number;
  checksum_ok: boolean;
  decoded?: unknown;
}

export function describeFrame(frame: Frame): FrameDescription {
  if (frame.direction === 'host-to-device') return describeHost(frame);
  return describeDevice(frame);
}

function describeHost(f: HostFrame): FrameDescription {
  const d: FrameDescription = {
    direction: f.direction,
    cmd: f.cmd,
    sub: f.sub,
    name: subInfoForRequest(f.sub)?.name ?? null,
    offset: f.offset,
    params_hex: toHex(f.params),
    data_hex: toHex(f.data),
    checksum: f.checksum,
    checksum_ok: f.checksumOk,
  };
  const decoded = decodeHostRequest(f);
  if (decoded) d.decoded = decoded;
  return d;
}

function decodeHostRequest(f: HostFrame): Record<string, unknown> | undefined {
  if (f.sub === SUB.WAVEFORM_HEADER || f.sub === SUB.WAVEFORM_RECORD) {
    return { step: f.offset === 0 ? 'probe' : 'data', key: keyToHex(keyFromBytes(f.params, 4)) };
  }
  if (f.sub === SUB.BULK_WAVEFORM) {
    const r = classifyBulkRequest(f);
    return r.kind === 'page' ? { kind: r.kind, key_high: hex4(r.keyHigh), page: hex4(r.page) } : { kind: r.kind === 'chunk' ? 'probe-or-chunk' : r.kind, key_high: hex4(r.keyHigh), counter: hex4(r.counter) };
  }
  if (subInfoForRequest(f.sub)?.style === 'read') return { step: f.offset === 0 ? 'probe' : 'data', token: f.params[7] === 0xfe ? 'FE' : null };
  return undefined;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

function describeDevice(f: DeviceFrame): FrameDescription {
  const d: FrameDescription = {
    direction: f.direction,
    cmd: f.cmd,
    sub: f.sub,
    name: subInfoForResponse(f.sub)?.name ?? null,
    offset: null,
    page: f.page,
    params_hex: null,
    data_hex: toHex(f.data),
    checksum: f.checksum,
    checksum_ok: f.checksumOk,
  };
  if (f.checksumOk) {
    const decoded = decodeDeviceContent(f);
    if (decoded !== undefined) d.decoded = decoded;
  }
  return d;
}

/** The typed content of a reply, when its SUB is known and the content is all there. */
export function decodeDeviceContent(f: DeviceFrame): unknown {
  const content = f.data.subarray(Math.min(ECHO_LENGTH, f.data.length));
  const has = (n: number): boolean => content.length >= n;
  switch (requestSubFor(f.sub)) {
    case SUB.SERIAL_NUMBER:
      if (!has(SERIAL_BLOCK_LENGTH)) return undefined;
      {
        const s = decodeSerialNumber(content);
        return { serial: s.serial, firmware_minor: s.firmware_minor };
      }
    case SUB.FULL_CONFIG:
      return has(FULL_CONFIG_LENGTH) ? decodeFullConfig(content) : undefined;
    case SUB.COMPLIANCE_CONFIG:
      return has(16) ? decodeComplianceConfig(content) : undefined;
    case SUB.EVENT_INDEX:
      return has(EVENT_INDEX_LENGTH) ? decodeEventIndex(content) : undefined;
    case SUB.STORAGE_RANGE:
      return has(STORAGE_RANGE_LENGTH) ? storageRangeView(decodeStorageRange(content), null) : undefined; // the last key needs the walk
    case SUB.FIRST_EVENT_KEY:
    case SUB.NEXT_EVENT_KEY:
      if (!has(4)) return undefined;
      {
        const key = decodeEventKeyReply(content);
        return { key: keyToHex(key), end_of_list: key === 0 };
      }
    case SUB.WAVEFORM_HEADER: {
      const len = f.data[0];
      if (content.length === 0 && f.data.length > 4) return { header_length: f.data[4] };
      if ((len === HEADER_LENGTH_FULL || len === HEADER_LENGTH_PARTIAL) && has(len)) return decodeWaveformHeader(content, len);
      return undefined;
    }
    case SUB.WAVEFORM_RECORD:
      return has(WAVEFORM_RECORD_LENGTH) ? decodeWaveformRecord(content) : undefined;
    case SUB.MONITOR_STATUS:
      return has(MONITOR_STATUS_LENGTH) ? decodeMonitorStatus(content) : undefined;
    case SUB.CALL_HOME_CONFIG:
      return has(CALL_HOME_LENGTH) ? decodeCallHome(content) : undefined;
    case SUB.BULK_WAVEFORM:
      if (has(4) && content[0] === 0x53 && content[1] === 0x54 && content[2] === 0x52 && content[3] === 0x54 && has(21)) {
        return { strt: decodeProbeReply(content) };
      }
      return { content_bytes: content.length };
    default:
      return undefined;
  }
}
