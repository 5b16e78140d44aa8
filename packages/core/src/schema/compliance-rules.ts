/**
 * What a unit's compliance setup can hold ACROSS fields. The single-field limits are the
 * ComplianceChanges shape's; these rules judge a whole setup — the unit's current one with a
 * write's changes applied — so a change of geo_range alone is refused when the trigger level set
 * on the unit does not fit the new range. Each rule says where its limit comes from.
 */
import { MAX_SAMPLES_PER_CHANNEL } from '../protocol/bulk-stream.js';
import { SAMPLE_RATES } from '../protocol/compliance-config.js';
import { geoFullScaleIps } from '../protocol/units.js';
import type { ComplianceChangesInput, GeoRangeName } from '../model.js';

export type ComplianceField = keyof ComplianceChangesInput;

/** A setup as far as it is known: a field the unit's block lacks is null, one not given is absent. */
export type KnownSetup = { [K in ComplianceField]?: ComplianceChangesInput[K] | null };

/** The longest record (s, to the hundredth below) whose samples at `sampleRate` the STRT record can count. */
export function longestRecordS(sampleRate: number): number {
  return Math.floor((MAX_SAMPLES_PER_CHANNEL / sampleRate) * 100) / 100;
}

interface Rule {
  /** The fields the rule reads; it is judged only when every one of them is known. */
  readonly fields: readonly ComplianceField[];
  /** The rule in words, with where its limit comes from (the OpenAPI document shows it). */
  readonly text: string;
  /**
   * Why `s` breaks the rule, said from `blame`'s side (a field the write changes); undefined when
   * it keeps the rule. `given(f)` says where the value of another field comes from.
   */
  broken(s: Required<KnownSetup>, blame: ComplianceField, given: (f: ComplianceField) => string): string | undefined;
}

const fullScale = (range: GeoRangeName | null) => geoFullScaleIps(range!);

/** A geophone level (trigger or alarm) is at most the full scale of the range it is measured in. */
const withinRange = (level: 'trigger_level_ips' | 'alarm_level_ips'): Rule => ({
  fields: [level, 'geo_range'],
  text: `${level} is at most the geo_range's full scale (normal 10 in/s, sensitive 1.25 in/s; protocol.md §8.2): a level above it can never be measured`,
  broken(s, blame, given) {
    const v = s[level]!;
    const range = s.geo_range!;
    const fs = fullScale(range);
    if (v <= fs) return undefined;
    return blame === level
      ? `${v} exceeds the ${range} range's full scale of ${fs} in/s${given('geo_range')}`
      : `the ${range} range's full scale of ${fs} in/s is below ${level} ${v}${given(level)}; lower it in the same write`;
  },
});

const RULES: readonly Rule[] = [
  withinRange('trigger_level_ips'),
  withinRange('alarm_level_ips'),
  {
    fields: ['alarm_level_ips', 'trigger_level_ips'],
    text: 'alarm_level_ips is at least trigger_level_ips ([sfm] the notes give no rule; every captured geophone setup keeps it. The microphone levels are not held to it: a captured setup has its alarm below its trigger)',
    broken(s, blame, given) {
      const alarm = s.alarm_level_ips!;
      const trigger = s.trigger_level_ips!;
      if (alarm >= trigger) return undefined;
      return blame === 'alarm_level_ips'
        ? `${alarm} is below trigger_level_ips ${trigger}${given('trigger_level_ips')}; the alarm level must be at least the trigger level`
        : `${trigger} is above alarm_level_ips ${alarm}${given('alarm_level_ips')}; the trigger level must be at most the alarm level`;
    },
  },
  {
    fields: ['record_time_s', 'sample_rate'],
    text: `record_time_s × sample_rate is at most ${MAX_SAMPLES_PER_CHANNEL} samples per channel, what the STRT record can count (protocol.md §12.4; the notes give no record-time limit of their own): at most ${SAMPLE_RATES.map((r) => `${longestRecordS(r)} s at ${r} Sa/s`).join(', ')}`,
    broken(s, blame, given) {
      const seconds = s.record_time_s!;
      const rate = s.sample_rate!;
      const longest = longestRecordS(rate);
      if (seconds <= longest) return undefined;
      const why = `an event counts at most ${MAX_SAMPLES_PER_CHANNEL} samples per channel`;
      return blame === 'record_time_s'
        ? `${seconds} s is longer than a record at ${rate} Sa/s can be: at most ${longest} s (${why})${given('sample_rate')}`
        : `at ${rate} Sa/s a record can be at most ${longest} s (${why}), and record_time_s is ${seconds} s${given('record_time_s')}; shorten it in the same write`;
    },
  },
];

/** The rules in words, one line each. */
export const COMPLIANCE_RULE_TEXTS: readonly string[] = RULES.map((r) => r.text);

/**
 * Judges `setup` by every rule that reads a field of `changed` and whose fields are all known;
 * throws InvalidInput naming the changed field. `field` names the whole value as checkValue does
 * ('body': fields alone; '' too; otherwise `field.x`). `onUnit` lists the fields whose values are
 * the unit's, not the caller's (messages say so).
 */
export function brokenComplianceRule(
  setup: KnownSetup,
  changed: readonly ComplianceField[],
  onUnit: ReadonlySet<ComplianceField> = new Set(),
): { field: ComplianceField; why: string } | undefined {
  const given = (f: ComplianceField) => (onUnit.has(f) ? ` (${f} as set on the unit)` : '');
  for (const rule of RULES) {
    const blame = rule.fields.find((f) => changed.includes(f));
    if (blame === undefined || rule.fields.some((f) => setup[f] === undefined || setup[f] === null)) continue;
    const why = rule.broken(setup as Required<KnownSetup>, blame, given);
    if (why !== undefined) return { field: blame, why };
  }
  return undefined;
}
