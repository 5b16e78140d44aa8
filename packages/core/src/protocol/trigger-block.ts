/**
 * [sfm] The 44-byte trigger-config block a config write sends with SUB 82 (protocol.md §15, §22:
 * its real layout is unknown). sfm builds it from the compliance settings it just wrote.
 */
import { putF32be, putU16be } from './bytes.js';
import { TRIGGER_BLOCK } from './conventions.js';
import { MODE_CODES } from './compliance-config.js';
import type { ComplianceConfig } from '../model.js';

export function encodeTriggerBlock(c: ComplianceConfig): Uint8Array {
  const t = TRIGGER_BLOCK;
  const out = new Uint8Array(t.length);
  const geo = c.trigger_level_ips ?? 0;
  putF32be(out, t.tranTrigger, geo);
  putF32be(out, t.vertTrigger, geo);
  putF32be(out, t.longTrigger, geo);
  putF32be(out, t.micTrigger, c.mic_trigger_psi ?? 0);
  putF32be(out, t.geoAlarm, c.alarm_level_ips ?? 0);
  putF32be(out, t.micAlarm, c.mic_alarm_psi ?? 0);
  putU16be(out, t.sampleRate, c.sample_rate ?? 0);
  out[t.recordingMode] = c.recording_mode ? MODE_CODES[c.recording_mode] : 0;
  return out;
}
