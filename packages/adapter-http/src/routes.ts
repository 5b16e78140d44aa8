/**
 * The routes of the HTTP contract, each declared once: method, path, parameters, body, responses —
 * and the handler that answers it (plus, for cached reads, the `peek` that answers a hit from
 * memory without waiting). The request validator (validate.ts), the OpenAPI document (openapi.ts),
 * the express pipeline (app.ts) and the fast path (fast-path.ts) all read this table.
 */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { InvalidInput, SfmError } from '@sfm/core';
import * as S from '@sfm/core/schema';
import { checkCallHomeChanges, checkComplianceChanges } from '@sfm/core/schema';
import { ARCHIVE_CSV_COLUMNS, Body, archiveCsv, localTimeBound, waveformCsv, type ReadOptions, type Served } from '@sfm/core/service';
import { DEFAULT_BAUD, DEFAULT_TCP_PORT, connectionKey } from '@sfm/core/transport';
import type { Analysis, RecordType, Waveform } from '@sfm/core';
import type { ArchiveEventQuery } from '@sfm/core/cache';
import { CURVE_RANGE_HZ, DEFAULT_ANALYSIS_SETTINGS, DISTANCE_FT_LIMITS, STANDARD_CURVE_IDS, STANDARD_NAME, analysisOptions, analysisOptionsKey, curvePoints, type AnalysisOptions } from '@sfm/core/analysis';
import { archivedEventReport, deviceEventReport } from '@sfm/report';
import { analysisEtag, waveformEtag, waveformIdentity } from './etag.js';
import { buildOpenApi } from './openapi.js';
import { KEEPALIVE_MS, progressEvents } from './progress-stream.js';
import type { Handler, Peek, Reply, RouteContext } from './http.js';

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

/** The groups of routes: what each is (the OpenAPI tags), and what its token-protected routes do (said when the token is missing). */
export const ROUTE_TAGS = {
  service: { description: 'the server itself', authReason: 'this route changes the server' },
  device: { description: 'one unit, chosen by device, host or port', authReason: 'this route changes the unit' },
  cache: { description: 'the relay\'s cache', authReason: 'this route clears what is cached for a unit' },
  archive: { description: 'the archive and the fleet: every unit and event sfm has read (no device I/O)', authReason: 'this route changes the archive' },
} as const;

export type RouteTag = keyof typeof ROUTE_TAGS;

export interface ParamSpec {
  name: string;
  in: 'query' | 'path';
  schema: TSchema;
  required?: boolean;
  description: string;
}

export interface BodySpec {
  required: boolean;
  schema: TObject;
  description: string;
}

export interface ResponseSpec {
  description: string;
  /** The JSON body; absent for a body in another media type (csv) or none (304). */
  schema?: TSchema;
  /** Other media types this response may have, with their description. */
  alternatives?: Record<string, string>;
}

export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 415 | 431 | 500 | 502 | 503 | 504;

export interface RouteSpec {
  /** operationId. */
  id: string;
  method: HttpMethod;
  /** OpenAPI form: /device/event/{idx}. */
  path: string;
  /**
   * Other paths of this very route: those of the service sfm replaces, kept for its integrations.
   * Served by the same handler, auth gate, validation and fast path; listed in the OpenAPI
   * document as deprecated aliases naming `path`.
   */
  aliases?: string[];
  summary: string;
  description: string;
  tag: RouteTag;
  /** Takes the device selection parameters (device | host+tcp_port | port+baud). */
  device: boolean;
  /** Needs the bearer token when one is configured. */
  auth: boolean;
  /** Answers from the cache: X-Cache and Age headers. */
  cached: boolean;
  params: ParamSpec[];
  body?: BodySpec;
  ok: ResponseSpec;
  /** Extra statuses beyond those implied by device/auth/body. */
  errors?: ErrorStatus[];
  /** Answers 304 Not Modified to a matching If-None-Match. */
  conditional?: boolean;
  /** A probe (liveness, readiness, metrics): query parameters it does not take are ignored, as monitors add their own. */
  probe?: boolean;
  handle: Handler;
  /** A hit from memory, without waiting (served on the fast path when it answers). */
  peek?: Peek;
}

// --- shared parameters -------------------------------------------------------------------------

const HOST_PATTERN = '^(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.\\-:]+)$';
// A serial port path: printable ASCII without spaces, and no ".." segment (allow-list patterns
// match path prefixes, so /dev/ttyUSB0/../.. must not pass as a ttyUSB port).
const SERIAL_PATH_PATTERN = '^(?!.*(?:^|[/\\\\])\\.\\.(?:[/\\\\]|$))[\\x21-\\x7e]+$';

export const DEVICE_PARAMS: ParamSpec[] = [
  {
    name: 'device',
    in: 'query',
    schema: Type.String({ minLength: 1, maxLength: 128 }),
    description: 'A unit from the configured device registry, by name. Give exactly one of device, host or port. 404 NOT_FOUND when no unit has that name.',
  },
  {
    name: 'host',
    in: 'query',
    schema: Type.String({ pattern: HOST_PATTERN, patternText: 'a host name or IP address', maxLength: 253 }),
    description: 'A cellular modem or TCP bridge (host name, IPv4 or IPv6 address; brackets around IPv6 are optional). Every spelling of one address is one unit. Must be allowed by the configuration (registered units, allow-listed hosts/CIDRs, loopback by default), else 403 TARGET_NOT_ALLOWED before any connection is attempted.',
  },
  {
    name: 'tcp_port',
    in: 'query',
    schema: Type.Integer({ minimum: 1, maximum: 65535, default: DEFAULT_TCP_PORT }),
    description: `TCP port of the modem or bridge (only with host; default ${DEFAULT_TCP_PORT}).`,
  },
  {
    name: 'port',
    in: 'query',
    schema: Type.String({ pattern: SERIAL_PATH_PATTERN, patternText: 'a serial port path (printable ASCII, no spaces, no ".." segment)', maxLength: 255 }),
    description: 'A direct RS-232 port path (e.g. /dev/ttyUSB0). Must be allowed by the configuration, else 403 TARGET_NOT_ALLOWED.',
  },
  {
    name: 'baud',
    in: 'query',
    schema: Type.Integer({ minimum: 50, maximum: 4_000_000, default: DEFAULT_BAUD }),
    description: `Baud rate of the serial port (only with port; default ${DEFAULT_BAUD}).`,
  },
];

const FORCE: ParamSpec = { name: 'force', in: 'query', schema: Type.Boolean({ default: false }), description: 'true: bypass the cache, ask the unit and refresh the cache (X-Cache: refresh).' };

const STALE: ParamSpec = {
  name: 'stale',
  in: 'query',
  schema: Type.Boolean({ default: true }),
  description: 'When the unit cannot be reached (refused, timeout, dropped link) and the data is cached, it is served with X-Cache: stale, its true Age and a Warning header (RFC 5861 stale-if-error). false: answer the error instead.',
};

const MAX_AGE: ParamSpec = {
  name: 'max_age',
  in: 'query',
  schema: Type.Integer({ minimum: 0, maximum: 31_536_000 }),
  description: 'Seconds: when the unit\'s event list was probed within this many seconds, it is served from the cache with no device I/O (X-Cache: hit, Age = seconds since that probe).',
};

const IDX: ParamSpec = {
  name: 'idx',
  in: 'path',
  required: true,
  schema: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  description: '0-based event index. An index beyond the unit\'s events answers 404 NOT_FOUND.',
};

const DEBUG: ParamSpec = {
  name: 'debug',
  in: 'query',
  schema: Type.Boolean({ default: false }),
  description:
    'true: the event with raw: the hex of its 0C waveform record and 0A header, read from the unit for this request (the list\'s probe first, so the index names the event the unit holds now; not cached, the cached event is not changed). ' +
    'A monitor-log record has no 0C record: waveform_record_hex is null. X-Cache says how the list\'s probe went, as on /device/events (hit: nothing new had to be read), and Age is 0. Reads the unit, so stale and max_age do not go with it (400).',
};

const FORMAT: ParamSpec = { name: 'format', in: 'query', schema: S.OneOf(['json', 'csv'], 'json (default) or csv'), description: 'json (default) or csv' };

const STANDARD: ParamSpec = {
  name: 'standard',
  in: 'query',
  schema: Type.String({ pattern: `^${STANDARD_NAME.pattern}(?:,${STANDARD_NAME.pattern})*$`, patternText: 'standard names separated by commas', maxLength: 1000 }),
  description:
    `The standards to judge the event against, comma-separated, in the order the analysis lists them: ${STANDARD_CURVE_IDS.join(', ')}, or the name of a curve configured in compliance_curves. ` +
    'Default: the configuration\'s compliance_standards (osmre-chart unless configured). An unknown or repeated name is 400 INVALID_REQUEST naming the known ones.',
};

const DISTANCE_FT: ParamSpec = {
  name: 'distance_ft',
  in: 'query',
  schema: Type.Number({ ...DISTANCE_FT_LIMITS }),
  description: 'The sensor\'s distance from the blast in feet, for osmre-distance (default: the configuration\'s compliance_distance_ft; with neither, osmre-distance has no limit and its verdict is n/a).',
};

const device = (...extra: ParamSpec[]): ParamSpec[] => [...DEVICE_PARAMS, ...extra];

/** Does the Accept header ask for server-sent events (before JSON)? */
function wantsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

// --- archive parameters ------------------------------------------------------------------------

const SERIAL_TEXT = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', patternText: 'a unit serial (letters, digits, _ . -)' });
const SERIAL_PATH: ParamSpec = { name: 'serial', in: 'path', required: true, schema: SERIAL_TEXT, description: 'The unit\'s serial (e.g. BE18189).' };
const SERIAL_QUERY: ParamSpec = { name: 'serial', in: 'query', schema: SERIAL_TEXT, description: 'Only this unit\'s.' };
const EVENT_ID: ParamSpec = { name: 'id', in: 'path', required: true, schema: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), description: 'The archive\'s id of the event.' };
const DEFAULT_LIMIT = 100;
const LIMIT: ParamSpec = { name: 'limit', in: 'query', schema: Type.Integer({ minimum: 1, maximum: 5000, default: DEFAULT_LIMIT }), description: `Items per page (default ${DEFAULT_LIMIT}, at most 5000).` };
const CURSOR: ParamSpec = { name: 'cursor', in: 'query', schema: Type.String({ minLength: 1, maxLength: 200 }), description: 'The next_cursor of the previous page.' };
const ARCHIVE_FILTERS: ParamSpec[] = [
  SERIAL_QUERY,
  { name: 'from', in: 'query', schema: S.LocalTime, description: 'Recorded at or after this unit-local time (a date means its first second).' },
  { name: 'to', in: 'query', schema: S.LocalTime, description: 'Recorded at or before this unit-local time (a date means its last second).' },
  { name: 'min_pvs_ips', in: 'query', schema: Type.Number({ minimum: 0 }), description: 'The unit\'s peak vector sum at least this, in/s.' },
  { name: 'project', in: 'query', schema: Type.String({ minLength: 1, maxLength: 200 }), description: 'The event-time project name contains this (case-insensitive).' },
  { name: 'record_type', in: 'query', schema: S.OneOf(S.RECORD_TYPES, 'what the record holds'), description: 'Only records of this type.' },
  { name: 'false_trigger', in: 'query', schema: Type.Boolean(), description: 'Only events marked (true) or not marked (false) as false triggers.' },
  LIMIT,
  CURSOR,
];

const CACHE_NOTE =
  'Responses carry X-Cache (hit, miss, refresh, stale or uncached) and Age (whole seconds since the data was last confirmed against the unit). ' +
  'A hit needs no device I/O while the serial at the address was confirmed within identity_ttl_s (default 300 s); past it, one serial read confirms it first, and when another unit answers nothing cached for the old one is served.';

// --- handler helpers ---------------------------------------------------------------------------

/** The cache options a cached route's query gives. */
function readOptions(c: RouteContext): ReadOptions {
  return { force: c.query.force === true, stale: c.query.stale !== false, maxAgeS: c.query.max_age as number | undefined };
}

const idx = (c: RouteContext): number => c.params.idx as number;
const served = (s: Served<unknown>): Reply => ({ served: s });

/** A hit answered from memory, unless the request asks the unit (force, debug). */
const peekOf = (fn: (c: RouteContext) => Served<unknown> | undefined): Peek => (c) => {
  if (c.query.force === true || c.query.debug === true) return undefined;
  const s = fn(c);
  return s && { served: s };
};

/** debug=true reads the unit: the options that serve from the cache do not go with it. */
function debugOptions(c: RouteContext): { force: boolean } {
  for (const name of ['stale', 'max_age']) if (c.query[name] !== undefined) throw new InvalidInput(name, 'does not go with debug=true (debug reads the unit)');
  return { force: c.query.force === true };
}

/** The standards a request asks for (400 naming `standard` for an unknown one). */
function requestedAnalysis(c: RouteContext): AnalysisOptions {
  return analysisOptions(c.deps.analysis ?? DEFAULT_ANALYSIS_SETTINGS, { standard: c.query.standard as string | undefined, distance_ft: c.query.distance_ft as number | undefined });
}

/** A report's file name: the unit and the event's key, nothing a header could trip on. */
function reportFilename(a: Analysis): string {
  return `${a.serial}-${a.key}.pdf`.replace(/[^A-Za-z0-9._-]/g, '_');
}

function noArchivedWaveform(c: RouteContext): string {
  return `archived event ${eventId(c)} has no waveform (it was never downloaded, or there is no such event)`;
}

/** An analysis, tagged by its waveform's identity, the options and the sfm version that made it. */
function analysisReply(c: RouteContext, s: Served<Analysis>, options: AnalysisOptions): Reply {
  return { served: s, etag: analysisEtag(s.value, analysisOptionsKey(options), c.deps.version) };
}

/** A waveform as JSON or CSV, tagged by its identity. */
function waveformReply(c: RouteContext, s: Served<Waveform>): Reply {
  const format = c.query.format === 'csv' ? 'csv' : 'json';
  const id = waveformIdentity(s);
  const etag = waveformEtag(id, format);
  if (format === 'json') return { served: s, etag };
  const filename = `${id.serial}-${id.key}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
  return { served: s, etag, text: { pieces: { [Symbol.iterator]: () => waveformCsv(s.value) }, contentType: 'text/csv; charset=utf-8', filename } };
}

/** The value, or 404 NOT_FOUND saying what was not there. */
function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new SfmError('NOT_FOUND', what);
  return value;
}

const eventId = (c: RouteContext): number => c.params.id as number;

function archiveQuery(c: RouteContext, limit = (c.query.limit as number | undefined) ?? DEFAULT_LIMIT): ArchiveEventQuery {
  const q = c.query;
  return {
    serial: q.serial as string | undefined,
    from: localTimeBound(q.from as string | undefined, false),
    to: localTimeBound(q.to as string | undefined, true),
    minPvsIps: q.min_pvs_ips as number | undefined,
    project: q.project as string | undefined,
    recordType: q.record_type as RecordType | undefined,
    falseTrigger: q.false_trigger as boolean | undefined,
    limit,
    cursor: q.cursor as string | undefined,
  };
}

// --- the table ---------------------------------------------------------------------------------

const started = performance.now();
const openApiCache = new Map<string, Body>();
/** The document is built from this very table, once per version. */
function openApiBytes(version: string): Body {
  let b = openApiCache.get(version);
  if (!b) openApiCache.set(version, (b = new Body(Buffer.from(JSON.stringify(buildOpenApi(version))))));
  return b;
}

export const ROUTES: readonly RouteSpec[] = [
  {
    id: 'health',
    method: 'get',
    path: '/health',
    summary: 'Liveness',
    description: 'The server is up. Does no device I/O; uptime_s counts whole seconds since this HTTP server started.',
    tag: 'service',
    device: false,
    auth: false,
    cached: false,
    params: [],
    probe: true,
    ok: { description: 'up', schema: S.Health },
    handle: async (c) => ({ json: { status: 'ok', version: c.deps.version, uptime_s: Math.floor((performance.now() - started) / 1000), store: c.deps.relay.store.kind } }),
  },
  {
    id: 'ready',
    method: 'get',
    path: '/ready',
    summary: 'Readiness',
    description: 'The server takes work: 200 while its store answers and it is not shutting down; 503 SHUTTING_DOWN while it drains, 503 STORE_UNAVAILABLE when the store cannot be read. /health stays liveness.',
    tag: 'service',
    device: false,
    auth: false,
    cached: false,
    params: [],
    probe: true,
    errors: [503],
    ok: { description: 'ready', schema: S.Ready },
    handle: async (c) => {
      if (c.closing) throw new SfmError('SHUTTING_DOWN', 'the server is shutting down: it finishes what is in flight and takes no new work');
      await c.deps.relay.store.stats();
      return { json: { status: 'ready', store: c.deps.relay.store.kind } };
    },
  },
  {
    id: 'metrics',
    method: 'get',
    path: '/metrics',
    summary: 'Metrics (Prometheus text format)',
    description: "sfm's own metrics (sfm_…: HTTP requests by route and status, cache outcomes by kind, device sessions, round trips and bytes per unit, queue depth and waits, store errors) and the process metrics, in the Prometheus text exposition format. 404 when no metrics plugin is loaded.",
    tag: 'service',
    device: false,
    auth: false,
    cached: false,
    params: [],
    probe: true,
    errors: [404],
    ok: { description: 'the metrics', alternatives: { 'text/plain': 'the Prometheus text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4; charset=utf-8)' } },
    handle: async (c) => {
      const render = c.deps.metrics?.render;
      if (!render) throw new SfmError('NOT_FOUND', 'no metrics plugin is loaded (add metrics-prometheus to plugins)');
      const { contentType, body } = await render.call(c.deps.metrics);
      return { text: { pieces: [body], contentType } };
    },
  },
  {
    id: 'openapi',
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    description: 'The OpenAPI 3.1 document of this API, generated from the same route table and shapes the server validates requests with.',
    tag: 'service',
    device: false,
    auth: false,
    cached: false,
    params: [],
    ok: { description: 'the OpenAPI document', schema: Type.Object({}, { additionalProperties: true, description: 'OpenAPI 3.1 document' }) },
    handle: async (c) => ({ bytes: openApiBytes(c.deps.version) }),
  },
  {
    id: 'devices',
    method: 'get',
    path: '/devices',
    summary: 'The configured units',
    description: 'The device registry of the configuration (and the emulated unit "demo" when it runs): each name to give as device=, its address, and the serial that answered there last (null when it was never asked). No device I/O. The fleet (GET /db/units) lists units that were read; a configured unit not read yet is only here.',
    tag: 'service',
    device: false,
    auth: false,
    cached: false,
    params: [],
    ok: { description: 'the configured units, in configuration order', schema: Type.Array(S.ConfiguredDevice) },
    handle: async (c) => ({
      json: await Promise.all(
        c.deps.devices.entries().map(async ([name, target]) => {
          const key = connectionKey(target);
          const id = await c.deps.relay.store.getIdentity(key);
          return { name, connection_key: key, serial: id?.serial ?? null };
        }),
      ),
    }),
  },
  {
    id: 'curves',
    method: 'get',
    path: '/analysis/curves',
    summary: 'The compliance standards\' curves',
    description: `Each standard asked for (default: the configured ones, as GET …/analysis judges) as the corners of its limit curve between ${CURVE_RANGE_HZ.from} and ${CURVE_RANGE_HZ.to} Hz, joined by straight lines on a log–log chart of PPV against frequency: what a client draws the compliance chart from, beside an Analysis's points. No device I/O.`,
    tag: 'service',
    device: false,
    auth: false,
    cached: false,
    params: [STANDARD, DISTANCE_FT],
    ok: { description: 'the curves, in the order asked for', schema: Type.Array(S.StandardCurve) },
    handle: async (c) => ({
      json: (requestedAnalysis(c).curves ?? []).map((curve) => ({ id: curve.id, title: curve.title, source: curve.source, frequency_independent: curve.frequency_independent, points: curvePoints(curve) })),
    }),
  },
  {
    id: 'info',
    method: 'get',
    path: '/device/info',
    summary: 'Identity and configuration of the unit',
    description: `POLL, serial (15), full config (01), compliance (1A), event index (08). Cached until config is written through sfm, or force. ${CACHE_NOTE}`,
    tag: 'device',
    device: true,
    auth: false,
    cached: true,
    params: device(FORCE, STALE),
    ok: { description: 'the unit', schema: S.DeviceInfo },
    handle: async (c) => served(await c.deps.relay.info(c.target, readOptions(c))),
    peek: peekOf((c) => c.deps.relay.peekInfo(c.target)),
  },
  {
    id: 'connect',
    method: 'post',
    path: '/device/connect',
    summary: 'Connect and refresh the unit\'s identity',
    description: `Same as GET /device/info with force=true: always asks the unit and refreshes the cache (X-Cache: refresh, Age: 0). Takes no body (an empty JSON object is accepted). ${CACHE_NOTE}`,
    tag: 'device',
    device: true,
    auth: false,
    cached: true,
    params: device(),
    ok: { description: 'the unit, as it answered now', schema: S.DeviceInfo },
    handle: async (c) => served(await c.deps.relay.info(c.target, { force: true })),
  },
  {
    id: 'events',
    method: 'get',
    path: '/device/events',
    summary: 'Every stored event',
    description: `Header, peaks and event-time project text of every event. Append-only cache: a cheap probe (serial, storage range SUB 06 and the lifetime record counter SUB 08 — a fixed cost whatever the number of events), then only the new events; a unit that was erased (also by other software, even when refilled to the same storage range) or swapped is re-synced. The probe talks to the unit, so X-Cache: hit here means nothing new had to be read; with max_age a recent probe is enough. ${CACHE_NOTE}`,
    tag: 'device',
    device: true,
    auth: false,
    cached: true,
    params: device(FORCE, STALE, MAX_AGE),
    ok: { description: 'the events', schema: S.EventList },
    handle: async (c) => served(await c.deps.relay.events(c.target, readOptions(c))),
  },
  {
    id: 'event',
    method: 'get',
    path: '/device/event/{idx}',
    summary: 'One event by 0-based index',
    description: `Served from the events cache when present (no device I/O); otherwise the events are synced first, reading only up to this index on a cold cache (a later sync continues from there). Age counts from the list's last probe, as on /device/events. With debug=true, also the raw blocks read from the unit now (EventDebug). ${CACHE_NOTE}`,
    tag: 'device',
    device: true,
    auth: false,
    cached: true,
    params: device(IDX, FORCE, STALE, MAX_AGE, DEBUG),
    ok: { description: 'the event (EventDebug with debug=true)', schema: Type.Union([S.Event, S.EventDebug], { description: 'Event; with debug=true, EventDebug' }) },
    handle: async (c) =>
      served(c.query.debug === true ? await c.deps.relay.eventDebug(c.target, idx(c), debugOptions(c)) : await c.deps.relay.event(c.target, idx(c), readOptions(c))),
    peek: peekOf((c) => c.deps.relay.peekEvent(c.target, idx(c), { maxAgeS: c.query.max_age as number | undefined })),
  },
  {
    id: 'waveform',
    method: 'get',
    path: '/device/event/{idx}/waveform',
    summary: 'Full waveform of an event',
    description:
      `The 5A stream in physical units. format=json (default) gives the Waveform document; format=csv streams text/csv: a header line t_s,Tran_ips,Vert_ips,Long_ips,MicL_psi and one line per sample. Immutable: kept for good while (serial, key, timestamp) at that index match. ` +
      'The strong ETag is a hash of (serial, key, timestamp) — the CSV form\'s ends in "-csv" — and If-None-Match is honoured with 304 Not Modified (checked from the cache without downloading when the waveform is cached). ' +
      `A monitor-log record has no waveform: 404 NOT_FOUND. ${CACHE_NOTE}`,
    tag: 'device',
    device: true,
    auth: false,
    cached: true,
    conditional: true,
    params: device(IDX, FORMAT, FORCE, STALE),
    ok: { description: 'the waveform', schema: S.Waveform, alternatives: { 'text/csv': 'format=csv: t_s,Tran_ips,Vert_ips,Long_ips,MicL_psi, one line per sample' } },
    handle: async (c) => waveformReply(c, await c.deps.relay.waveform(c.target, idx(c), readOptions(c))),
    peek: (c) => {
      if (c.query.force === true) return undefined;
      const s = c.deps.relay.peekWaveform(c.target, idx(c));
      return s && waveformReply(c, s);
    },
  },
  {
    id: 'analysis',
    method: 'get',
    path: '/device/event/{idx}/analysis',
    summary: 'What an event means: its figures and compliance',
    description:
      'Computed by sfm from the event\'s waveform in physical units (read as GET …/waveform reads it: downloaded when not cached, served stale when the unit cannot be reached): per geophone channel the PPV with its time, the zero-crossing frequency of the peak (or the vendor\'s flag), peak acceleration and displacement and the FFT dominant frequency; the peak vector sum; the microphone\'s peak pressure in psi and dB(L); ' +
      'and the event against each standard asked for (the limit at each channel\'s ZC frequency, the margin PPV / limit, the verdict) and against the configured air-blast limit. ' +
      'Immutable like its waveform: kept in memory under the waveform\'s identity and the standards, so a repeat is a hit with no device I/O. X-Cache and Age are the waveform\'s. ' +
      `The strong ETag is a hash of the waveform's identity, the standards and the sfm version; If-None-Match is honoured with 304. A monitor-log record has no waveform: 404 NOT_FOUND. ${CACHE_NOTE}`,
    tag: 'device',
    device: true,
    auth: false,
    cached: true,
    conditional: true,
    params: device(IDX, STANDARD, DISTANCE_FT, FORCE, STALE),
    ok: { description: 'the analysis', schema: S.Analysis },
    handle: async (c) => {
      const options = requestedAnalysis(c);
      return analysisReply(c, await c.deps.relay.analysis(c.target, idx(c), { ...readOptions(c), analysis: options }), options);
    },
    peek: (c) => {
      if (c.query.force === true) return undefined;
      const options = requestedAnalysis(c);
      const s = c.deps.relay.peekAnalysis(c.target, idx(c), options);
      return s && analysisReply(c, s, options);
    },
  },
  {
    id: 'report',
    method: 'get',
    path: '/device/event/{idx}/report.pdf',
    summary: 'The one-page event report (PDF)',
    description:
      'The event\'s report as a one-page vector PDF (US Letter, landscape): the unit and the event (key, unit-local time, received-at in UTC, the project text recorded with it, sample rate, record time, geophone range, trigger level), the figures of GET …/analysis, the four channels with the trigger and the peaks marked, and the log–log compliance chart with each standard\'s curve and each channel\'s point. ' +
      'The same analysis (standard and distance_ft choose the standards; the first fills the table). The event\'s project text is read first when it is still pending; the unit\'s firmware and setup are left out (printed —) when the unit cannot be asked. X-Cache and Age are the waveform\'s. ' +
      `A monitor-log record has no waveform: 404 NOT_FOUND. ${CACHE_NOTE}`,
    tag: 'device',
    device: true,
    auth: false,
    cached: true,
    params: device(IDX, STANDARD, DISTANCE_FT, FORCE, STALE),
    ok: { description: 'the report', alternatives: { 'application/pdf': 'a one-page PDF (Content-Disposition: inline; filename="<serial>-<key>.pdf")' } },
    handle: async (c) => {
      const r = await deviceEventReport(c.deps.relay, c.target, idx(c), { analysis: requestedAnalysis(c), force: c.query.force === true, stale: c.query.stale !== false, version: c.deps.version });
      return { served: r.waveform, file: { bytes: r.pdf, contentType: 'application/pdf', filename: reportFilename(r.analysis) } };
    },
  },
  {
    id: 'status',
    method: 'get',
    path: '/device/monitor/status',
    summary: 'Monitoring, battery, memory, clock',
    description: `Cached for a TTL (30 s unless configured); dropped by monitor start/stop. ${CACHE_NOTE}`,
    tag: 'device',
    device: true,
    auth: false,
    cached: true,
    params: device(FORCE, STALE),
    ok: { description: 'the status', schema: S.MonitorStatus },
    handle: async (c) => served(await c.deps.relay.status(c.target, readOptions(c))),
    peek: peekOf((c) => c.deps.relay.peekStatus(c.target)),
  },
  {
    id: 'progress',
    method: 'get',
    path: '/device/progress',
    summary: 'Follow the device work at one address (server-sent events)',
    description:
      'What the device work at the chosen address is doing now, as one Progress document; with Accept: text/event-stream, a stream of Progress reports: first what it is doing now (step idle when nothing runs), then one `progress` event per report while a request — anyone\'s: an HTTP client, the text read after an answer — reads its event list (sync), project text (text) or a waveform (download), and idle when that session ends. ' +
      `The same reports the CLI draws its progress line from. A comment line comes every ${KEEPALIVE_MS / 1000} s while nothing happens; the stream ends when the client closes it or the server shuts down (a browser's EventSource reconnects by itself). No device I/O: open it before the request whose progress it should show.`,
    tag: 'device',
    device: true,
    auth: false,
    cached: false,
    params: device(),
    ok: {
      description: 'what the address is doing now (application/json), or the stream of it (Accept: text/event-stream)',
      schema: S.Progress,
      alternatives: { 'text/event-stream': 'with Accept: text/event-stream: server-sent events, `event: progress` with `data:` a Progress document as JSON, one per report' },
    },
    handle: async (c) => {
      const key = connectionKey(c.target);
      if (!wantsEventStream(c.accept)) return { json: c.deps.relay.progress.current(key) };
      return { events: progressEvents(c.deps.relay.progress, key, c.signal) };
    },
  },
  {
    id: 'monitorStart',
    method: 'post',
    path: '/device/monitor/start',
    summary: 'Start monitoring',
    description: 'Starts monitoring and waits (polling, up to 60 s) until the unit reports it; answers the status it reported. Drops the cached status. Takes no body (an empty JSON object is accepted).',
    tag: 'device',
    device: true,
    auth: true,
    cached: false,
    params: device(),
    ok: { description: 'the status once monitoring', schema: S.MonitorStatus },
    handle: async (c) => ({ json: await c.deps.relay.startMonitoring(c.target) }),
  },
  {
    id: 'monitorStop',
    method: 'post',
    path: '/device/monitor/stop',
    summary: 'Stop monitoring',
    description: 'Stops monitoring; answers the status read afterwards. Drops the cached status. Takes no body (an empty JSON object is accepted).',
    tag: 'device',
    device: true,
    auth: true,
    cached: false,
    params: device(),
    ok: { description: 'the status after stopping', schema: S.MonitorStatus },
    handle: async (c) => ({ json: await c.deps.relay.stopMonitoring(c.target) }),
  },
  {
    id: 'config',
    method: 'post',
    path: '/device/config',
    summary: 'Change compliance settings',
    description:
      'Partial compliance-config write: the body names the fields to change; the rest of the block is read back from the unit and written unchanged. Answers the compliance config as written. Marks the cached device info dirty (the next GET /device/info refetches). ' +
      'A text value longer than the room the unit has for it answers 400 before anything is written.',
    tag: 'device',
    device: true,
    auth: true,
    cached: false,
    params: device(),
    body: { required: true, schema: S.ComplianceChanges, description: 'the fields to change' },
    ok: { description: 'the compliance config now on the unit', schema: S.ComplianceConfig },
    handle: async (c) => ({ json: await c.deps.relay.writeConfig(c.target, checkComplianceChanges(c.body ?? {})) }),
  },
  {
    id: 'callHomeGet',
    method: 'get',
    path: '/device/call-home',
    aliases: ['/device/call_home'],
    summary: 'Read the auto-call-home settings',
    description: 'Not cached: always asks the unit.',
    tag: 'device',
    device: true,
    auth: false,
    cached: false,
    params: device(),
    ok: { description: 'the settings', schema: S.CallHomeConfig },
    handle: async (c) => ({ json: await c.deps.relay.readCallHome(c.target) }),
  },
  {
    id: 'callHomeSet',
    method: 'post',
    path: '/device/call-home',
    aliases: ['/device/call_home'],
    summary: 'Change the auto-call-home settings',
    description: 'The body names the settings to change (time1/time2 may be given in part); the rest is read from the unit and kept. Answers the settings read back. Not cached.',
    tag: 'device',
    device: true,
    auth: true,
    cached: false,
    params: device(),
    body: { required: true, schema: S.CallHomeChanges, description: 'the settings to change' },
    ok: { description: 'the settings now on the unit', schema: S.CallHomeConfig },
    handle: async (c) => ({ json: await c.deps.relay.writeCallHome(c.target, checkCallHomeChanges(c.body ?? {})) }),
  },
  {
    id: 'storageRange',
    method: 'get',
    path: '/device/events/storage-range',
    aliases: ['/device/events/storage_range'],
    summary: 'First, last and next event key',
    description: 'SUB 06, read from the unit every time: the first key and the key the next record will get. The last stored record\'s key is not in SUB 06: it comes from the event list, brought up to date in the same session as GET /device/events does it (the probe alone while the cached list is current; the new records\' headers otherwise, kept for the list).',
    tag: 'device',
    device: true,
    auth: false,
    cached: false,
    params: device(),
    ok: { description: 'the range', schema: S.StorageRange },
    handle: async (c) => ({ json: await c.deps.relay.storageRange(c.target) }),
  },
  {
    id: 'eventIndex',
    method: 'get',
    path: '/device/events/index',
    summary: 'The lifetime record counter',
    description: 'SUB 08: every record the unit ever made (an erase does not lower it). Not cached: always asks the unit.',
    tag: 'device',
    device: true,
    auth: false,
    cached: false,
    params: device(),
    ok: { description: 'the counter', schema: S.EventIndex },
    handle: async (c) => ({ json: await c.deps.relay.eventIndex(c.target) }),
  },
  {
    id: 'erase',
    method: 'post',
    path: '/device/events/erase',
    summary: 'Erase every event on the unit',
    description:
      'Needs confirm=true, as a query parameter or as {"confirm": true} in the body; without it 409 CONFIRMATION_REQUIRED and nothing is sent to the unit. Clears the unit\'s cached events and waveforms; answers the (empty) storage range.',
    tag: 'device',
    device: true,
    auth: true,
    cached: false,
    params: device({ name: 'confirm', in: 'query', schema: Type.Boolean(), description: 'true confirms the erase' }),
    body: { required: false, schema: S.EraseRequest, description: 'optional: {"confirm": true}' },
    ok: { description: 'the storage range after the erase', schema: S.StorageRange },
    errors: [409],
    handle: async (c) => {
      if (c.query.confirm !== true && c.body?.confirm !== true) {
        throw new SfmError('CONFIRMATION_REQUIRED', 'erase deletes every event stored on the unit: send confirm=true (query) or {"confirm": true} (body) to confirm');
      }
      return { json: await c.deps.relay.erase(c.target) };
    },
  },
  {
    id: 'cacheStats',
    method: 'get',
    path: '/cache/stats',
    summary: 'Cache statistics',
    description: 'Entries and bytes per kind, hits/misses/refreshes/stale/uncached per kind since this server started, the store kind. No device I/O.',
    tag: 'cache',
    device: false,
    auth: false,
    cached: false,
    params: [],
    ok: { description: 'the statistics', schema: S.CacheStats },
    handle: async (c) => ({ json: await c.deps.relay.cacheStats() }),
  },
  {
    id: 'cacheClear',
    method: 'delete',
    path: '/cache/device',
    summary: 'Forget one unit',
    description:
      'Clears every cached entry of the unit at the selected address and forgets who answers there; answers the counts per kind. No device I/O. The same selection rules as the /device routes apply (an ad-hoc target must be allowed).',
    tag: 'cache',
    device: true,
    auth: true,
    cached: false,
    params: device(),
    ok: { description: 'what was removed', schema: S.CacheCleared },
    handle: async (c) => ({ json: { connection_key: connectionKey(c.target), cleared: await c.deps.relay.clearDevice(c.target) } }),
  },

  // --- the archive and the fleet: no device I/O -----------------------------------------------

  {
    id: 'dbUnits',
    method: 'get',
    path: '/db/units',
    summary: 'Every unit sfm has talked to',
    description: 'Units from everything seen of them (identities, info, status, events, sessions), newest activity first. No device I/O.',
    tag: 'archive',
    device: false,
    auth: false,
    cached: false,
    params: [],
    ok: { description: 'the fleet', schema: Type.Array(S.Unit) },
    handle: async (c) => ({ json: await c.deps.relay.store.archive.units() }),
  },
  {
    id: 'dbUnit',
    method: 'get',
    path: '/db/units/{serial}',
    summary: 'One unit',
    description: 'A unit sfm has talked to, by serial. 404 NOT_FOUND for a serial never seen.',
    tag: 'archive',
    device: false,
    auth: false,
    cached: false,
    params: [SERIAL_PATH],
    ok: { description: 'the unit', schema: S.Unit },
    handle: async (c) => ({ json: found(await c.deps.relay.store.archive.unit(c.params.serial as string), `unit ${c.params.serial as string} was never seen`) }),
  },
  {
    id: 'dbEvents',
    method: 'get',
    path: '/db/events',
    summary: 'Archived events',
    description: `Every event sfm ever read, kept whatever happened on the unit since (erase, refill, another unit at the address), newest first; filters combine with AND. Keyset pages: give next_cursor as cursor for the next page (complete and without duplicates while events arrive). No device I/O.`,
    tag: 'archive',
    device: false,
    auth: false,
    cached: false,
    params: ARCHIVE_FILTERS,
    ok: { description: 'a page of events', schema: S.ArchivedEventPage },
    handle: async (c) => {
      const page = await c.deps.relay.store.archive.events(archiveQuery(c));
      return { json: { events: page.items, next_cursor: page.nextCursor } };
    },
  },
  {
    id: 'dbEvent',
    method: 'get',
    path: '/db/events/{id}',
    summary: 'One archived event',
    description: 'By the archive\'s id. 404 NOT_FOUND when there is no such event.',
    tag: 'archive',
    device: false,
    auth: false,
    cached: false,
    params: [EVENT_ID],
    ok: { description: 'the event', schema: S.ArchivedEvent },
    handle: async (c) => ({ json: found(await c.deps.relay.store.archive.event(eventId(c)), `archived event ${eventId(c)} does not exist`) }),
  },
  {
    id: 'dbEventReview',
    method: 'patch',
    path: '/db/events/{id}',
    summary: 'Review an archived event',
    description: 'The operator\'s review: mark (or unmark) a false trigger, write notes. Answers the event as it is now.',
    tag: 'archive',
    device: false,
    auth: true,
    cached: false,
    params: [EVENT_ID],
    body: { required: true, schema: S.EventReview, description: 'the fields to change' },
    ok: { description: 'the event, reviewed', schema: S.ArchivedEvent },
    handle: async (c) => {
      const b = c.body as { false_trigger?: boolean; notes?: string | null };
      return { json: found(await c.deps.relay.store.archive.review(eventId(c), { falseTrigger: b.false_trigger, notes: b.notes }), `archived event ${eventId(c)} does not exist`) };
    },
  },
  {
    id: 'dbEventWaveform',
    method: 'get',
    path: '/db/events/{id}/waveform',
    summary: 'An archived event\'s waveform',
    description: 'The waveform as it was downloaded (format=json or csv, as on /device/event/{idx}/waveform, with the same ETag; X-Cache is hit and Age counts from the download). 404 NOT_FOUND when it was never downloaded. No device I/O.',
    tag: 'archive',
    device: false,
    auth: false,
    cached: true,
    conditional: true,
    params: [EVENT_ID, FORMAT],
    ok: { description: 'the waveform', schema: S.Waveform, alternatives: { 'text/csv': 'format=csv: t_s,Tran_ips,Vert_ips,Long_ips,MicL_psi, one line per sample' } },
    handle: async (c) =>
      waveformReply(c, found(await c.deps.relay.archivedWaveform(eventId(c)), noArchivedWaveform(c))),
  },
  {
    id: 'dbEventAnalysis',
    method: 'get',
    path: '/db/events/{id}/analysis',
    summary: 'An archived event\'s analysis',
    description:
      'The Analysis of GET /device/event/{idx}/analysis, computed from the archived waveform (standard and distance_ft choose the standards; default the configuration\'s). ' +
      'Kept in memory under the waveform\'s identity like a live analysis; the same strong ETag for the same waveform, standards and sfm version. 404 NOT_FOUND when the event\'s waveform was never downloaded. No device I/O.',
    tag: 'archive',
    device: false,
    auth: false,
    cached: true,
    conditional: true,
    params: [EVENT_ID, STANDARD, DISTANCE_FT],
    ok: { description: 'the analysis', schema: S.Analysis },
    handle: async (c) => {
      const options = requestedAnalysis(c);
      const a = found(await c.deps.relay.archivedAnalysis(eventId(c), options), noArchivedWaveform(c));
      return analysisReply(c, a.analysis, options);
    },
  },
  {
    id: 'dbEventReport',
    method: 'get',
    path: '/db/events/{id}/report.pdf',
    summary: 'An archived event\'s report (PDF)',
    description:
      'The one-page report of GET /device/event/{idx}/report.pdf for an archived event: the event as archived (its project text, received-at), its kept waveform, the analysis under the standards asked for, and the unit\'s firmware and setup as last read. ' +
      '404 NOT_FOUND when the event\'s waveform was never downloaded. No device I/O.',
    tag: 'archive',
    device: false,
    auth: false,
    cached: true,
    params: [EVENT_ID, STANDARD, DISTANCE_FT],
    ok: { description: 'the report', alternatives: { 'application/pdf': 'a one-page PDF (Content-Disposition: inline; filename="<serial>-<key>.pdf")' } },
    handle: async (c) => {
      const r = found(await archivedEventReport(c.deps.relay, eventId(c), { analysis: requestedAnalysis(c), version: c.deps.version }), noArchivedWaveform(c));
      return { served: r.waveform, file: { bytes: r.pdf, contentType: 'application/pdf', filename: reportFilename(r.analysis) } };
    },
  },
  {
    id: 'dbSessions',
    method: 'get',
    path: '/db/sessions',
    summary: 'Sessions',
    description: 'Call-up syncs and call-home sessions, newest first, with what each brought in. Keyset pages as on /db/events.',
    tag: 'archive',
    device: false,
    auth: false,
    cached: false,
    params: [SERIAL_QUERY, LIMIT, CURSOR],
    ok: { description: 'a page of sessions', schema: S.SessionPage },
    handle: async (c) => {
      const page = await c.deps.relay.store.archive.sessions({ serial: c.query.serial as string | undefined, limit: (c.query.limit as number | undefined) ?? DEFAULT_LIMIT, cursor: c.query.cursor as string | undefined });
      return { json: { sessions: page.items, next_cursor: page.nextCursor } };
    },
  },
  {
    id: 'dbExport',
    method: 'get',
    path: '/db/export.csv',
    summary: 'Archived events as CSV',
    description: `The /db/events filter (without limit and cursor: every matching event) as CSV, newest first, one line per event: ${ARCHIVE_CSV_COLUMNS.join(', ')}.`,
    tag: 'archive',
    device: false,
    auth: false,
    cached: false,
    params: ARCHIVE_FILTERS.filter((p) => p.name !== 'limit' && p.name !== 'cursor'),
    ok: { description: 'the events', alternatives: { 'text/csv': 'one line per event' } },
    handle: async (c) => {
      const { limit: _all, cursor: _first, ...filter } = archiveQuery(c);
      return { text: { pieces: archiveCsv(c.deps.relay.store.archive, filter), contentType: 'text/csv; charset=utf-8', filename: 'sfm-events.csv' } };
    },
  },
];

/** Express's form of an OpenAPI path: /device/event/{idx} → /device/event/:idx. */
export function expressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/** The paths a route answers at: its own, then its aliases. */
export function routePaths(r: RouteSpec): string[] {
  return [r.path, ...(r.aliases ?? [])];
}

/** The statuses a route may answer besides 200, in order. */
export function errorStatuses(r: RouteSpec): ErrorStatus[] {
  // Node's parser answers any request whose request line and headers come too slowly (408) or
  // are too large (431), before a route is chosen.
  const s = new Set<ErrorStatus>([400, 408, 431]);
  if (r.auth) s.add(401);
  if (r.device) [403, 404].forEach((x) => s.add(x as ErrorStatus));
  if (r.params.some((p) => p.in === 'path')) s.add(404);
  for (const e of r.errors ?? []) s.add(e);
  if (r.body || r.method !== 'get') [413, 415].forEach((x) => s.add(x as ErrorStatus));
  s.add(500);
  if (r.device || r.id === 'cacheStats') s.add(503);
  if (r.device && r.id !== 'cacheClear') [502, 504].forEach((x) => s.add(x as ErrorStatus));
  return [...s].sort((a, b) => a - b);
}

/** Each path of each route as a matcher (path parameters named), for the fast path and unknown-route answers. */
export const PATH_MATCHERS = ROUTES.flatMap((route) =>
  routePaths(route).map((path) => ({
    route,
    re: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, '(?<$1>[^/]+)')}/?$`, 'i'),
  })),
);
