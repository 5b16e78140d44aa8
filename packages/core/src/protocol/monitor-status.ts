/**
 * SUB 1C → E3 monitor status (44 logical bytes, protocol.md §14.1): monitoring flag at [1]
 * (0x10 when monitoring), the unit clock at [2:10], battery ×100 at [34:36], memory total and
 * free (u32) at [36:40] and [40:44]. The two 1995-dated fields at [16:32] are not understood;
 * the emulator reproduces the captured bytes.
 */
import { putU16be, putU32be, u16be, u32be } from './bytes.js';
import { requireLength } from './errors.js';
import { decodeTimestamp, encodeTimestamp } from './timestamp.js';
import type { MonitorStatus } from '../model.js';

export const MONITOR_STATUS_LENGTH = 0x2c;
export const MONITORING_FLAG = 0x10;
const CAPTURED_UNKNOWN_FIELDS = [
  [16, [0x01, 0x01, 0x07, 0xcb, 0x00, 0x06, 0x00, 0x00]],
  [24, [0x01, 0x01, 0x07, 0xcb, 0x00, 0x15, 0x00, 0x00]],
] as const;

export function decodeMonitorStatus(content: Uint8Array): MonitorStatus {
  requireLength(content, MONITOR_STATUS_LENGTH, 'monitor-status block');
  return {
    is_monitoring: content[1] !== 0,
    battery_v: u16be(content, 34) / 100,
    memory_total: u32be(content, 36),
    memory_free: u32be(content, 40),
    clock: decodeTimestamp(content, 2),
  };
}

export function encodeMonitorStatus(s: MonitorStatus): Uint8Array {
  const out = new Uint8Array(MONITOR_STATUS_LENGTH);
  out[1] = s.is_monitoring ? MONITORING_FLAG : 0;
  if (s.clock) encodeTimestamp(s.clock, out, 2);
  for (const [o, bytes] of CAPTURED_UNKNOWN_FIELDS) out.set(bytes, o);
  putU16be(out, 34, Math.round(s.battery_v * 100));
  putU32be(out, 36, s.memory_total >>> 0);
  putU32be(out, 40, s.memory_free >>> 0);
  return out;
}
