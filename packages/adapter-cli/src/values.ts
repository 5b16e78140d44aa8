/**
 * KEY=VALUE arguments of `config set` and `call-home set`, parsed and checked by the same shape the
 * HTTP body is (ComplianceChanges, CallHomeChanges): `time1.hour=6` names a nested field.
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import { parseText } from '@sfm/core/schema';
import { UsageError } from './io.js';

/** Every settable key of a shape, dotted for nested objects, with its schema. */
export function fieldsOf(shape: TObject, prefix = ''): Map<string, TSchema> {
  const out = new Map<string, TSchema>();
  for (const [k, s] of Object.entries(shape.properties) as [string, TSchema & { type?: string; properties?: unknown }][]) {
    if (s.type === 'object' && s.properties) for (const [nk, ns] of fieldsOf(s as unknown as TObject, `${prefix}${k}.`)) out.set(nk, ns);
    else out.set(`${prefix}${k}`, s);
  }
  return out;
}

export function parseAssignments(pairs: string[], shape: TObject): Record<string, unknown> {
  const fields = fieldsOf(shape);
  const keys = [...fields.keys()].join(', ');
  if (pairs.length === 0) throw new UsageError(`give at least one KEY=VALUE (keys: ${keys})`);
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`expected KEY=VALUE, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq).trim();
    const schema = fields.get(key);
    if (!schema) throw new UsageError(`unknown key ${JSON.stringify(key)} (keys: ${keys})`);
    const [head, tail] = key.split('.', 2) as [string, string | undefined];
    const value = parseText(key, schema, pair.slice(eq + 1), { looseBooleans: true });
    if (tail === undefined) out[head] = value;
    else out[head] = { ...(out[head] as object | undefined), [tail]: value };
  }
  return out;
}
