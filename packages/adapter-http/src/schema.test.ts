/** The schema language: parameter parsing, body checks and their messages; ETag matching. */
import { describe, expect, it } from 'vitest';
import { checkValue, describeInteger, parseParam, toOpenApiSchema, ValidationError, type Schema } from './schema.js';
import { noneMatch, waveformEtag } from './etag.js';
import { queryValues } from './validate.js';

const msg = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error('did not throw');
};

describe('parseParam', () => {
  it('integers: plain decimal digits within the bounds', () => {
    const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
    expect(parseParam('tcp_port', port, '443')).toBe(443);
    expect(parseParam('tcp_port', port, '+443')).toBe(443);
    for (const bad of ['0', '65536', '', ' 1', '1 ', '1.0', '1e2', '0x1F', 'NaN', 'Infinity', '١٢']) {
      expect(msg(() => parseParam('tcp_port', port, bad))).toBe(`tcp_port: must be 1–65535 (a whole number), got ${JSON.stringify(bad)}`);
    }
    expect(msg(() => parseParam('idx', { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, '9007199254740993'))).toMatch(/^idx: must be a whole number ≥ 0/);
  });

  it('booleans are exactly true or false', () => {
    expect(parseParam('force', { type: 'boolean' }, 'true')).toBe(true);
    expect(parseParam('force', { type: 'boolean' }, 'false')).toBe(false);
    for (const bad of ['True', '1', 'yes', '', 'on']) expect(msg(() => parseParam('force', { type: 'boolean' }, bad))).toMatch(/^force: must be true or false/);
  });

  it('strings: enum, length, pattern, control characters', () => {
    expect(msg(() => parseParam('format', { type: 'string', enum: ['json', 'csv'] }, 'CSV'))).toBe('format: must be one of json, csv, got "CSV"');
    expect(msg(() => parseParam('device', { type: 'string', minLength: 1 }, ''))).toBe('device: must not be empty');
    expect(msg(() => parseParam('device', { type: 'string', maxLength: 3 }, 'abcd'))).toBe('device: must be at most 3 characters long, got 4');
    expect(msg(() => parseParam('device', { type: 'string' }, 'a\tb'))).toBe('device: must not contain control characters');
    expect(msg(() => parseParam('host', { type: 'string', pattern: '^[a-z]+$', patternText: 'lower-case letters' }, 'A'))).toBe('host: must be lower-case letters, got "A"');
    expect(parseParam('device', { type: 'string', maxLength: 3 }, 'ééé')).toBe('ééé');
  });

  it('huge inputs are not echoed whole', () => {
    expect(msg(() => parseParam('idx', { type: 'integer', minimum: 0 }, '9'.repeat(5000))).length).toBeLessThan(120);
  });
});

describe('checkValue', () => {
  const schema: Schema = {
    type: 'object',
    properties: {
      a: { type: 'integer', minimum: 0 },
      b: { type: 'object', properties: { c: { type: 'boolean' } }, required: ['c'] },
      d: { type: 'string', nullable: true },
      e: { type: 'array', items: { type: 'number', minimum: 1 } },
    },
    minProperties: 1,
  };
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

  it('describes integers as the contract does', () => {
    expect(describeInteger({ type: 'integer', minimum: 0 })).toBe('a whole number ≥ 0');
    expect(describeInteger({ type: 'integer', minimum: 1, maximum: 65535 })).toBe('1–65535 (a whole number)');
    expect(describeInteger({ type: 'integer', enum: [1, 2] })).toBe('one of 1, 2');
  });

  it('has an OpenAPI 3.1 form', () => {
    expect(toOpenApiSchema({ type: 'string', nullable: true, enum: ['a'] })).toEqual({ type: ['string', 'null'], enum: ['a', null] });
    expect(toOpenApiSchema({ $ref: 'X' })).toEqual({ $ref: '#/components/schemas/X' });
    expect(toOpenApiSchema({ type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'], additionalProperties: false })).toEqual({
      type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'], additionalProperties: false,
    });
  });
});

describe('query strings', () => {
  it('keeps every value of a repeated name, decodes percent and plus', () => {
    const q = queryValues('/x?a=1&a=2&b=%C3%BC+x&c&d=&e=a%3Db#frag');
    expect(Object.fromEntries(q)).toEqual({ a: ['1', '2'], b: ['ü x'], c: [''], d: [''], e: ['a=b'] });
    expect(queryValues('/x').size).toBe(0);
  });
});

describe('ETags', () => {
  const id = { serial: 'BE18189', key: '01110000', timestamp: '2026-04-08T01:59:45' };
  it('a strong quoted hash of (serial, key, timestamp), per representation', () => {
    const tag = waveformEtag(id, 'json');
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(waveformEtag({ ...id }, 'json')).toBe(tag);
    expect(waveformEtag({ ...id, timestamp: '2026-04-08T01:59:46' }, 'json')).not.toBe(tag);
    expect(waveformEtag({ ...id, serial: 'BE18190' }, 'json')).not.toBe(tag);
    expect(waveformEtag({ ...id, key: '01110001' }, 'json')).not.toBe(tag);
    expect(waveformEtag(id, 'csv')).toBe(tag.replace(/"$/, '-csv"'));
  });
  it('If-None-Match: lists, weak comparison, *', () => {
    expect(noneMatch(undefined, '"a"')).toBe(false);
    expect(noneMatch('"a"', '"a"')).toBe(true);
    expect(noneMatch('"b" , W/"a"', '"a"')).toBe(true);
    expect(noneMatch('*', '"a"')).toBe(true);
    expect(noneMatch('"ab"', '"a"')).toBe(false);
    expect(noneMatch('a', '"a"')).toBe(false);
  });
});
