/** KEY=VALUE arguments of `config set` and `call-home set`, typed by what each field takes. */
import { UsageError } from './io.js';

export type FieldKind = 'number' | 'integer' | 'boolean' | 'string';

export function parseAssignments(pairs: string[], fields: Record<string, FieldKind>): Record<string, unknown> {
  if (pairs.length === 0) throw new UsageError(`give at least one KEY=VALUE (keys: ${Object.keys(fields).join(', ')})`);
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`expected KEY=VALUE, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1);
    const kind = fields[key];
    if (!kind) throw new UsageError(`unknown key ${JSON.stringify(key)} (keys: ${Object.keys(fields).join(', ')})`);
    out[key] = parseValue(key, raw, kind);
  }
  return out;
}

function parseValue(key: string, raw: string, kind: FieldKind): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'boolean':
      if (/^(true|yes|on|1)$/i.test(raw)) return true;
      if (/^(false|no|off|0)$/i.test(raw)) return false;
      throw new UsageError(`${key}: expected true or false, got ${JSON.stringify(raw)}`);
    case 'number':
    case 'integer': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (kind === 'integer' && !Number.isInteger(n))) {
        throw new UsageError(`${key}: expected ${kind === 'integer' ? 'a whole number' : 'a number'}, got ${JSON.stringify(raw)}`);
      }
      return n;
    }
  }
}

/** Turns {"time1.hour": 6} into {time1: {hour: 6}}. */
export function nest(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(flat)) {
    const [head, tail] = k.split('.', 2) as [string, string | undefined];
    if (tail === undefined) out[head] = val;
    else out[head] = { ...(out[head] as object | undefined), [tail]: val };
  }
  return out;
}
