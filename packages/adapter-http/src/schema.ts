/**
 * A small schema language, written as plain data: a subset of JSON Schema that both the request
 * validator (this file) and the OpenAPI document (openapi.ts) are generated from, so the two
 * cannot drift. Query and path parameters arrive as text and are parsed by their schema; JSON
 * bodies are checked as they are (no coercion). Every message names the field and says why.
 */

interface Common {
  description?: string;
  /** The value may also be null (OpenAPI 3.1: `type: [t, "null"]`). */
  nullable?: boolean;
  example?: unknown;
}

export interface StringSchema extends Common {
  type: 'string';
  enum?: readonly string[];
  /** A JavaScript regular expression source; anchored by the author. */
  pattern?: string;
  /** What the pattern asks for, in words (for messages): "a host name or IP address". */
  patternText?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
}

export interface IntegerSchema extends Common {
  type: 'integer';
  enum?: readonly number[];
  minimum?: number;
  maximum?: number;
}

export interface NumberSchema extends Common {
  type: 'number';
  minimum?: number;
  maximum?: number;
}

export interface BooleanSchema extends Common {
  type: 'boolean';
}

export interface ArraySchema extends Common {
  type: 'array';
  items: Schema;
}

export interface ObjectSchema extends Common {
  type: 'object';
  properties: Readonly<Record<string, Schema>>;
  required?: readonly string[];
  /**
   * The validator rejects fields not listed unless this is true or a schema (which types every
   * extra field); the OpenAPI form states it only when given (request bodies say false).
   */
  additionalProperties?: boolean | Schema;
  minProperties?: number;
}

/** A named schema from the components (see models.ts). */
export interface RefSchema {
  $ref: string;
  description?: string;
}

export type Schema = StringSchema | IntegerSchema | NumberSchema | BooleanSchema | ArraySchema | ObjectSchema | RefSchema;
export type ScalarSchema = StringSchema | IntegerSchema | NumberSchema | BooleanSchema;

/** A failed check: the field (dotted path) and why. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    readonly field: string,
    readonly why: string,
  ) {
    super(`${field}: ${why}`);
  }
}

export type SchemaLookup = (name: string) => Schema | undefined;

const NONE: SchemaLookup = () => undefined;

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

/** What an integer schema asks for, in words: "a whole number ≥ 0", "1–65535 (a whole number)". */
export function describeInteger(s: IntegerSchema): string {
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  const min = s.minimum;
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  if (min !== undefined && max !== undefined) return `${fmt(min)}–${fmt(max)} (a whole number)`;
  if (min !== undefined) return `a whole number ≥ ${fmt(min)}`;
  if (max !== undefined) return `a whole number ≤ ${fmt(max)}`;
  return 'a whole number';
}

export function describeNumber(s: NumberSchema): string {
  if (s.minimum !== undefined && s.maximum !== undefined) return `a number from ${fmt(s.minimum)} to ${fmt(s.maximum)}`;
  if (s.minimum !== undefined) return `a number ≥ ${fmt(s.minimum)}`;
  if (s.maximum !== undefined) return `a number ≤ ${fmt(s.maximum)}`;
  return 'a number';
}

function describeString(s: StringSchema): string {
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  return s.patternText ?? 'text';
}

function resolve(s: Schema, lookup: SchemaLookup): Exclude<Schema, RefSchema> {
  let cur: Schema = s;
  for (let i = 0; '$ref' in cur; i++) {
    const next = lookup(cur.$ref);
    if (!next || i > 16) throw new Error(`schema ${cur.$ref} is not defined`);
    cur = next;
  }
  return cur;
}

// --- parameters (text in, typed value out) ----------------------------------------------------

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one query or path parameter from its text. */
export function parseParam(name: string, schema: ScalarSchema, raw: string): string | number | boolean {
  switch (schema.type) {
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new ValidationError(name, `must be true or false, got ${shown(raw)}`);
    case 'integer': {
      const n = INTEGER_TEXT.test(raw) ? Number(raw) : NaN;
      const ok = Number.isSafeInteger(n) && checkIntegerRange(schema, n);
      if (!ok) throw new ValidationError(name, `must be ${describeInteger(schema)}, got ${shown(raw)}`);
      return n;
    }
    case 'number': {
      const n = NUMBER_TEXT.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n) || !checkNumberRange(schema, n)) throw new ValidationError(name, `must be ${describeNumber(schema)}, got ${shown(raw)}`);
      return n;
    }
    case 'string':
      checkString(name, schema, raw);
      return raw;
  }
}

function checkIntegerRange(s: IntegerSchema, n: number): boolean {
  if (s.enum) return s.enum.includes(n);
  return (s.minimum === undefined || n >= s.minimum) && (s.maximum === undefined || n <= s.maximum);
}

function checkNumberRange(s: NumberSchema, n: number): boolean {
  return (s.minimum === undefined || n >= s.minimum) && (s.maximum === undefined || n <= s.maximum);
}

// Control characters, lone surrogates and the like never belong in a parameter or a text field.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function checkString(name: string, s: StringSchema, v: string): void {
  if (s.enum) {
    if (!s.enum.includes(v)) throw new ValidationError(name, `must be ${describeString(s)}, got ${shown(v)}`);
    return;
  }
  const len = [...v].length;
  if (s.minLength !== undefined && len < s.minLength) {
    throw new ValidationError(name, s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters long`);
  }
  if (s.maxLength !== undefined && len > s.maxLength) throw new ValidationError(name, `must be at most ${s.maxLength} characters long, got ${len}`);
  if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) throw new ValidationError(name, `must be ${describeString(s)}, got ${shown(v)}`);
  if (s.pattern === undefined && CONTROL.test(v)) throw new ValidationError(name, 'must not contain control characters');
}

// --- JSON values (bodies) ---------------------------------------------------------------------

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

/** Checks a JSON value against a schema; throws ValidationError naming the (dotted) field. */
export function checkValue(field: string, schema: Schema, value: unknown, lookup: SchemaLookup = NONE): void {
  const s = resolve(schema, lookup);
  if (value === null) {
    if (s.nullable) return;
    throw new ValidationError(field, `must not be null`);
  }
  switch (s.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new ValidationError(field, `must be true or false, got ${shown(value)}`);
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || !checkIntegerRange(s, value)) {
        throw new ValidationError(field, `must be ${describeInteger(s)}, got ${shown(value)}`);
      }
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || !checkNumberRange(s, value)) {
        throw new ValidationError(field, `must be ${describeNumber(s)}, got ${shown(value)}`);
      }
      return;
    case 'string':
      if (typeof value !== 'string') throw new ValidationError(field, `must be ${s.enum ? describeString(s) : 'text'}, got ${typeName(value)}`);
      checkString(field, s, value);
      return;
    case 'array':
      if (!Array.isArray(value)) throw new ValidationError(field, `must be an array, got ${typeName(value)}`);
      value.forEach((item, i) => checkValue(`${field}[${i}]`, s.items, item, lookup));
      return;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(field, `must be a JSON object, got ${typeName(value)}`);
      const obj = value as Record<string, unknown>;
      const at = (k: string) => (field === 'body' ? k : `${field}.${k}`);
      const keys = Object.keys(obj);
      for (const k of s.required ?? []) if (obj[k] === undefined) throw new ValidationError(at(k), 'is required');
      for (const k of keys) {
        const prop = Object.hasOwn(s.properties, k) ? s.properties[k] : undefined;
        if (prop) checkValue(at(k), prop, obj[k], lookup);
        else if (typeof s.additionalProperties === 'object') checkValue(at(k), s.additionalProperties, obj[k], lookup);
        else if (s.additionalProperties !== true) {
          const known = Object.keys(s.properties);
          throw new ValidationError(at(k), `not a known field${known.length ? ` (known: ${known.join(', ')})` : ''}`);
        }
      }
      if (s.minProperties !== undefined && keys.length < s.minProperties) {
        throw new ValidationError(field, `must name at least ${s.minProperties} field${s.minProperties === 1 ? '' : 's'} (known: ${Object.keys(s.properties).join(', ')})`);
      }
      return;
    }
  }
}

// --- OpenAPI ----------------------------------------------------------------------------------

/** The OpenAPI 3.1 (JSON Schema 2020-12) form of a schema; refs point into components/schemas. */
export function toOpenApiSchema(schema: Schema): Record<string, unknown> {
  if ('$ref' in schema) {
    const ref = { $ref: `#/components/schemas/${schema.$ref}` };
    return schema.description ? { ...ref, description: schema.description } : ref;
  }
  const out: Record<string, unknown> = {};
  out.type = schema.nullable ? [schema.type, 'null'] : schema.type;
  if (schema.description) out.description = schema.description;
  switch (schema.type) {
    case 'string':
      if (schema.enum) out.enum = schema.nullable ? [...schema.enum, null] : [...schema.enum];
      if (schema.pattern !== undefined) out.pattern = schema.pattern;
      if (schema.minLength !== undefined) out.minLength = schema.minLength;
      if (schema.maxLength !== undefined) out.maxLength = schema.maxLength;
      if (schema.format !== undefined) out.format = schema.format;
      break;
    case 'integer':
    case 'number':
      if (schema.type === 'integer' && schema.enum) out.enum = schema.nullable ? [...schema.enum, null] : [...schema.enum];
      if (schema.minimum !== undefined) out.minimum = schema.minimum;
      if (schema.maximum !== undefined) out.maximum = schema.maximum;
      break;
    case 'array':
      out.items = toOpenApiSchema(schema.items);
      break;
    case 'object':
      out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, toOpenApiSchema(v)]));
      if (schema.required?.length) out.required = [...schema.required];
      if (schema.additionalProperties !== undefined) {
        out.additionalProperties = typeof schema.additionalProperties === 'object' ? toOpenApiSchema(schema.additionalProperties) : schema.additionalProperties;
      }
      if (schema.minProperties !== undefined) out.minProperties = schema.minProperties;
      break;
    case 'boolean':
      break;
  }
  if (schema.example !== undefined) out.examples = [schema.example];
  return out;
}
