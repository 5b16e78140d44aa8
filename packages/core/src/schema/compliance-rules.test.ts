import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../errors.js';
import { MAX_SAMPLES_PER_CHANNEL } from '../protocol/bulk-stream.js';
import { SAMPLE_RATES } from '../protocol/compliance-config.js';
import type { ComplianceConfig } from '../model.js';
import { COMPLIANCE_RULE_TEXTS, longestRecordS } from './compliance-rules.js';
import { checkComplianceChanges, checkComplianceWrite } from './requests.js';
import { ComplianceChanges } from './shapes.js';

const unit = (over: Partial<ComplianceConfig> = {}): ComplianceConfig => ({
  recording_mode: 'single_shot', sample_rate: 1024, record_time_s: 3, histogram_interval_s: 300, geo_range: 'normal', geo_full_scale_ips: 10,
  trigger_level_ips: 2, alarm_level_ips: 4, mic_trigger_psi: 0.045, mic_alarm_psi: 0.021,
  project: null, client: null, operator: null, sensor_location: null, notes: null, ...over,
});

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    expect(e.code).toBe('INVALID_REQUEST');
    return e.message;
  }
}

describe('compliance rules across fields', () => {
  it('a request alone: judged among the fields it gives', () => {
    expect(refusal(() => checkComplianceChanges({ trigger_level_ips: 5, geo_range: 'sensitive' }))).toBe("trigger_level_ips: 5 exceeds the sensitive range's full scale of 1.25 in/s");
    expect(refusal(() => checkComplianceChanges({ alarm_level_ips: 2, geo_range: 'sensitive' }))).toBe("alarm_level_ips: 2 exceeds the sensitive range's full scale of 1.25 in/s");
    expect(refusal(() => checkComplianceChanges({ trigger_level_ips: 1, alarm_level_ips: 0.5 }))).toMatch(/^alarm_level_ips: 0.5 is below trigger_level_ips 1;/);
    expect(refusal(() => checkComplianceChanges({ record_time_s: 40, sample_rate: 2048 }))).toMatch(/^record_time_s: 40 s is longer than a record at 2048 Sa\/s can be: at most 31.99 s/);
    // Named inside a larger value as checkValue names its fields.
    expect(refusal(() => checkComplianceChanges({ trigger_level_ips: 5, geo_range: 'sensitive' }, 'compliance'))).toMatch(/^compliance\.trigger_level_ips: /);
    // Fields it does not give are not judged yet.
    expect(refusal(() => checkComplianceChanges({ geo_range: 'sensitive' }))).toBeUndefined();
    expect(refusal(() => checkComplianceChanges({ alarm_level_ips: 0.1 }))).toBeUndefined();
  });

  it("a write: judged on the unit's setup with the changes applied", () => {
    expect(refusal(() => checkComplianceWrite(unit(), { geo_range: 'sensitive' }))).toMatch(/^geo_range: the sensitive range's full scale of 1.25 in\/s is below trigger_level_ips 2 \(trigger_level_ips as set on the unit\)/);
    expect(refusal(() => checkComplianceWrite(unit({ trigger_level_ips: 1 }), { geo_range: 'sensitive' }))).toMatch(/^geo_range: .* below alarm_level_ips 4/);
    expect(refusal(() => checkComplianceWrite(unit(), { alarm_level_ips: 1.5 }))).toMatch(/^alarm_level_ips: 1.5 is below trigger_level_ips 2 \(trigger_level_ips as set on the unit\)/);
    expect(refusal(() => checkComplianceWrite(unit(), { trigger_level_ips: 5 }))).toMatch(/^trigger_level_ips: 5 is above alarm_level_ips 4 \(alarm_level_ips as set on the unit\)/);
    expect(refusal(() => checkComplianceWrite(unit({ record_time_s: 20 }), { sample_rate: 4096 }))).toMatch(/^sample_rate: at 4096 Sa\/s a record can be at most 15.99 s/);
    expect(refusal(() => checkComplianceWrite(unit(), { geo_range: 'sensitive', trigger_level_ips: 1, alarm_level_ips: 1.25 }))).toBeUndefined();
  });

  it('the limits themselves are allowed: a level at full scale, an alarm equal to the trigger, the longest record', () => {
    expect(refusal(() => checkComplianceWrite(unit(), { geo_range: 'sensitive', trigger_level_ips: 1.25, alarm_level_ips: 1.25 }))).toBeUndefined();
    for (const rate of SAMPLE_RATES) {
      const longest = longestRecordS(rate);
      expect(Math.round(longest * rate)).toBeLessThanOrEqual(MAX_SAMPLES_PER_CHANNEL);
      expect(Math.round((longest + 0.01) * rate)).toBeGreaterThan(MAX_SAMPLES_PER_CHANNEL);
      expect(refusal(() => checkComplianceWrite(unit(), { sample_rate: rate, record_time_s: longest }))).toBeUndefined();
      expect(refusal(() => checkComplianceWrite(unit(), { sample_rate: rate, record_time_s: longest + 0.01 }))).toMatch(/^record_time_s: /);
    }
  });

  it("a change that touches no rule's field passes on a unit already outside the rules; unknown fields are not judged", () => {
    const odd = unit({ geo_range: 'sensitive', trigger_level_ips: 5, alarm_level_ips: 1 });
    expect(refusal(() => checkComplianceWrite(odd, { project: 'Dam survey', mic_trigger_psi: 0.05 }))).toBeUndefined();
    // The microphone keeps no alarm-over-trigger rule: a captured setup has its alarm below its trigger.
    expect(refusal(() => checkComplianceWrite(unit(), { mic_alarm_psi: 0.001 }))).toBeUndefined();
    expect(refusal(() => checkComplianceWrite(unit({ trigger_level_ips: null }), { geo_range: 'sensitive', alarm_level_ips: 1 }))).toBeUndefined();
    expect(refusal(() => checkComplianceWrite(unit({ sample_rate: null }), { record_time_s: 60 }))).toBeUndefined();
  });

  it('the single-field limits are the loosest the rules allow, and the request shape names every rule', () => {
    expect(refusal(() => checkComplianceChanges({ record_time_s: 64 }))).toBe('record_time_s: must be a number from 0.25 to 63.99, got 64');
    expect(refusal(() => checkComplianceChanges({ trigger_level_ips: 10.5 }))).toBe('trigger_level_ips: must be a number from 0.005 to 10, got 10.5');
    expect(COMPLIANCE_RULE_TEXTS).toHaveLength(4);
    for (const text of COMPLIANCE_RULE_TEXTS) expect(ComplianceChanges.description).toContain(text);
  });
});
