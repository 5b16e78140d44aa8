/**
 * Checking values against the shapes of schema/shapes.ts (TypeBox, i.e. JSON Schema), with
 * messages that name the field and say why — for request bodies, query and path parameters, CLI
 * KEY=VALUE pairs, configuration files and environment variables alike. JSON values are checked
 * as they are; text (parameters, flags, environment) is parsed by its schema first.
 *
 * The walker reads the JSON Schema keywords TypeBox emits (type, anyOf for nullable values and
 * enums, const, minimum/maximum, minLength/maxLength, pattern, properties/required,
 * additionalProperties, minProperties, items); `patternText` says in words what a pattern asks.
 */
import type { TSchema } from '@sinclair/typebox';
import { InvalidInput } from '../errors.js';

/** The JSON Schema keywords the walker reads. */
interface Js {
  type?: string;
  anyOf?: Js[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  patternText?: string;
  properties?: Record<string, Js>;
  /** A record's values, by the pattern its keys must match. */
  patternProperties?: Record<string, Js>;
  required?: string[];
  additionalProperties?: boolean | Js;
  minProperties?: number;
  items?: Js;
  description?: string;
}

const js = (s: TSchema): Js => s as unknown as Js;

/** JSON text of a value for a message, cut short so a huge input is not echoed whole. */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function fmt(n: number): string {
  return Number.isSafeInteger(n) || !Number.isInteger(n) ? String(n) : n.toExponential();
}

/** The schema without its null alternative, and whether null is allowed. */
function unwrapNull(s: Js): { schema: Js; nullable: boolean } {
  if (s.anyOf && s.anyOf.some((a) => a.type === 'null')) {
    const rest = s.anyOf.filter((a) => a.type !== 'null');
    return { schema: rest.length === 1 ? rest[0]! : { ...s, anyOf: rest }, nullable: true };
  }
  return { schema: s, nullable: false };
}

/** The allowed values of an enum-like schema (enum, const, or anyOf of consts), else undefined. */
function choicesOf(s: Js): unknown[] | undefined {
  if (s.enum) return s.enum;
  if (s.const !== undefined) return [s.const];
  if (s.anyOf && s.anyOf.every((a) => a.const !== undefined)) return s.anyOf.map((a) => a.const);
  return undefined;
}

/** The JSON type a schema asks for (from its choices when it is an enum). */
function typeOf(s: Js): string | undefined {
  if (s.type) return s.type;
  const choices = choicesOf(s);
  if (!choices) return undefined;
  const t = typeof choices[0];
  return t === 'number' ? (choices.every(Number.isInteger) ? 'integer' : 'number') : t;
}

/** What a schema asks for, in words: "a whole number from 1 to 65535", "one of json, csv". */
export function describeSchema(schema: TSchema): string {
  return describe(unwrapNull(js(schema)).schema);
}

function describe(s: Js): string {
  const choices = choicesOf(s);
  if (choices) return `one of ${choices.join(', ')}`;
  if (s.anyOf) return s.anyOf.map((alt) => (alt.const !== undefined ? JSON.stringify(alt.const) : describe(alt))).join(' or ');
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  switch (s.type) {
    case 'integer':
      if (s.minimum !== undefined && max !== undefined) return `${fmt(s.minimum)}–${fmt(max)} (a whole number)`;
      if (s.minimum !== undefined) return `a whole number ≥ ${fmt(s.minimum)}`;
      if (max !== undefined) return `a whole number ≤ ${fmt(max)}`;
      return 'a whole number';
    case 'number':
      if (s.minimum !== undefined && max !== undefined) return `a number from ${fmt(s.minimum)} to ${fmt(max)}`;
      if (s.minimum !== undefined) return `a number ≥ ${fmt(s.minimum)}`;
      if (max !== undefined) return `a number ≤ ${fmt(max)}`;
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'string':
      return s.patternText ?? 'text';
    case 'array':
      return 'a list';
    case 'object':
      return 'a JSON object';
    default:
      return 'a value';
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'text';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true/false';
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

// Control characters, lone surrogates and the like never belong in a parameter or a text field.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const patterns = new Map<string, RegExp>();

function regex(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) patterns.set(pattern, (re = new RegExp(pattern, 'u')));
  return re;
}

function checkString(field: string, s: Js, v: string): void {
  const len = [...v].length;
  if (s.minLength !== undefined && len < s.minLength) {
    throw new InvalidInput(field, s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters long`);
  }
  if (s.maxLength !== undefined && len > s.maxLength) throw new InvalidInput(field, `must be at most ${s.maxLength} characters long, got ${len}`);
  if (s.pattern !== undefined) {
    if (!regex(s.pattern).test(v)) throw new InvalidInput(field, `must be ${describe(s)}, got ${shown(v)}`);
  } else if (CONTROL.test(v)) {
    throw new InvalidInput(field, 'must not contain control characters');
  }
}

/**
 * Checks a JSON value; throws InvalidInput naming the (dotted) field. `field` is the name of the
 * whole value ('body' for a request body: its fields are then named alone, not body.x).
 */
export function checkValue<T extends TSchema>(field: string, schema: T, value: unknown): void {
  walk(field, js(schema), value);
}

function walk(field: string, schema: Js, value: unknown): void {
  const { schema: s, nullable } = unwrapNull(schema);
  if (value === null) {
    if (nullable || s.type === 'null') return;
    throw new InvalidInput(field, 'must not be null');
  }
  const choices = choicesOf(s);
  if (choices) {
    if (!choices.includes(value)) throw new InvalidInput(field, `must be ${describe(s)}, got ${shown(value)}`);
    return;
  }
  if (s.anyOf) {
    // Any one alternative will do (true, false or "auto"); the message names them all.
    if (!s.anyOf.some((alt) => passes(field, alt, value))) throw new InvalidInput(field, `must be ${describe(s)}, got ${shown(value)}`);
    return;
  }
  switch (s.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new InvalidInput(field, `must be true or false, got ${shown(value)}`);
      return;
    case 'integer':
    case 'number': {
      const ok =
        typeof value === 'number' &&
        (s.type === 'integer' ? Number.isSafeInteger(value) : Number.isFinite(value)) &&
        (s.minimum === undefined || value >= s.minimum) &&
        (s.maximum === undefined || value <= s.maximum);
      if (!ok) throw new InvalidInput(field, `must be ${describe(s)}, got ${shown(value)}`);
      return;
    }
    case 'string':
      if (typeof value !== 'string') throw new InvalidInput(field, `must be text, got ${typeName(value)}`);
      checkString(field, s, value);
      return;
    case 'array':
      if (!Array.isArray(value)) throw new InvalidInput(field, `must be a list, got ${typeName(value)}`);
      value.forEach((item, i) => walk(`${field}[${i}]`, s.items ?? {}, item));
      return;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidInput(field, `must be a JSON object, got ${typeName(value)}`);
      const obj = value as Record<string, unknown>;
      const at = (k: string) => (field === 'body' || field === '' ? k : `${field}.${k}`);
      const props = s.properties ?? {};
      const keys = Object.keys(obj);
      for (const k of s.required ?? []) if (obj[k] === undefined) throw new InvalidInput(at(k), 'is required');
      for (const k of keys) {
        const prop = Object.hasOwn(props, k) ? props[k] : undefined;
        const byPattern = prop ? undefined : Object.entries(s.patternProperties ?? {}).find(([p]) => regex(p).test(k))?.[1];
        if (prop) {
          if (obj[k] !== undefined) walk(at(k), prop, obj[k]);
        } else if (byPattern) walk(at(k), byPattern, obj[k]);
        else if (s.patternProperties) throw new InvalidInput(at(k), `not a valid name (${Object.keys(s.patternProperties).join(' or ')})`);
        else if (typeof s.additionalProperties === 'object') walk(at(k), s.additionalProperties, obj[k]);
        else if (s.additionalProperties !== true) {
          const known = Object.keys(props);
          throw new InvalidInput(at(k), `not a known field${known.length ? ` (known: ${known.join(', ')})` : ''}`);
        }
      }
      if (s.minProperties !== undefined && keys.length < s.minProperties) {
        throw new InvalidInput(field, `must name at least ${s.minProperties} field${s.minProperties === 1 ? '' : 's'} (known: ${Object.keys(props).join(', ')})`);
      }
      return;
    }
    default:
      return;
  }
}

function passes(field: string, s: Js, value: unknown): boolean {
  try {
    walk(field, s, value);
    return true;
  } catch (e) {
    if (e instanceof InvalidInput) return false;
    throw e;
  }
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TRUE_TEXT = /^(true|yes|on|1)$/i;
const FALSE_TEXT = /^(false|no|off|0)$/i;

export interface ParseTextOptions {
  /** Also take yes/no, on/off and 1/0 for booleans (environment variables, not URLs). */
  looseBooleans?: boolean;
}

/**
 * A scalar given as text (a query or path parameter, a KEY=VALUE flag, an environment variable):
 * parsed by its schema's type, then checked. Lists are comma-separated.
 */
export function parseText(field: string, schema: TSchema, raw: string, opts: ParseTextOptions = {}): unknown {
  const { schema: s } = unwrapNull(js(schema));
  const value = toValue(field, s, raw, opts);
  try {
    walk(field, s, value);
  } catch (e) {
    // Say what was given, as given: "got "0"", not the number it was read as.
    if (e instanceof InvalidInput && typeof value === 'number') throw new InvalidInput(field, `must be ${describe(s)}, got ${shown(raw)}`);
    throw e;
  }
  return value;
}

function toValue(field: string, s: Js, raw: string, opts: ParseTextOptions): unknown {
  if (s.anyOf && !choicesOf(s)) {
    // The first alternative the text reads as (e.g. "true" as a boolean before the text "auto").
    for (const alt of s.anyOf) {
      try {
        const v = toValue(field, alt, raw, opts);
        if (passes(field, alt, v)) return v;
      } catch (e) {
        if (!(e instanceof InvalidInput)) throw e;
      }
    }
    return raw;
  }
  switch (typeOf(s)) {
    case 'boolean':
      if (raw === 'true' || (opts.looseBooleans && TRUE_TEXT.test(raw))) return true;
      if (raw === 'false' || (opts.looseBooleans && FALSE_TEXT.test(raw))) return false;
      throw new InvalidInput(field, `must be true or false, got ${shown(raw)}`);
    case 'integer': {
      const n = INTEGER_TEXT.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) throw new InvalidInput(field, `must be ${describe(s)}, got ${shown(raw)}`);
      return n;
    }
    case 'number': {
      const n = NUMBER_TEXT.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw new InvalidInput(field, `must be ${describe(s)}, got ${shown(raw)}`);
      return n;
    }
    case 'array':
      return raw.split(',').map((x) => x.trim()).filter(Boolean).map((x, i) => toValue(`${field}[${i}]`, s.items ?? {}, x, opts));
    default:
      return raw;
  }
}
