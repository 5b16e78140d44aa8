/**
 * The express app: the route table (routes.ts) wired to the relay. Every route runs the same
 * pipeline — request context (id, log line, security headers), bearer check on write routes,
 * JSON body (size-limited), validation from the route's schema, device selection with the
 * allow-list — then its handler. Cached JSON is sent as the relay's bytes, never re-serialised.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import {
  PayloadError,
  connectionKey,
  validateCallHome,
  validateComplianceChanges,
  waveformCsv,
  type CallHomeConfig,
  type DeviceTarget,
  type HttpDeps,
  type Logger,
  type ReadOptions,
  type Served,
  type Waveform,
} from '@sfm/core';
import { checkBearer } from './auth.js';
import { errorBody, HttpError, invalid, notFound, toHttpError } from './errors.js';
import { noneMatch, waveformEtag, waveformIdentity } from './etag.js';
import { API_PREFIX, buildOpenApi } from './openapi.js';
import { expressPath, ROUTES, type RouteSpec } from './routes.js';
import { selectTarget } from './target.js';
import { validateBody, validateParams, validateQuery, type ValidatedRequest } from './validate.js';

/** What a handler is given. */
export interface RouteContext extends ValidatedRequest {
  deps: HttpDeps;
  route: RouteSpec;
  req: Request;
  res: Response;
  log: Logger;
  /** The chosen unit, on device routes. */
  target: DeviceTarget;
}

type Handler = (c: RouteContext) => Promise<void>;

/** Per-request state kept on res.locals. */
interface Locals {
  log: Logger;
  reqId: string;
  cache?: string;
  target?: string;
}

/** In-flight requests and shutdown state, shared with the server (graceful close). */
export class Lifecycle {
  closing = false;
  private active = 0;
  private waiters: (() => void)[] = [];

  enter(): void {
    this.active++;
  }
  leave(): void {
    this.active--;
    if (this.active === 0) for (const w of this.waiters.splice(0)) w();
  }
  get inFlight(): number {
    return this.active;
  }
  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const JSON_TYPE = 'application/json; charset=utf-8';

function locals(res: Response): Locals {
  return res.locals as Locals;
}

// --- sending -----------------------------------------------------------------------------------

function sendBytes(res: Response, status: number, bytes: Uint8Array, type = JSON_TYPE): void {
  res.status(status);
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(bytes.byteLength));
  res.end(bytes);
}

function sendJson(res: Response, value: unknown, status = 200): void {
  sendBytes(res, status, Buffer.from(JSON.stringify(value)));
}

function cacheHeaders(res: Response, s: Served<unknown>): void {
  writeCacheHeaders(res, s);
  locals(res).cache = s.cache;
}

/** X-Cache, Age and — on a stale answer — Warning (both HTTP paths). */
export function writeCacheHeaders(res: ServerResponse, s: Served<unknown>): void {
  res.setHeader('X-Cache', s.cache);
  res.setHeader('Age', String(Math.max(0, Math.floor(s.ageS))));
  if (s.warning) res.setHeader('Warning', s.warning);
}

/** A cached value: its bytes as the relay holds them (a hit is sent without re-serialising). */
function sendServed(res: Response, s: Served<unknown>): void {
  cacheHeaders(res, s);
  sendBytes(res, 200, s.bytes());
}

function sendError(res: Response, e: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const h of ['X-Cache', 'Age', 'Warning', 'ETag', 'Content-Disposition']) res.removeHeader(h);
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  sendBytes(res, e.status, errorBody(e));
}

/** Writes pieces with backpressure; stops when the client has gone. */
async function streamPieces(res: Response, pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (res.destroyed) return;
    if (!res.write(piece)) {
      await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  }
  if (!res.destroyed) res.end();
}

// --- handlers ----------------------------------------------------------------------------------

/** The cache options a cached route's query gives. */
function readOptions(c: RouteContext): ReadOptions {
  return { force: c.query.force === true, stale: c.query.stale !== false, maxAgeS: c.query.max_age as number | undefined };
}

function idx(c: RouteContext): number {
  return c.params.idx as number;
}

/** A default that passes validateCallHome, so a partial change can be checked on its own. */
const CALL_HOME_BASE: CallHomeConfig = {
  enabled: false, dial_string: '', after_event_recorded: false, at_specified_times: false,
  time1: { enabled: false, hour: 0, minute: 0 }, time2: { enabled: false, hour: 0, minute: 0 },
  num_retries: 0, retry_interval_s: 0, wait_for_connection_s: 0, warm_up_time_s: 0,
};

/** Core's validators throw PayloadError for values the unit cannot hold: that is the client's 400. */
function asInvalid<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PayloadError) throw invalid(e.message);
    throw e;
  }
}

function handlers(deps: HttpDeps, started: number, openapi: () => Buffer): Record<string, Handler> {
  const { relay } = deps;
  return {
    health: async ({ res }) => sendJson(res, { status: 'ok', version: deps.version, uptime_s: Math.floor((performance.now() - started) / 1000), store: relay.store.kind }),
    openapi: async ({ res }) => sendBytes(res, 200, openapi()),
    info: async (c) => sendServed(c.res, await relay.info(c.target, readOptions(c))),
    connect: async (c) => sendServed(c.res, await relay.info(c.target, { force: true })),
    events: async (c) => sendServed(c.res, await relay.events(c.target, readOptions(c))),
    event: async (c) => sendServed(c.res, await relay.event(c.target, idx(c), readOptions(c))),
    waveform: async (c) => {
      const format = c.query.format === 'csv' ? 'csv' : 'json';
      // A cached waveform is a hit without device I/O, so its tag is known before anything is sent.
      const s: Served<Waveform> = await relay.waveform(c.target, idx(c), readOptions(c));
      const id = waveformIdentity(s);
      const etag = waveformEtag(id, format);
      cacheHeaders(c.res, s);
      c.res.setHeader('ETag', etag);
      if (noneMatch(c.req.get('if-none-match'), etag)) {
        c.res.status(304).end();
        return;
      }
      if (format === 'json') {
        sendBytes(c.res, 200, s.bytes());
        return;
      }
      const file = `${id.serial}-${id.key}`.replace(/[^A-Za-z0-9._-]/g, '_');
      c.res.status(200);
      c.res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      c.res.setHeader('Content-Disposition', `inline; filename="${file}.csv"`);
      await streamPieces(c.res, c.req.method === 'HEAD' ? [] : waveformCsv(s.value));
    },
    status: async (c) => sendServed(c.res, await relay.status(c.target, readOptions(c))),
    monitorStart: async (c) => sendJson(c.res, await relay.startMonitoring(c.target)),
    monitorStop: async (c) => sendJson(c.res, await relay.stopMonitoring(c.target)),
    config: async (c) => {
      const changes = asInvalid(() => validateComplianceChanges(c.body ?? {}));
      try {
        sendJson(c.res, await relay.writeConfig(c.target, changes));
      } catch (e) {
        // A text value longer than the room the unit's block has for it: refused while the
        // patched block is built, before anything is written.
        if (e instanceof RangeError) throw invalid(e.message);
        throw e;
      }
    },
    callHomeGet: async (c) => sendJson(c.res, await relay.readCallHome(c.target)),
    callHomeSet: async (c) => {
      const changes = (c.body ?? {}) as Partial<CallHomeConfig>;
      asInvalid(() =>
        validateCallHome({
          ...CALL_HOME_BASE,
          ...changes,
          time1: { ...CALL_HOME_BASE.time1, ...changes.time1 },
          time2: { ...CALL_HOME_BASE.time2, ...changes.time2 },
        }),
      );
      try {
        sendJson(c.res, await relay.writeCallHome(c.target, changes));
      } catch (e) {
        if (e instanceof RangeError) throw invalid(e.message);
        throw e;
      }
    },
    storageRange: async (c) => sendJson(c.res, await relay.storageRange(c.target)),
    erase: async (c) => {
      if (c.query.confirm !== true && c.body?.confirm !== true) {
        throw new HttpError(409, 'CONFIRMATION_REQUIRED', 'erase deletes every event stored on the unit: send confirm=true (query) or {"confirm": true} (body) to confirm');
      }
      sendJson(c.res, await relay.erase(c.target));
    },
    cacheStats: async ({ res }) => sendJson(res, await relay.cacheStats()),
    cacheClear: async (c) => sendJson(c.res, { connection_key: connectionKey(c.target), cleared: await relay.clearDevice(c.target) }),
  };
}

// --- pipeline ----------------------------------------------------------------------------------

/** The caller's X-Request-Id when it is a sane token, else a new one. */
export function requestId(incoming: string | undefined): string {
  return incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Headers every response carries. */
export function baseHeaders(res: ServerResponse, reqId: string, closing: boolean): void {
  res.setHeader('X-Request-Id', reqId);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-cache');
  // Shutting down: finish this request, then let the connection go.
  if (closing) res.setHeader('Connection', 'close');
}

function requestContext(deps: HttpDeps, life: Lifecycle): RequestHandler {
  return (req, res, next) => {
    const t0 = performance.now();
    life.enter();
    const reqId = requestId(req.get('x-request-id'));
    const log = deps.logger.child({ req_id: reqId });
    res.locals.log = log;
    res.locals.reqId = reqId;
    baseHeaders(res, reqId, life.closing);
    let logged = false;
    res.once('close', () => {
      if (logged) return;
      logged = true;
      life.leave();
      const l = locals(res);
      const path = req.originalUrl.split('?')[0]!;
      const line = {
        method: req.method,
        path: path.length > 200 ? `${path.slice(0, 197)}…` : path,
        status: res.statusCode,
        ms: Math.round((performance.now() - t0) * 10) / 10,
        cache: l.cache,
        target: l.target,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500) log.warn(line, 'request');
      else log.info(line, 'request');
    });
    next();
  };
}

/** Is the request's media type JSON (application/json or application/*+json)? */
function isJsonType(req: Request): boolean {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

function hasBody(req: Request): boolean {
  return req.get('transfer-encoding') !== undefined || (req.get('content-length') !== undefined && req.get('content-length') !== '0');
}

function bodyGate(limit: number): RequestHandler {
  const parse = express.json({ limit, strict: false, type: () => true });
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || !hasBody(req)) {
      req.body = undefined;
      next();
      return;
    }
    if (!isJsonType(req)) {
      const got = req.get('content-type');
      // The body is not read: do not keep the connection for what is left of it.
      res.setHeader('Connection', 'close');
      next(invalid(`Content-Type: must be application/json${got ? `, got ${JSON.stringify(got.slice(0, 60))}` : ' (none was given)'}`, 415));
      return;
    }
    parse(req, res, (err?: unknown) => {
      if (err) res.setHeader('Connection', 'close');
      next(err);
    });
  };
}

function authGate(deps: HttpDeps, route: RouteSpec): RequestHandler {
  return (req, _res, next) => {
    if (route.auth && deps.settings.token !== undefined) checkBearer(req.get('authorization'), deps.settings.token);
    next();
  };
}

function runRoute(deps: HttpDeps, route: RouteSpec, handler: Handler): RequestHandler {
  return async (req, res, next) => {
    try {
      const query = validateQuery(route, req.originalUrl);
      const params = validateParams(route, req.params as Record<string, string | undefined>);
      const body = validateBody(route, req.body);
      let target = undefined as unknown as DeviceTarget;
      if (route.device) {
        target = selectTarget(query, deps.devices).target;
        locals(res).target = connectionKey(target);
      }
      await handler({ deps, route, req, res, log: locals(res).log, query, params, body, target });
    } catch (e) {
      next(e);
    }
  };
}

/** The compiled paths, to tell an unknown route from a known path with another method. */
const PATH_MATCHERS = ROUTES.map((r) => ({
  route: r,
  re: new RegExp(`^${r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i'),
}));

function unknownRoute(req: Request): HttpError {
  let path = req.path;
  if (path.toLowerCase().startsWith(`${API_PREFIX}/`)) path = path.slice(API_PREFIX.length);
  const methods = PATH_MATCHERS.filter((m) => m.re.test(path)).map((m) => m.route.method.toUpperCase());
  const shown = req.path.length > 100 ? `${req.path.slice(0, 97)}…` : req.path;
  if (methods.length > 0) {
    return new HttpError(404, 'NOT_FOUND', `${req.method} ${shown}: no such route (this path takes ${[...new Set(methods)].join(', ')})`, { Allow: [...new Set(methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))].join(', ') });
  }
  return notFound(`${req.method} ${shown}: no such route (see /openapi.json)`);
}

export interface AppParts {
  app: express.Express;
  lifecycle: Lifecycle;
}

/** The app and its shutdown state (startHttpServer uses both). */
export function createApp(deps: HttpDeps): AppParts {
  const limit = deps.settings.bodyLimitBytes;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`bodyLimitBytes must be a positive whole number, got ${limit}`);
  const lifecycle = new Lifecycle();
  const started = performance.now();
  let openapiBytes: Buffer | undefined;
  const openapi = () => (openapiBytes ??= Buffer.from(JSON.stringify(buildOpenApi(deps.version))));
  const table = handlers(deps, started, openapi);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  app.use(requestContext(deps, lifecycle));

  const router = express.Router({ caseSensitive: false, strict: false });
  const body = bodyGate(limit);
  for (const route of ROUTES) {
    const handler = table[route.id];
    if (!handler) throw new Error(`no handler for route ${route.id}`);
    router[route.method](expressPath(route.path), authGate(deps, route), body, runRoute(deps, route, handler));
  }
  app.use(API_PREFIX, router);
  app.use(router);

  app.use((req: Request, _res: Response, next: NextFunction) => next(unknownRoute(req)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { error, internal } = toHttpError(err, limit);
    const log = locals(res).log ?? deps.logger;
    // `err` as pino expects it: its serializer turns it into type, message and stack.
    if (internal) log.error({ err: err instanceof Error ? err : new Error(String(err)), method: req.method, path: req.path }, 'unexpected error');
    sendError(res, error);
  });
  return { app, lifecycle };
}

/** The express app of the HTTP API (for tests and embedding); startHttpServer serves it. */
export function createHttpApp(deps: HttpDeps): express.Express {
  return createApp(deps).app;
}
