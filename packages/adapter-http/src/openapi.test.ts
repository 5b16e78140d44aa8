/**
 * The OpenAPI document: every route, parameter, body, response and error response; every $ref
 * resolves; it is what the server serves; and the schemas agree with core's validators.
 */
import { describe, expect, it } from 'vitest';
import { PayloadError, WRITABLE_COMPLIANCE_FIELDS, validateCallHome, validateComplianceChanges, type CallHomeConfig } from '@sfm/core';
import { buildOpenApi } from './openapi.js';
import { CallHomeChanges, ComplianceChanges } from './models.js';
import { errorStatuses, ROUTES } from './routes.js';
import { startFixture } from './testing/fixture.js';

const doc = buildOpenApi('1.2.3');

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

function resolvePointer(ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

describe('buildOpenApi', () => {
  it('is OpenAPI 3.1 with info, servers (root and /api/sfm) and paths', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'sfm', version: '1.2.3' });
    expect((doc.servers as { url: string }[]).map((s) => s.url)).toEqual(['/', '/api/sfm']);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('lists every route with its parameters, body, responses and error responses', () => {
    const contract = [
      'get /health', 'get /openapi.json', 'get /device/info', 'post /device/connect', 'get /device/events', 'get /device/event/{idx}',
      'get /device/event/{idx}/waveform', 'get /device/monitor/status', 'post /device/monitor/start', 'post /device/monitor/stop',
      'post /device/config', 'get /device/call-home', 'post /device/call-home', 'get /device/events/storage-range',
      'post /device/events/erase', 'get /cache/stats', 'delete /cache/device',
    ];
    const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(listed.sort()).toEqual([...contract].sort());
    const ids = new Set<string>();
    for (const r of ROUTES) {
      const op = doc.paths[r.path]![r.method] as Record<string, any>;
      expect(ids.has(op.operationId)).toBe(false);
      ids.add(op.operationId);
      expect(op.summary && op.description).toBeTruthy();
      const names = op.parameters.map((p: { name: string }) => p.name);
      for (const p of r.params) expect(names, `${r.id} ${p.name}`).toContain(p.name);
      if (r.device) expect(names).toEqual(expect.arrayContaining(['device', 'host', 'tcp_port', 'port', 'baud']));
      expect(op.responses['200'].content['application/json'].schema, r.id).toBeDefined();
      for (const s of errorStatuses(r)) expect(op.responses[String(s)], `${r.id} ${s}`).toBeDefined();
      if (r.body) expect(op.requestBody.content['application/json'].schema.type).toBe('object');
      if (r.auth) expect(op.security).toEqual([{ bearerAuth: [] }, {}]);
      if (r.cached) expect(Object.keys(op.responses['200'].headers)).toEqual(expect.arrayContaining(['X-Cache', 'Age', 'X-Request-Id']));
    }
    const waveform = doc.paths['/device/event/{idx}/waveform']!.get as Record<string, any>;
    expect(Object.keys(waveform.responses['200'].content)).toEqual(['application/json', 'text/csv']);
    expect(waveform.responses['304']).toBeDefined();
    expect(waveform.parameters.map((p: { name: string }) => p.name)).toContain('If-None-Match');
    expect((doc.paths['/device/events/erase']!.post as Record<string, any>).responses['409']).toBeDefined();
    expect((doc.paths['/device/monitor/start']!.post as Record<string, any>).responses['401']).toBeDefined();
    const idx = (doc.paths['/device/event/{idx}']!.get as Record<string, any>).parameters.find((p: { name: string }) => p.name === 'idx');
    expect(idx).toMatchObject({ in: 'path', required: true, schema: { type: 'integer', minimum: 0 } });
    const tcpPort = (doc.paths['/device/info']!.get as Record<string, any>).parameters.find((p: { name: string }) => p.name === 'tcp_port');
    expect(tcpPort.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535, default: 12345 });
  });

  it('every $ref resolves and every error response has the Error shape', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(50);
    for (const ref of new Set(all)) expect(resolvePointer(ref), ref).toBeDefined();
    const components = doc.components as Record<string, Record<string, any>>;
    for (const [name, r] of Object.entries(components.responses!)) {
      expect(r.content['application/json'].schema, name).toEqual({ $ref: '#/components/schemas/Error' });
    }
    expect(components.schemas!.Error.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(['INVALID_REQUEST', 'UNAUTHORIZED', 'TARGET_NOT_ALLOWED', 'NOT_FOUND', 'CONFIRMATION_REQUIRED', 'DEVICE_UNREACHABLE', 'PROTOCOL_ERROR', 'DEVICE_BUSY', 'DEVICE_TIMEOUT', 'INTERNAL']),
    );
    // nullable fields are JSON Schema 2020-12 type unions
    expect(components.schemas!.DeviceInfo.properties.firmware.type).toEqual(['string', 'null']);
  });

  it('documents the decisions the contract leaves open', () => {
    const d = (doc.info as { description: string }).description;
    for (const phrase of ['/api/sfm', 'unknown query parameters', '415', '413', 'Bearer', '404 NOT_FOUND', 'X-Request-Id', 'connection_key']) expect(d).toContain(phrase);
  });

  it('is what GET /openapi.json serves', async () => {
    const f = await startFixture();
    try {
      const served = await f.call('/openapi.json');
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(served.json).toEqual(JSON.parse(JSON.stringify(buildOpenApi('9.8.7-test'))));
    } finally {
      await f.close();
    }
  });
});

describe('the body schemas agree with core', () => {
  const rejects = (fn: () => unknown) => {
    expect(fn).toThrow(PayloadError);
  };

  it('compliance: the same writable fields; every numeric bound accepted at the edge and refused past it', () => {
    expect(Object.keys(ComplianceChanges.properties).sort()).toEqual([...WRITABLE_COMPLIANCE_FIELDS].sort());
    for (const [field, s] of Object.entries(ComplianceChanges.properties)) {
      if (!('type' in s) || (s.type !== 'number' && s.type !== 'integer') || ('enum' in s && s.enum)) continue;
      const { minimum: lo, maximum: hi } = s;
      expect(lo !== undefined && hi !== undefined, field).toBe(true);
      expect(() => validateComplianceChanges({ [field]: lo })).not.toThrow();
      expect(() => validateComplianceChanges({ [field]: hi })).not.toThrow();
      const step = s.type === 'integer' ? 1 : Math.max(1e-6, Math.abs(lo!) * 1e-3);
      rejects(() => validateComplianceChanges({ [field]: lo! - step }));
      rejects(() => validateComplianceChanges({ [field]: hi! + step }));
    }
  });

  it('call-home: every bound accepted at the edge and refused past it', () => {
    const base: CallHomeConfig = {
      enabled: false, dial_string: '', after_event_recorded: false, at_specified_times: false, time1: { enabled: false, hour: 0, minute: 0 },
      time2: { enabled: false, hour: 0, minute: 0 }, num_retries: 0, retry_interval_s: 0, wait_for_connection_s: 0, warm_up_time_s: 0,
    };
    const props = CallHomeChanges.properties as Record<string, any>;
    for (const field of ['num_retries', 'retry_interval_s', 'wait_for_connection_s', 'warm_up_time_s']) {
      expect(() => validateCallHome({ ...base, [field]: props[field].maximum })).not.toThrow();
      rejects(() => validateCallHome({ ...base, [field]: props[field].maximum + 1 }));
      rejects(() => validateCallHome({ ...base, [field]: props[field].minimum - 1 }));
    }
    for (const t of ['time1', 'time2'] as const) {
      expect(() => validateCallHome({ ...base, [t]: { enabled: true, hour: props[t].properties.hour.maximum, minute: props[t].properties.minute.maximum } })).not.toThrow();
      rejects(() => validateCallHome({ ...base, [t]: { enabled: true, hour: props[t].properties.hour.maximum + 1, minute: 0 } }));
    }
    expect(() => validateCallHome({ ...base, dial_string: 'x'.repeat(props.dial_string.maxLength) })).not.toThrow();
    rejects(() => validateCallHome({ ...base, dial_string: 'x'.repeat(props.dial_string.maxLength + 1) }));
  });
});
