/**
 * The checks a request to change a unit passes before anything is sent to it, built from the
 * shapes: the same for the HTTP routes, the CLI and the emulated unit's set-up.
 */
import type { CallHomeChanges, CallHomeConfig, ComplianceChangesInput } from '../model.js';
import { checkValue } from './check.js';
import * as S from './shapes.js';

/** The compliance fields to change, checked against what a unit can hold. */
export function checkComplianceChanges(changes: unknown, field = 'body'): ComplianceChangesInput {
  checkValue(field, S.ComplianceChanges, changes);
  return changes as ComplianceChangesInput;
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
