/**
 * The SUB command table (protocol.md §4–§5): one row per request SUB with its response SUB,
 * data length and frame style. The response SUB is always 0xFF − request SUB; the codes collide
 * across directions (0x69 is both "waveform-data write" and the reply to 0x96), so every lookup
 * names its direction.
 */

/** How the host frames a request: read (all 0x10 doubled), write (only CMD doubled), bulk (5A). */
export type FrameStyle = 'read' | 'write' | 'bulk';

export interface SubInfo {
  readonly request: number;
  readonly response: number;
  readonly name: string;
  /** Content bytes a data request returns; null when not a two-step read; 'variable' for 0A. */
  readonly dataLength: number | 'variable' | null;
  readonly style: FrameStyle;
  /** Which way the content travels: a read's reply carries it to the host, a write's request to the unit. */
  readonly dataFlow: 'device-to-host' | 'host-to-device' | 'none';
  readonly purpose: string;
}

export const SUB = {
  POLL: 0x5b,
  SERIAL_NUMBER: 0x15,
  FULL_CONFIG: 0x01,
  STORAGE_RANGE: 0x06,
  EVENT_INDEX: 0x08,
  WAVEFORM_DATA_BLOCK: 0x09,
  WAVEFORM_HEADER: 0x0a,
  WAVEFORM_RECORD: 0x0c,
  COMPLIANCE_CONFIG: 0x1a,
  MONITOR_STATUS: 0x1c,
  FIRST_EVENT_KEY: 0x1e,
  NEXT_EVENT_KEY: 0x1f,
  CALL_HOME_CONFIG: 0x2c,
  UNKNOWN_SHORT_READ: 0x2e,
  BULK_WAVEFORM: 0x5a,
  EVENT_INDEX_WRITE: 0x68,
  WAVEFORM_DATA_WRITE: 0x69,
  COMPLIANCE_WRITE: 0x71,
  WRITE_CONFIRM_A: 0x72,
  WRITE_CONFIRM_B: 0x73,
  WRITE_CONFIRM_C: 0x74,
  CALL_HOME_WRITE: 0x7e,
  CALL_HOME_CONFIRM: 0x7f,
  TRIGGER_CONFIG_WRITE: 0x82,
  TRIGGER_CONFIG_CONFIRM: 0x83,
  START_MONITORING: 0x96,
  STOP_MONITORING: 0x97,
  ERASE_CONFIRM: 0xa2,
  ERASE_BEGIN: 0xa3,
} as const;

export function responseSubFor(requestSub: number): number {
  return 0xff - requestSub;
}
export function requestSubFor(responseSub: number): number {
  return 0xff - responseSub;
}

const rows: SubInfo[] = [
  row(SUB.POLL, 'poll', 0x0a, 'read', 'POLL / start-up handshake (content [sfm])'),
  row(SUB.SERIAL_NUMBER, 'serial-number', 0x0a, 'read', 'serial number and firmware minor'),
  row(SUB.FULL_CONFIG, 'full-config', 0x98, 'read', 'firmware, DSP version, calibration date'),
  row(SUB.STORAGE_RANGE, 'storage-range', 0x24, 'read', 'first and last event key'),
  row(SUB.EVENT_INDEX, 'event-index', 0x58, 'read', 'event count, backlight, power save'),
  row(SUB.WAVEFORM_DATA_BLOCK, 'waveform-data-block', 0xca, 'read', 'read twin of the 69 write block'),
  row(SUB.WAVEFORM_HEADER, 'waveform-header', 'variable', 'read', 'event header, full (0x46) or monitor-log (0x2C)'),
  row(SUB.WAVEFORM_RECORD, 'waveform-record', 0xd2, 'read', 'timestamp, record type, peaks'),
  row(SUB.COMPLIANCE_CONFIG, 'compliance-config', 0x082a, 'read', 'compliance setup, read in three pages'),
  row(SUB.MONITOR_STATUS, 'monitor-status', 0x2c, 'read', 'monitoring flag, battery, memory, clock'),
  row(SUB.FIRST_EVENT_KEY, 'first-event-key', 0x08, 'read', 'first event key; token FE arms 5A'),
  row(SUB.NEXT_EVENT_KEY, 'next-event-key', 0x08, 'read', 'next event key; all-zero key ends the list'),
  row(SUB.CALL_HOME_CONFIG, 'call-home-config', 0x7c, 'read', 'auto-call-home settings'),
  row(SUB.UNKNOWN_SHORT_READ, 'unknown-short-read', 0x1a, 'read', 'meaning unknown'),
  row(SUB.BULK_WAVEFORM, 'bulk-waveform', null, 'bulk', 'waveform stream: probe, pages, chunks, TERM'),
  row(SUB.EVENT_INDEX_WRITE, 'event-index-write', null, 'write', 'writes the 88-byte event index block'),
  row(SUB.WAVEFORM_DATA_WRITE, 'waveform-data-write', null, 'write', 'writes the 202-byte 09 block'),
  row(SUB.COMPLIANCE_WRITE, 'compliance-write', null, 'write', 'writes one compliance page'),
  row(SUB.WRITE_CONFIRM_A, 'write-confirm-a', null, 'write', 'after 71×3 and at the end'),
  row(SUB.WRITE_CONFIRM_B, 'write-confirm-b', null, 'write', 'after 68'),
  row(SUB.WRITE_CONFIRM_C, 'write-confirm-c', null, 'write', 'after 69'),
  row(SUB.CALL_HOME_WRITE, 'call-home-write', null, 'write', 'writes the call-home block'),
  row(SUB.CALL_HOME_CONFIRM, 'call-home-confirm', null, 'write', 'confirms the call-home write'),
  row(SUB.TRIGGER_CONFIG_WRITE, 'trigger-config-write', null, 'write', 'writes the 44-byte trigger block'),
  row(SUB.TRIGGER_CONFIG_CONFIRM, 'trigger-config-confirm', null, 'write', 'confirms the trigger write'),
  row(SUB.START_MONITORING, 'start-monitoring', null, 'read', 'starts monitoring (sensor check ~40 s)'),
  row(SUB.STOP_MONITORING, 'stop-monitoring', null, 'read', 'stops monitoring'),
  row(SUB.ERASE_CONFIRM, 'erase-confirm', null, 'read', 'second step of erase-all'),
  row(SUB.ERASE_BEGIN, 'erase-begin', null, 'read', 'first step of erase-all'),
];

function row(request: number, name: string, dataLength: SubInfo['dataLength'], style: FrameStyle, purpose: string): SubInfo {
  const dataFlow = style === 'write' ? (dataLength === null && /confirm/.test(name) ? 'none' : 'host-to-device') : dataLength === null && style === 'read' ? 'none' : 'device-to-host';
  return { request, response: responseSubFor(request), name, dataLength, style, dataFlow, purpose };
}

const byRequest = new Map(rows.map((r) => [r.request, r]));
const byResponse = new Map(rows.map((r) => [r.response, r]));

export const SUB_TABLE: readonly SubInfo[] = rows;

/** The row of a SUB as sent by the host; undefined for codes the protocol notes do not list. */
export function subInfoForRequest(sub: number): SubInfo | undefined {
  return byRequest.get(sub);
}
/** The row of a SUB as answered by the device. */
export function subInfoForResponse(sub: number): SubInfo | undefined {
  return byResponse.get(sub);
}
/** The frame style the host uses for a request SUB; unknown SUBs are read-style. */
export function frameStyleOf(requestSub: number): FrameStyle {
  return byRequest.get(requestSub)?.style ?? 'read';
}
