/**
 * SUB 1A → E5 compliance config (2090 logical bytes, protocol.md §8). Fields are found, not
 * assumed: the recording block by its anchor `BE 80 00 00 00 00`, channel blocks by their labels.
 * In logical (un-escaped) bytes the block before the anchor is
 *   [recording_mode][sample_rate u16][histogram_interval u16][00 00][anchor][record_time f32]
 * and each channel block is
 *   [00 00][max_range f32][00 00][trigger f32]["in.\0"][alarm f32]["/s\0\0"][00 01][label]
 * with geo_range at label+33 and the hardware constant 6.206053 at label+28 (never written).
 * A partial write changes only the named fields of the block read from the unit.
 */
import { asciiBytes, f32be, indexOfBytes, putF32be, putU16be, tidyFloat32, u16be } from './bytes.js';
import { COMPLIANCE_LAYOUT, COMPLIANCE_LENGTH } from './conventions.js';
import { PayloadError, requireLength } from './errors.js';
import { decodeTextFields, encodeTextFields, patchTextField, textFieldWidth, type TextField } from './text-fields.js';
import { geoFullScaleIps } from './units.js';
import type { ComplianceChangesInput, ComplianceConfig, GeoRangeName, RecordingMode } from '../model.js';

export { COMPLIANCE_LENGTH };
export const ANCHOR = [0xbe, 0x80, 0x00, 0x00, 0x00, 0x00] as const;
export const INVERSE_SENSITIVITY = 6.206053;

/** Recording mode codes at anchor − 7 (protocol.md §8.2). */
export const MODE_CODES: Record<RecordingMode, number> = { single_shot: 0, continuous: 1, histogram: 3, histogram_continuous: 4 };
const MODE_NAMES = new Map(Object.entries(MODE_CODES).map(([k, v]) => [v, k as RecordingMode]));
export const SAMPLE_RATES = [1024, 2048, 4096] as const;
const GEO_LABELS = ['Tran', 'Vert', 'Long'] as const;
type ChannelLabel = (typeof GEO_LABELS)[number] | 'MicL';

/** The settings a full block is built from (the emulator's side): every field known. */
export type ComplianceSettings = { [K in keyof ComplianceConfig]: NonNullable<ComplianceConfig[K]> };

/** What a partial write may change (its limits are the ComplianceChanges shape's; the caller checks them). */
export type ComplianceChanges = ComplianceChangesInput;

function findAnchor(b: Uint8Array): number {
  const a = indexOfBytes(b, ANCHOR);
  return a >= 7 && a + 10 <= b.length ? a : -1;
}

/** A channel label followed by a non-alphanumeric byte ("Tran", not "Tran2"), with its block before it. */
function findLabel(b: Uint8Array, label: ChannelLabel): number {
  const needle = asciiBytes(label);
  let from = 0;
  for (;;) {
    const at = indexOfBytes(b, needle, from);
    if (at < 0) return -1;
    const next = b[at + 4] ?? 0;
    const alnum = (next >= 0x30 && next <= 0x39) || (next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a);
    if (!alnum && at >= 26 && at + 34 <= b.length) return at;
    from = at + 1;
  }
}

function float(b: Uint8Array, o: number): number | null {
  const v = f32be(b, o);
  return Number.isFinite(v) ? tidyFloat32(v) : null;
}

export function decodeComplianceConfig(content: Uint8Array): ComplianceConfig {
  requireLength(content, 16, 'compliance block');
  const cfg: ComplianceConfig = {
    recording_mode: null, sample_rate: null, record_time_s: null, histogram_interval_s: null,
    geo_range: null, geo_full_scale_ips: null, trigger_level_ips: null, alarm_level_ips: null,
    mic_trigger_psi: null, mic_alarm_psi: null, ...decodeTextFields(content),
  };
  const a = findAnchor(content);
  if (a >= 0) {
    cfg.recording_mode = MODE_NAMES.get(content[a - 7]!) ?? null;
    cfg.sample_rate = u16be(content, a - 6);
    cfg.histogram_interval_s = u16be(content, a - 4);
    cfg.record_time_s = float(content, a + 6);
  }
  const tran = findLabel(content, 'Tran');
  if (tran >= 0) {
    cfg.trigger_level_ips = float(content, tran - 18);
    cfg.alarm_level_ips = float(content, tran - 10);
    const range = content[tran + 33];
    cfg.geo_range = range === 0 ? 'normal' : range === 1 ? 'sensitive' : null;
    cfg.geo_full_scale_ips = cfg.geo_range ? geoFullScaleIps(cfg.geo_range) : null;
  }
  const mic = findLabel(content, 'MicL');
  if (mic >= 0) {
    cfg.mic_trigger_psi = float(content, mic - 18);
    cfg.mic_alarm_psi = float(content, mic - 10);
  }
  return cfg;
}

/** Returns a copy of the unit's block with only `changes` applied. */
export function patchComplianceConfig(raw: Uint8Array, changes: ComplianceChanges): Uint8Array {
  const b = raw.slice();
  const anchorFields = ['recording_mode', 'sample_rate', 'histogram_interval_s', 'record_time_s'] as const;
  if (anchorFields.some((k) => changes[k] !== undefined)) {
    const a = findAnchor(b);
    if (a < 0) throw new PayloadError('the unit\'s compliance block has no recording-setup anchor; cannot write recording fields');
    if (changes.recording_mode !== undefined) b[a - 7] = MODE_CODES[changes.recording_mode];
    if (changes.sample_rate !== undefined) putU16be(b, a - 6, changes.sample_rate);
    if (changes.histogram_interval_s !== undefined) putU16be(b, a - 4, changes.histogram_interval_s);
    if (changes.record_time_s !== undefined) putF32be(b, a + 6, changes.record_time_s);
  }
  const geoFields = changes.trigger_level_ips ?? changes.alarm_level_ips ?? changes.geo_range;
  if (geoFields !== undefined) {
    for (const label of GEO_LABELS) {
      const l = findLabel(b, label);
      if (l < 0) throw new PayloadError(`the unit's compliance block has no ${label} channel block`);
      if (changes.trigger_level_ips !== undefined) putF32be(b, l - 18, changes.trigger_level_ips);
      if (changes.alarm_level_ips !== undefined) putF32be(b, l - 10, changes.alarm_level_ips);
      if (changes.geo_range !== undefined) b[l + 33] = changes.geo_range === 'sensitive' ? 1 : 0;
    }
  }
  if (changes.mic_trigger_psi !== undefined || changes.mic_alarm_psi !== undefined) {
    const l = findLabel(b, 'MicL');
    if (l < 0) throw new PayloadError('the unit\'s compliance block has no MicL channel block');
    if (changes.mic_trigger_psi !== undefined) putF32be(b, l - 18, changes.mic_trigger_psi);
    if (changes.mic_alarm_psi !== undefined) putF32be(b, l - 10, changes.mic_alarm_psi);
  }
  for (const f of ['project', 'client', 'operator', 'sensor_location', 'notes'] as const satisfies readonly TextField[]) {
    const v = changes[f];
    if (v !== undefined) patchTextField(b, f, v);
  }
  return b;
}

function writeChannelBlock(b: Uint8Array, base: number, label: ChannelLabel, maxRange: number, trigger: number, alarm: number, geoRange: GeoRangeName | null): void {
  const mic = label === 'MicL';
  putF32be(b, base + 2, maxRange);
  putF32be(b, base + 8, trigger);
  b.set(asciiBytes(mic ? 'psi' : 'in.'), base + 12);
  putF32be(b, base + 16, alarm);
  if (!mic) b.set(asciiBytes('/s'), base + 20);
  b[base + 25] = 0x01;
  const l = base + 26;
  b.set(asciiBytes(label), l);
  b[l + 20] = 0x01;
  if (!mic) {
    putF32be(b, l + 28, INVERSE_SENSITIVITY);
    b[l + 33] = geoRange === 'sensitive' ? 1 : 0;
  }
}

/** Builds a whole block from settings (the emulator's side). */
export function encodeComplianceConfig(s: ComplianceSettings): Uint8Array {
  const b = new Uint8Array(COMPLIANCE_LENGTH);
  const r = COMPLIANCE_LAYOUT.recordingBlock;
  b[r] = MODE_CODES[s.recording_mode];
  putU16be(b, r + 1, s.sample_rate);
  putU16be(b, r + 3, s.histogram_interval_s);
  b.set(ANCHOR, r + 7);
  putF32be(b, r + 13, s.record_time_s);
  const fullScale = geoFullScaleIps(s.geo_range);
  for (const label of GEO_LABELS) {
    writeChannelBlock(b, COMPLIANCE_LAYOUT.channelBlocks[label], label, fullScale, s.trigger_level_ips, s.alarm_level_ips, s.geo_range);
  }
  writeChannelBlock(b, COMPLIANCE_LAYOUT.channelBlocks.MicL, 'MicL', 1.0, s.mic_trigger_psi, s.mic_alarm_psi, null);
  encodeTextFields(b, COMPLIANCE_LAYOUT.text, s);
  return b;
}
