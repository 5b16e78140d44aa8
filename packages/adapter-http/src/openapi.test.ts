/**
 * The OpenAPI document: every route, parameter, body, response and error response; every $ref
 * resolves; it is what the server serves; and the schemas agree with core's validators.
 */
import { describe, expect, it } from 'vitest';
import { PayloadError } from '@sfm/core/protocol';
import { WRITABLE_COMPLIANCE_FIELDS } from '@sfm/core/schema';
import type { CallHomeConfig } from '@sfm/core';
import type { ErrorCode } from '@sfm/core';
import { HTTP_STATUS } from './errors.js';
import { buildOpenApi } from './openapi.js';
import { errorStatuses, ROUTES } from './routes.js';
import { startFixture } from '@sfm/test-support';

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
      'get /health', 'get /ready', 'get /metrics', 'get /openapi.json', 'get /device/info', 'post /device/connect', 'get /device/events', 'get /device/event/{idx}',
      'get /device/event/{idx}/waveform', 'get /device/event/{idx}/analysis', 'get /device/event/{idx}/report.pdf', 'get /device/monitor/status', 'post /device/monitor/start', 'post /device/monitor/stop',
      'post /device/config', 'get /device/call-home', 'post /device/call-home', 'get /device/events/storage-range',
      'get /device/events/index', 'post /device/events/erase', 'get /cache/stats', 'delete /cache/device',
      'get /db/units', 'get /db/units/{serial}', 'get /db/events', 'get /db/events/{id}', 'patch /db/events/{id}', 'get /db/events/{id}/waveform', 'get /db/events/{id}/analysis', 'get /db/events/{id}/report.pdf',
      'get /db/sessions', 'get /db/export.csv',
      // what the web application needs besides: the configured units, the standards' curves, progress
      'get /devices', 'get /analysis/curves', 'get /device/progress',
      // the paths of the service sfm replaces
      'get /device/call_home', 'post /device/call_home', 'get /device/events/storage_range',
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
      // JSON, or (the metrics) only the media types it lists
      if (r.ok.schema) expect(op.responses['200'].content['application/json'].schema, r.id).toBeDefined();
      else expect(Object.keys(op.responses['200'].content), r.id).toEqual(Object.keys(r.ok.alternatives ?? {}));
      for (const s of errorStatuses(r)) expect(op.responses[String(s)], `${r.id} ${s}`).toBeDefined();
      if (r.body) expect((resolvePointer(op.requestBody.content['application/json'].schema.$ref) as { type: string }).type).toBe('object');
      expect(op.security, r.id).toEqual(r.auth ? [{ bearerAuth: [] }] : []);
      if (r.cached) expect(Object.keys(op.responses['200'].headers)).toEqual(expect.arrayContaining(['X-Cache', 'Age', 'X-Request-Id']));
    }
    const waveform = doc.paths['/device/event/{idx}/waveform']!.get as Record<string, any>;
    expect(Object.keys(waveform.responses['200'].content)).toEqual(['application/json', 'text/csv']);
    expect(waveform.responses['304']).toBeDefined();
    expect(waveform.parameters.map((p: { name: string }) => p.name)).toContain('If-None-Match');
    const analysis = doc.paths['/device/event/{idx}/analysis']!.get as Record<string, any>;
    expect(analysis.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Analysis' });
    expect(analysis.responses['304']).toBeDefined();
    const report = doc.paths['/device/event/{idx}/report.pdf']!.get as Record<string, any>;
    expect(Object.keys(report.responses['200'].content)).toEqual(['application/pdf']);
    for (const op of [analysis, report]) expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['standard', 'distance_ft', 'force', 'stale']));
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
    // every component is referred to: none is copied inline instead
    for (const kind of ['schemas', 'responses', 'headers']) {
      for (const name of Object.keys(components[kind]!)) expect(all, `${kind}/${name}`).toContain(`#/components/${kind}/${name}`);
    }
    for (const [name, r] of Object.entries(components.responses!)) {
      const [shape, narrowed] = r.content['application/json'].schema.allOf;
      expect(shape, name).toEqual({ $ref: '#/components/schemas/Error' });
      // the codes its status carries, as errors.ts maps them (431 comes from Node's parser)
      const status = Number(/^(\d{3}):/.exec(r.description)![1]);
      const codes: string[] = narrowed.properties.error.properties.code.enum;
      expect(codes.length, name).toBeGreaterThan(0);
      for (const code of codes) expect(HTTP_STATUS[code as ErrorCode], `${name} ${code}`).toBe(status === 431 ? 400 : status);
    }
    expect(components.schemas!.Error.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(['INVALID_REQUEST', 'UNAUTHORIZED', 'TARGET_NOT_ALLOWED', 'NOT_FOUND', 'CONFIRMATION_REQUIRED', 'DEVICE_UNREACHABLE', 'PROTOCOL_ERROR', 'DEVICE_BUSY', 'DEVICE_TIMEOUT', 'INTERNAL']),
    );
    // nullable fields are JSON Schema 2020-12 type unions
    expect(components.schemas!.DeviceInfo.properties.firmware.type).toEqual(['string', 'null']);
  });

  it('lists each path of the service sfm replaces as a deprecated alias of its route: one operation, its own id', () => {
    const aliases = ROUTES.flatMap((r) => (r.aliases ?? []).map((alias) => ({ r, alias })));
    expect(aliases.map(({ r, alias }) => `${r.method} ${alias}`).sort()).toEqual(['get /device/call_home', 'get /device/events/storage_range', 'post /device/call_home']);
    for (const { r, alias } of aliases) {
      const canonical = doc.paths[r.path]![r.method] as Record<string, any>;
      const { operationId, summary, description, deprecated, ...rest } = doc.paths[alias]![r.method] as Record<string, any>;
      expect(deprecated).toBe(true);
      expect(canonical.deprecated).toBeUndefined();
      expect(operationId).toBe(`${r.id}Alias`);
      expect(description).toContain(`the same operation as ${r.method.toUpperCase()} ${r.path}`);
      expect(description).toContain(canonical.description);
      expect(summary).toContain(canonical.summary);
      // parameters, body, responses, security, tags: the route's own
      const { operationId: _id, summary: _s, description: _d, ...canonicalRest } = canonical;
      expect(rest).toEqual(canonicalRest);
    }
  });

  it('GET /device/event/{idx} takes debug and answers Event or, with it, EventDebug (Event and raw)', () => {
    const op = doc.paths['/device/event/{idx}']!.get as Record<string, any>;
    expect(op.parameters.find((p: { name: string }) => p.name === 'debug')).toMatchObject({ in: 'query', required: false, schema: { type: 'boolean', default: false } });
    expect(op.responses['200'].content['application/json'].schema.anyOf).toEqual([{ $ref: '#/components/schemas/Event' }, { $ref: '#/components/schemas/EventDebug' }]);
    const schemas = (doc.components as Record<string, Record<string, any>>).schemas!;
    expect(Object.keys(schemas.EventDebug.properties)).toEqual([...Object.keys(schemas.Event.properties), 'raw']);
    expect(schemas.EventDebug.properties.raw).toEqual({ $ref: '#/components/schemas/EventRaw' });
    expect(schemas.EventRaw.properties.waveform_record_hex.type).toEqual(['string', 'null']);
    expect(schemas.EventRaw.required).toEqual(['waveform_record_hex', 'header_hex']);
  });

  it('every operation declares 408 and 431 (Node answers them before a route is chosen)', () => {
    for (const r of ROUTES) for (const s of ['408', '431']) expect((doc.paths[r.path]![r.method] as Record<string, any>).responses[s], `${r.id} ${s}`).toBeDefined();
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
