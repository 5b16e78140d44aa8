/**
 * The OpenAPI 3.1 document, generated from the route table and the component schemas — the same
 * data the request validator is generated from. Decisions the contract leaves open are written
 * into the descriptions here, so the served document is the reference.
 */
import type { TSchema } from '@sinclair/typebox';
import { ERROR_CODES, type ErrorCode } from '@sfm/core';
import { COMPONENTS } from '@sfm/core/schema';
import { HTTP_STATUS } from './errors.js';
import { errorStatuses, ROUTE_TAGS, ROUTES, type ErrorStatus, type ParamSpec, type RouteSpec } from './routes.js';

/** Keywords of sfm's own on the shapes (messages, environment names), not JSON Schema. */
const OWN_KEYWORDS = new Set(['patternText', 'env']);

/**
 * The OpenAPI 3.1 (JSON Schema 2020-12) form of a shape: a named component becomes a $ref (unless
 * it is the component being written, `self`), sfm's own keywords are left out.
 */
/**
 * The plain JSON Schema forms readers expect: a union of literals as an `enum`, a nullable scalar
 * as a type list (`["string", "null"]`).
 */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  const alts = o.anyOf as Record<string, unknown>[] | undefined;
  if (!alts) return o;
  const { anyOf: _alts, ...rest } = o;
  if (alts.every((a) => a.const !== undefined)) return { ...rest, type: typeof alts[0]!.const, enum: alts.map((a) => a.const) };
  const nonNull = alts.filter((a) => a.type !== 'null');
  if (alts.length === 2 && nonNull.length === 1 && typeof nonNull[0]!.type === 'string' && nonNull[0]!.type !== 'object' && nonNull[0]!.type !== 'array') {
    const t = nonNull[0]!;
    return { ...t, ...rest, type: [t.type, 'null'], ...(Array.isArray(t.enum) ? { enum: [...t.enum, null] } : {}) };
  }
  return o;
}

export function toOpenApiSchema(schema: TSchema, self?: string): Record<string, unknown> {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const o = node as Record<string, unknown>;
    if (typeof o.$id === 'string' && o.$id !== self) return { $ref: `#/components/schemas/${o.$id}` };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (!OWN_KEYWORDS.has(k) && k !== '$id') out[k] = walk(v);
    return compact(out);
  };
  return walk(schema) as Record<string, unknown>;
}

export const API_PREFIX = '/api/sfm';

/** Codes the HTTP API never answers with: CONFIG_INVALID goes out as INTERNAL; the others are the emulated unit's control API's. */
const NOT_ANSWERED: ReadonlySet<ErrorCode> = new Set(['CONFIG_INVALID', 'METHOD_NOT_ALLOWED', 'MEMORY_FULL']);

/** The codes an error status carries (errors.ts maps each code to its status). */
const codesOf = (status: ErrorStatus): ErrorCode[] => ERROR_CODES.filter((c) => HTTP_STATUS[c] === status && !NOT_ANSWERED.has(c));

const ERROR_RESPONSES: Record<ErrorStatus, { name: string; description: string; codes: ErrorCode[] }> = {
  400: { name: 'InvalidRequest', codes: codesOf(400), description: 'Bad or missing parameters or body: an unknown or repeated query parameter, a value out of range, malformed JSON, no unit chosen or several, options that do not go together; or a request that is not valid HTTP. The message names the field and why.' },
  401: { name: 'Unauthorized', codes: codesOf(401), description: 'A write route without the configured bearer token (or with another one). Only when a token is configured.' },
  403: { name: 'TargetNotAllowed', codes: codesOf(403), description: 'An ad-hoc host or serial port the configuration does not allow; no connection was attempted.' },
  404: { name: 'NotFound', codes: codesOf(404), description: 'Unknown device name, an event index beyond the unit\'s events, a monitor-log record asked for its waveform, or an unknown route.' },
  408: { name: 'RequestTimeout', codes: codesOf(408), description: 'The request line, headers or body did not arrive within the configured time (http_headers_timeout_s, http_request_timeout_s).' },
  409: { name: 'ConfirmationRequired', codes: codesOf(409), description: 'Erase without confirm=true; nothing was sent to the unit.' },
  413: { name: 'BodyTooLarge', codes: codesOf(413), description: 'The body is larger than the configured limit.' },
  415: { name: 'UnsupportedMediaType', codes: codesOf(415), description: 'A body that is not JSON (send Content-Type: application/json, UTF-8, uncompressed).' },
  // Answered by Node's HTTP parser, before any route: the code is the one of a bad request.
  431: { name: 'HeadersTooLarge', codes: ['INVALID_REQUEST'], description: 'The request line and headers are larger than the server accepts (16 KiB); the connection is closed.' },
  500: { name: 'Internal', codes: codesOf(500), description: 'Something unexpected; the message is "internal error" and the details are only in the server log (find them by X-Request-Id).' },
  502: { name: 'DeviceFailed', codes: codesOf(502), description: 'The unit could not be reached (connection refused, port missing, link dropped) or answered garbage (bad checksum, unexpected SUB, garbled stream).' },
  503: { name: 'Unavailable', codes: codesOf(503), description: 'DEVICE_BUSY: the unit\'s request queue is full, the request waited longer than allowed for its turn, or another sfm process sharing the store held the unit that long. STORE_UNAVAILABLE: the store cannot be read or written (read-only, disk full, database down) and nothing finished could be answered; the message names the cause.' },
  504: { name: 'DeviceTimeout', codes: codesOf(504), description: 'The unit stopped answering.' },
};

const HEADERS = {
  XRequestId: { description: 'The request id: the one sent in X-Request-Id when it is a sane token (1–128 of A–Z a–z 0–9 . _ : -), else a generated UUID. Log lines carry it.', schema: { type: 'string' } },
  XCache: {
    description:
      'hit: from the cache, no fetch; miss: nothing was cached, fetched from the unit; refresh: fetched again (force, a change on the unit, dirty info); ' +
      'stale: the unit could not be reached and the cached data is served (with Warning); uncached: fetched from the unit but the store could not keep it.',
    schema: { type: 'string', enum: ['hit', 'miss', 'refresh', 'stale', 'uncached'] },
  },
  Age: { description: 'Whole seconds since the data was last confirmed against the unit (the events list and its events: since the last successful probe).', schema: { type: 'integer', minimum: 0 } },
  Warning: { description: 'On X-Cache: stale only: 110 - "unit unreachable: <code>" (RFC 7234 / 5861).', schema: { type: 'string' } },
  ETag: {
    description: 'Strong tag: of a waveform, a hash of (serial, key, timestamp), the CSV form ending in "-csv"; of an analysis, a hash of its waveform\'s identity, the standards and the sfm version. A compressed answer\'s tag ends in "-br" or "-gzip".',
    schema: { type: 'string' },
  },
};

const DESCRIPTION = `A caching relay for Instantel MiniMate Plus (Series III) seismographs: each route reaches one unit through a per-unit queue and a cache with a policy per kind of data.

Every path is served both at the root and under the prefix ${API_PREFIX} (dashboards proxy ${API_PREFIX}/*); see servers.

Decisions this API makes where the sfm contract is silent:
- Device selection: every /device/* route and DELETE /cache/device take exactly one of device=<name>, host=<address> (+ tcp_port, default 12345) or port=<path> (+ baud, default 38400), always as query parameters (POST routes too). tcp_port without host, or baud without port, is 400. Unknown device name → 404; an ad-hoc target the configuration does not allow → 403, before any connection.
- Validation: unknown query parameters, repeated parameters (arrays) and values out of range are 400 INVALID_REQUEST naming the field and why; booleans are exactly true or false; integers are plain decimal digits. A route without a body accepts none or an empty JSON object.
- Bodies: JSON objects only (Content-Type application/json or +json, UTF-8); another media type is 415 UNSUPPORTED_MEDIA_TYPE, malformed JSON 400 INVALID_REQUEST, more than the configured limit 413 PAYLOAD_TOO_LARGE.
- Write routes (monitor start/stop, config, call-home write, erase) and DELETE /cache/device need Authorization: Bearer <token> when a token is configured (401 UNAUTHORIZED otherwise, with WWW-Authenticate); without a configured token they are open, and the server then binds only to loopback. The other routes take no token (security: []).
- Paths of the service sfm replaces are kept as aliases of sfm's routes, listed here as deprecated operations naming the path to use: /device/call_home (GET, POST), /device/events/storage_range (GET). They are the same routes (handler, token, validation, statuses) and are served under ${API_PREFIX} too.
- An unknown route, or a known path with another method, is 404 NOT_FOUND (the message names the methods the path takes).
- Responses are JSON (application/json; charset=utf-8) except the CSV waveform and the PDF report; every response carries X-Request-Id, X-Content-Type-Options: nosniff and Cache-Control: no-cache.
- GET / (and /assets/*) serve sfm's web application when the server ships it: static files, not operations of this document; the page uses only the routes listed here. GET /device/progress streams server-sent events when asked with Accept: text/event-stream (and answers the current Progress as JSON otherwise).
- Write routes answer what the unit reports afterwards: monitor start/stop the MonitorStatus, config the ComplianceConfig, call-home the CallHomeConfig, erase the StorageRange; DELETE /cache/device answers {connection_key, cleared: counts per kind}.`;

function parameter(p: ParamSpec): Record<string, unknown> {
  const schema = toOpenApiSchema(p.schema);
  return { name: p.name, in: p.in, required: p.in === 'path' || !!p.required, description: p.description, schema };
}

/**
 * An error response: the Error shape, with the codes its status carries. (`message: true` keeps
 * the field in readers that merge allOf branches naively instead of checking each.)
 */
function errorResponseSchema(codes: ErrorCode[]): Record<string, unknown> {
  return {
    allOf: [
      { $ref: '#/components/schemas/Error' },
      { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: codes }, message: true } } } },
    ],
  };
}

function operation(r: RouteSpec): Record<string, unknown> {
  const parameters = r.params.map(parameter);
  if (r.conditional) {
    parameters.push({ name: 'If-None-Match', in: 'header', required: false, description: 'ETags the client holds; a match (or *) answers 304 Not Modified.', schema: { type: 'string' } });
  }
  const okHeaders: Record<string, unknown> = { 'X-Request-Id': { $ref: '#/components/headers/XRequestId' } };
  if (r.cached) {
    okHeaders['X-Cache'] = { $ref: '#/components/headers/XCache' };
    okHeaders.Age = { $ref: '#/components/headers/Age' };
    okHeaders.Warning = { $ref: '#/components/headers/Warning' };
  }
  if (r.conditional) okHeaders.ETag = { $ref: '#/components/headers/ETag' };
  const content: Record<string, unknown> = {};
  if (r.ok.schema) content['application/json'] = { schema: toOpenApiSchema(r.ok.schema) };
  for (const [type, description] of Object.entries(r.ok.alternatives ?? {})) content[type] = { schema: { type: 'string', description } };
  const responses: Record<string, unknown> = { '200': { description: r.ok.description, headers: okHeaders, content } };
  if (r.conditional) responses['304'] = { description: 'Not Modified: If-None-Match matched the ETag.', headers: okHeaders };
  for (const s of errorStatuses(r)) responses[String(s)] = { $ref: `#/components/responses/${ERROR_RESPONSES[s].name}` };
  const op: Record<string, unknown> = {
    operationId: r.id,
    summary: r.summary,
    description: r.auth ? `${r.description} Needs the bearer token when one is configured.` : r.description,
    tags: [r.tag],
    parameters,
    responses,
  };
  if (r.body) {
    op.requestBody = { required: r.body.required, description: r.body.description, content: { 'application/json': { schema: toOpenApiSchema(r.body.schema) } } };
  }
  op.security = r.auth ? [{ bearerAuth: [] }] : [];
  return op;
}

/** The operation at an alias path: the route's own, deprecated, naming the path to use. */
function aliasOperation(r: RouteSpec, alias: string, nth: number): Record<string, unknown> {
  const op = operation(r);
  return {
    ...op,
    operationId: `${r.id}Alias${nth > 0 ? nth + 1 : ''}`,
    summary: `${r.summary} (old path)`,
    description: `${alias} is the path of the service sfm replaces, kept for its integrations: the same operation as ${r.method.toUpperCase()} ${r.path}, which new clients should use. ${op.description as string}`,
    deprecated: true,
  };
}

export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, unknown>> };

/** The OpenAPI 3.1 document of this API. */
export function buildOpenApi(version: string): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    (paths[r.path] ??= {})[r.method] = operation(r);
    (r.aliases ?? []).forEach((alias, nth) => ((paths[alias] ??= {})[r.method] = aliasOperation(r, alias, nth)));
  }
  const responses = Object.fromEntries(
    (Object.entries(ERROR_RESPONSES) as [string, (typeof ERROR_RESPONSES)[ErrorStatus]][]).map(([status, e]) => [
      e.name,
      {
        description: `${status}: ${e.description} Codes: ${e.codes.join(', ')}.`,
        headers: { 'X-Request-Id': { $ref: '#/components/headers/XRequestId' } },
        content: {
          'application/json': {
            schema: errorResponseSchema(e.codes),
            examples: Object.fromEntries(e.codes.map((code) => [code, { value: { error: { code, message: '…' } } }])),
          },
        },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: { title: 'sfm', version, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
    servers: [
      { url: '/', description: 'direct' },
      { url: API_PREFIX, description: 'the same routes under the prefix dashboards proxy' },
    ],
    tags: Object.entries(ROUTE_TAGS).map(([name, t]) => ({ name, description: t.description })),
    paths,
    components: {
      schemas: Object.fromEntries(COMPONENTS.map((c) => [c.$id!, toOpenApiSchema(c, c.$id)])),
      responses,
      headers: HEADERS,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'The token from the configuration (http_token), on write routes and DELETE /cache/device. A server without one (it then listens on loopback only) takes these requests without a token too.' },
      },
    },
  };
}
