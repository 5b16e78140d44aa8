/** The web application's view logic, without a browser: the fleet's rows, addressing, words, routes, and the forms' checks against the API's own. */
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '@sfm/adapter-http';
import { checkValue } from '@sfm/core/schema';
import * as S from '@sfm/core/schema';
import type { ConfiguredDevice, Unit } from '@sfm/core';
import { addressOf, addressOfKey, addressQuery, changedFields, errorField, fieldValue, filterRows, fleetRows, pageOf, parseRoute, progressFraction, progressText, STALE_AFTER_MS, type FieldSchema } from './logic.js';

const NOW = Date.parse('2026-05-01T12:00:00Z');

function unit(serial: string, over: Partial<Unit> = {}): Unit {
  return {
    serial, first_seen: '2026-04-01T00:00:00Z', last_seen: '2026-05-01T11:00:00Z', last_address: `tcp:10.0.0.${serial.length}:12345`, last_session: null, event_count: 3,
    last_event: null, last_status: { is_monitoring: true, battery_v: 6.4, memory_total: 1000, memory_free: 250, clock: null }, info: null, ...over,
  };
}

describe('the fleet', () => {
  const devices: ConfiguredDevice[] = [
    { name: 'north', connection_key: 'tcp:10.0.0.7:12345', serial: 'BE18189' },
    { name: 'spare', connection_key: 'serial:/dev/ttyUSB0:38400', serial: null },
  ];

  it('lists the archive\'s units in its order, then configured units never read, with what was last heard', () => {
    const rows = fleetRows([unit('BE18189'), unit('UM11873', { last_status: null })], devices, NOW);
    expect(rows.map((r) => [r.serial, r.name, r.href])).toEqual([
      ['BE18189', 'north', '#/unit/BE18189'],
      ['UM11873', null, '#/unit/UM11873'],
      [null, 'spare', '#/device/spare'],
    ]);
    expect(rows[0]).toMatchObject({ batteryV: 6.4, memoryUsedPct: 75, monitoring: true, events: 3, marks: [] });
    expect(rows[1]).toMatchObject({ batteryV: null, memoryUsedPct: null, monitoring: null });
    expect(rows[2]!.marks).toEqual(['never read']);
  });

  it('marks a unit not heard from for a day stale, and one whose last session failed unreachable', () => {
    const old = new Date(NOW - STALE_AFTER_MS - 1000).toISOString();
    const failed = { id: 1, serial: 'X1', kind: 'call-up' as const, peer: 'tcp:h:1', started_at: old, duration_s: 3, events_new: 0, waveforms_new: 0, erased: false, result: 'DEVICE_TIMEOUT', capture: null };
    const [row] = fleetRows([unit('X1', { last_seen: old, last_session: failed })], [], NOW);
    expect(row!.marks).toEqual(['stale', 'unreachable']);
  });

  it('filters by serial, name or address, and shows one page at a time', () => {
    const many = fleetRows(Array.from({ length: 1000 }, (_, i) => unit(`U${String(i).padStart(4, '0')}`)), [], NOW);
    expect(filterRows(many, 'u099').map((r) => r.serial)).toEqual(['U0990', 'U0991', 'U0992', 'U0993', 'U0994', 'U0995', 'U0996', 'U0997', 'U0998', 'U0999']);
    const last = pageOf(many, 99, 50);
    expect([last.page, last.pages, last.items.length, last.items[0]!.serial]).toEqual([19, 20, 50, 'U0950']);
    expect(pageOf([], 3, 50)).toEqual({ items: [], page: 0, pages: 1 });
  });
});

describe('addressing a unit on /device/* routes', () => {
  it('by its configured name when one answers there, else at the address it last answered at', () => {
    const devices: ConfiguredDevice[] = [{ name: 'demo', connection_key: 'tcp:127.0.0.1:4000', serial: 'BE1' }];
    expect(addressOf('BE1', 'tcp:127.0.0.1:9', devices)).toEqual({ device: 'demo' });
    expect(addressOf('OTHER', 'tcp:127.0.0.1:4000', devices)).toEqual({ device: 'demo' });
    expect(addressOf('OTHER', 'tcp:[::1]:12345', devices)).toEqual({ host: '::1', tcp_port: 12345 });
    expect(addressOf('OTHER', null, devices)).toBeUndefined();
    expect(addressOfKey('serial:/dev/ttyUSB0:38400')).toEqual({ port: '/dev/ttyUSB0', baud: 38400 });
    expect(addressQuery({ port: '/dev/ttyUSB0', baud: 9600 })).toBe('port=%2Fdev%2FttyUSB0&baud=9600');
  });
});

describe('words and routes', () => {
  it('says progress as the CLI does', () => {
    const p = { connection_key: 'k', index: null, estimated: false, counts: 'events' as const, chunks_done: null, chunks_total: null };
    expect(progressText({ ...p, step: 'sync', done: 2, total: 5, estimated: true })).toBe('reading the event list: event 3 of ~5');
    expect(progressText({ ...p, step: 'sync', done: 0, total: null })).toBe('reading the event list: event 1');
    expect(progressText({ ...p, step: 'download', done: 10240, total: 40960, counts: 'bytes', index: 4, chunks_done: 20, chunks_total: 80 })).toBe('downloading event 4: 20 of 80 chunks, 10 of 40 KB');
    expect(progressFraction({ ...p, step: 'download', done: 10240, total: 40960, counts: 'bytes' })).toBe(0.25);
    expect(progressFraction({ ...p, step: 'sync', done: 3, total: null })).toBeNull();
  });

  it('parses the hash routes', () => {
    expect(parseRoute('#/unit/BE18189/event/4')).toEqual({ view: 'live-event', serial: 'BE18189', index: 4 });
    expect(parseRoute('#/device/north%20pit')).toEqual({ view: 'device', name: 'north pit' });
    expect(parseRoute('#/event/12')).toEqual({ view: 'archived-event', id: 12 });
    expect(parseRoute('#/sessions')).toEqual({ view: 'sessions' });
    expect(parseRoute('')).toEqual({ view: 'fleet' });
    expect(parseRoute('#/event/x')).toEqual({ view: 'fleet' });
  });
});

describe('the forms check what the API checks', () => {
  const doc = buildOpenApi('test') as unknown as { components: { schemas: Record<string, FieldSchema> } };
  const TEXTS = ['0', '1', '-1', '0.004', '0.5', '1.2', '1.3', '10', '12.5', '23', '59', '60', '255', '256', '1024', '4096', '65535', '1e9', 'abc', 'single_shot', 'continuous', 'normal', 'sensitive', 'x'.repeat(32), 'x'.repeat(33), 'x'.repeat(41), 'ATDT 555', 'é', 'tab\there'];

  /** Every leaf field of a body schema, with the shape core checks the body against. */
  function leaves(schema: FieldSchema, path: string[] = []): [string[], FieldSchema][] {
    return Object.entries(schema.properties ?? {}).flatMap(([k, s]) => (s.properties ? leaves(s, [...path, k]) : [[[...path, k], s] as [string[], FieldSchema]]));
  }
  const nest = (path: string[], v: unknown): Record<string, unknown> => path.reduceRight<unknown>((inner, k) => ({ [k]: inner }), v) as Record<string, unknown>;
  const apiAccepts = (shape: Parameters<typeof checkValue>[1], body: unknown): boolean => {
    try {
      checkValue('body', shape, body);
      return true;
    } catch {
      return false;
    }
  };

  for (const [name, shape] of [['ComplianceChanges', S.ComplianceChanges], ['CallHomeChanges', S.CallHomeChanges]] as const) {
    it(`${name}: a value the form takes the API takes, and one it refuses the API refuses`, () => {
      const fields = leaves(doc.components.schemas[name]!);
      expect(fields.length).toBeGreaterThan(5);
      for (const [path, schema] of fields) {
        const numeric = ['integer', 'number'].includes(String(Array.isArray(schema.type) ? schema.type[0] : schema.type));
        for (const text of TEXTS) {
          const r = fieldValue(schema, text);
          const sent = r.value ?? (numeric && Number.isFinite(Number(text)) ? Number(text) : text);
          expect(apiAccepts(shape, nest(path, sent)), `${path.join('.')} = ${JSON.stringify(text)}: form says ${r.error ?? 'ok'}`).toBe(r.error === undefined);
        }
        if (schema.type === 'boolean') expect(fieldValue(schema, true)).toEqual({ value: true });
      }
    });
  }

  it('sends only what changed, nested fields too; an API error names its field', () => {
    expect(changedFields({ a: 1, b: 'x', t: { hour: 1, minute: 2 } }, { a: 1, b: 'y', c: undefined, t: { hour: 1, minute: 3 } })).toEqual({ b: 'y', t: { minute: 3 } });
    expect(changedFields({ a: 1 }, { a: 1, t: { hour: undefined } })).toEqual({});
    expect(errorField('trigger_level_ips: 12 exceeds the normal range\'s full scale')).toBe('trigger_level_ips');
    expect(errorField('body.time1.hour: must be at most 23')).toBe('time1.hour');
    expect(errorField('the unit did not answer')).toBeUndefined();
  });
});
