/** The checks built from the shapes: text parameters, JSON values, and their messages. */
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../errors.js';
import { checkValue, describeSchema, parseText } from './check.js';
import { Nullable, OneOf } from './shapes.js';

const msg = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    return (e as Error).message;
  }
  throw new Error('did not throw');
};

describe('parseText', () => {
  it('integers: plain decimal digits within the bounds', () => {
    const port = Type.Integer({ minimum: 1, maximum: 65535 });
    expect(parseText('tcp_port', port, '443')).toBe(443);
    expect(parseText('tcp_port', port, '+443')).toBe(443);
    for (const bad of ['0', '65536', '', ' 1', '1 ', '1.0', '1e2', '0x1F', 'NaN', 'Infinity', '١٢']) {
      expect(msg(() => parseText('tcp_port', port, bad))).toBe(`tcp_port: must be 1–65535 (a whole number), got ${JSON.stringify(bad)}`);
    }
    expect(msg(() => parseText('idx', Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), '9007199254740993'))).toMatch(/^idx: must be a whole number ≥ 0/);
  });

  it('booleans are exactly true or false (yes/no/on/off/1/0 too where asked: flags, environment)', () => {
    expect(parseText('force', Type.Boolean(), 'true')).toBe(true);
    expect(parseText('force', Type.Boolean(), 'false')).toBe(false);
    for (const bad of ['True', '1', 'yes', '', 'on']) expect(msg(() => parseText('force', Type.Boolean(), bad))).toMatch(/^force: must be true or false/);
    expect(parseText('simulate', Type.Boolean(), 'yes', { looseBooleans: true })).toBe(true);
    expect(parseText('simulate', Type.Boolean(), 'OFF', { looseBooleans: true })).toBe(false);
  });

  it('strings: enum, length, pattern, control characters', () => {
    expect(msg(() => parseText('format', OneOf(['json', 'csv'], 'format'), 'CSV'))).toBe('format: must be one of json, csv, got "CSV"');
    expect(msg(() => parseText('device', Type.String({ minLength: 1 }), ''))).toBe('device: must not be empty');
    expect(msg(() => parseText('device', Type.String({ maxLength: 3 }), 'abcd'))).toBe('device: must be at most 3 characters long, got 4');
    expect(msg(() => parseText('device', Type.String(), 'a\tb'))).toBe('device: must not contain control characters');
    expect(msg(() => parseText('host', Type.String({ pattern: '^[a-z]+$', patternText: 'lower-case letters' }), 'A'))).toBe('host: must be lower-case letters, got "A"');
    expect(parseText('device', Type.String({ maxLength: 3 }), 'ééé')).toBe('ééé');
  });

  it('a union reads the text as the first alternative it fits', () => {
    const simulate = Type.Union([Type.Boolean(), Type.Literal('auto')]);
    expect(parseText('simulate', simulate, 'true', { looseBooleans: true })).toBe(true);
    expect(parseText('simulate', simulate, 'auto')).toBe('auto');
    expect(msg(() => parseText('simulate', simulate, 'maybe'))).toBe('simulate: must be true or false or "auto", got "maybe"');
  });

  it('lists are comma-separated', () => {
    expect(parseText('plugins', Type.Array(Type.String({ minLength: 1 })), 'a, b,c')).toEqual(['a', 'b', 'c']);
  });

  it('huge inputs are not echoed whole', () => {
    expect(msg(() => parseText('idx', Type.Integer({ minimum: 0 }), '9'.repeat(5000))).length).toBeLessThan(120);
  });
});

describe('checkValue', () => {
  const schema = Type.Object(
    {
      a: Type.Optional(Type.Integer({ minimum: 0 })),
      b: Type.Optional(Type.Object({ c: Type.Boolean() })),
      d: Type.Optional(Nullable(Type.String())),
      e: Type.Optional(Type.Array(Type.Number({ minimum: 1 }))),
    },
    { additionalProperties: false, minProperties: 1 },
  );
  it('names the dotted field and why', () => {
    expect(msg(() => checkValue('body', schema, { a: -1 }))).toBe('a: must be a whole number ≥ 0, got -1');
    expect(msg(() => checkValue('body', schema, { b: {} }))).toBe('b.c: is required');
    expect(msg(() => checkValue('body', schema, { b: { c: 1 } }))).toBe('b.c: must be true or false, got 1');
    expect(msg(() => checkValue('body', schema, { e: [1, 0.5] }))).toBe('e[1]: must be a number ≥ 1, got 0.5');
    expect(msg(() => checkValue('body', schema, { z: 1 }))).toBe('z: not a known field (known: a, b, d, e)');
    expect(msg(() => checkValue('body', schema, {}))).toMatch(/^body: must name at least 1 field/);
    expect(msg(() => checkValue('body', schema, { a: null }))).toBe('a: must not be null');
    expect(() => checkValue('body', schema, { d: null, a: 0, b: { c: true }, e: [] })).not.toThrow();
    expect(msg(() => checkValue('body', schema, { ['__proto__']: 1 }))).toMatch(/not a known field/);
    expect(msg(() => checkValue('body', schema, JSON.parse('{"__proto__": {"a": 1}}')))).toMatch(/^__proto__: not a known field/);
    expect(msg(() => checkValue('body', schema, { toString: 1 }))).toMatch(/^toString: not a known field/);
  });

  it('records check their keys by pattern', () => {
    const devices = Type.Record(Type.String({ pattern: '^[a-z]+$' }), Type.Integer());
    expect(() => checkValue('devices', devices, { north: 1 })).not.toThrow();
    expect(msg(() => checkValue('devices', devices, { 'Bad!': 1 }))).toMatch(/^devices\.Bad!: not a valid name/);
    expect(msg(() => checkValue('devices', devices, { north: 'x' }))).toBe('devices.north: must be a whole number, got "x"');
  });

  it('describes integers as the contract does', () => {
    expect(describeSchema(Type.Integer({ minimum: 0 }))).toBe('a whole number ≥ 0');
    expect(describeSchema(Type.Integer({ minimum: 1, maximum: 65535 }))).toBe('1–65535 (a whole number)');
    expect(describeSchema(Type.Integer({ enum: [1, 2] }))).toBe('one of 1, 2');
  });
});
