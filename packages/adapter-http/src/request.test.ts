/** What requests and responses share on both paths: query strings and waveform ETags. */
import { describe, expect, it } from 'vitest';
import { noneMatch, waveformEtag } from './etag.js';
import { queryValues } from './validate.js';

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
