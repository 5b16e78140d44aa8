/**
 * SUB 01 → FE full config (152 bytes, protocol.md §7.2). It carries the firmware version, the DSP
 * version and the calibration date, at offsets that are not public: sfm's are in conventions.ts.
 */
import { readAscii, writeAsciiField } from './bytes.js';
import { FULL_CONFIG } from './conventions.js';
import { requireLength } from './errors.js';
import { decodeTimestamp, encodeTimestamp } from './timestamp.js';

export const FULL_CONFIG_LENGTH = 0x98;

export interface FullConfig {
  firmware: string | null;
  dsp_version: string | null;
  calibration_date: string | null;
}

export function decodeFullConfig(content: Uint8Array): FullConfig {
  requireLength(content, FULL_CONFIG_LENGTH, 'full-config block');
  const firmware = readAscii(content, FULL_CONFIG.firmware.offset, FULL_CONFIG.firmware.width);
  const dsp = readAscii(content, FULL_CONFIG.dspVersion.offset, FULL_CONFIG.dspVersion.width);
  const cal = decodeTimestamp(content, FULL_CONFIG.calibrationDate.offset);
  return { firmware: firmware || null, dsp_version: dsp || null, calibration_date: cal ? cal.slice(0, 10) : null };
}

export function encodeFullConfig(cfg: FullConfig): Uint8Array {
  const out = new Uint8Array(FULL_CONFIG_LENGTH);
  writeAsciiField(out, FULL_CONFIG.firmware.offset, FULL_CONFIG.firmware.width, cfg.firmware ?? '', 'firmware');
  writeAsciiField(out, FULL_CONFIG.dspVersion.offset, FULL_CONFIG.dspVersion.width, cfg.dsp_version ?? '', 'dsp_version');
  if (cfg.calibration_date) encodeTimestamp(`${cfg.calibration_date}T00:00:00`, out, FULL_CONFIG.calibrationDate.offset);
  return out;
}
