/**
 * The checks a request to change a unit passes before anything is sent to it, built from the
 * shapes: the same for the HTTP routes, the CLI and the emulated unit's set-up.
 */
import { InvalidInput } from '../errors.js';
import type { CallHomeChanges, CallHomeConfig, ComplianceChangesInput, ComplianceConfig } from '../model.js';
import { checkValue } from './check.js';
import { brokenComplianceRule, type ComplianceField, type KnownSetup } from './compliance-rules.js';
import * as S from './shapes.js';

const fieldName = (whole: string, f: string) => (whole === 'body' || whole === '' ? f : `${whole}.${f}`);
const changedFields = (changes: ComplianceChangesInput) => (Object.keys(changes) as ComplianceField[]).filter((k) => changes[k] !== undefined);

/**
 * The compliance fields to change, checked against what a unit can hold: each field's limits, and
 * the rules across fields among the fields given (compliance-rules.ts). Rules that also read a
 * field the unit holds are judged by checkComplianceWrite once the unit's setup is read.
 */
export function checkComplianceChanges(changes: unknown, field = 'body'): ComplianceChangesInput {
  checkValue(field, S.ComplianceChanges, changes);
  const c = changes as ComplianceChangesInput;
  const broken = brokenComplianceRule(c as KnownSetup, changedFields(c));
  if (broken) throw new InvalidInput(fieldName(field, broken.field), broken.why);
  return c;
}

/**
 * A compliance write judged as a whole: the unit's `current` setup with `changes` applied must
 * keep every rule across fields that a changed field takes part in (a field the unit's block
 * lacks is not judged). Throws InvalidInput before anything is written.
 */
export function checkComplianceWrite(current: ComplianceConfig, changes: ComplianceChangesInput, field = 'body'): void {
  const changed = changedFields(changes);
  const onUnit = new Set((Object.keys(current) as ComplianceField[]).filter((k) => !changed.includes(k)));
  const merged: KnownSetup = { ...current, ...Object.fromEntries(changed.map((k) => [k, changes[k]])) };
  const broken = brokenComplianceRule(merged, changed, onUnit);
  if (broken) throw new InvalidInput(fieldName(field, broken.field), broken.why);
}

export function checkCallHomeChanges(changes: unknown, field = 'body'): CallHomeChanges {
  checkValue(field, S.CallHomeChanges, changes);
  return changes as CallHomeChanges;
}

/** A whole call-home block as it will be written. */
export function checkCallHome(cfg: unknown, field = 'body'): CallHomeConfig {
  checkValue(field, S.CallHomeConfig, cfg);
  return cfg as CallHomeConfig;
}
