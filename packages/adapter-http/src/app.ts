/**
 * The express app: the route table (routes.ts) wired to the relay. Every route runs the same
 * pipeline — request context (id, log line, security headers), the auth gate on write routes,
 * JSON body (size-limited), validation from the route's schemas, device selection with the
 * allow-list — then its handler, whose Reply the shared writer sends.
 */
import { performance } from 'node:perf_hooks';
import type { ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { SfmError } from '@sfm/core';
import { connectionKey, type DeviceTarget } from '@sfm/core/transport';
import { checkBearer } from './auth.js';
import { HttpError, toSfmError } from './errors.js';
import type { HttpDeps } from './http.js';
import { API_PREFIX } from './openapi.js';
import { baseHeaders, endRequest, requestId, writeError, writeReply } from './reply.js';
import { ROUTE_TAGS, expressPath, PATH_MATCHERS, routePaths, ROUTES, type RouteSpec } from './routes.js';
import { staticFiles } from './static.js';
import { selectTarget } from './target.js';
import { validateBody, validateParams, validateQuery } from './validate.js';

/** Per-request state kept on res.locals. */
interface Locals {
  reqId: string;
  /** The matched route's path template. */
  route?: string;
  cache?: string;
  target?: string;
  code?: string;
}

/** In-flight requests and shutdown state, shared with the server (graceful close). */
export class Lifecycle {
  closing = false;
  private active = 0;
  private waiters: (() => void)[] = [];
  /** Requests that stream until told to stop (server-sent events): ended when the server closes. */
  private readonly streams = new Set<AbortController>();

  /** A signal aborted when the request's client goes away or the server closes. */
  track(res: ServerResponse): AbortSignal {
    const ac = new AbortController();
    if (this.closing) ac.abort();
    this.streams.add(ac);
    const end = (): void => {
      this.streams.delete(ac);
      ac.abort();
    };
    res.once('close', end);
    return ac.signal;
  }

  /** Closing: every stream ends (they would otherwise keep the drain waiting for ever). */
  endStreams(): void {
    for (const ac of this.streams) ac.abort();
    this.streams.clear();
  }

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

function locals(res: Response): Locals {
  return res.locals as Locals;
}

/** The auth gate of both HTTP paths: a write route needs the configured token. */
export function authorize(route: RouteSpec, deps: HttpDeps, authorization: string | undefined): void {
  if (route.auth && deps.settings.token !== undefined) checkBearer(authorization, deps.settings.token, ROUTE_TAGS[route.tag].authReason);
}

function requestContext(deps: HttpDeps, life: Lifecycle): RequestHandler {
  return (req, res, next) => {
    const t0 = performance.now();
    life.enter();
    const reqId = requestId(req.get('x-request-id'));
    locals(res).reqId = reqId;
    baseHeaders(res, reqId, life.closing);
    res.once('close', () => {
      life.leave();
      const l = locals(res);
      endRequest(deps, reqId, {
        method: req.method, path: req.originalUrl.split('?')[0]!, route: l.route, status: res.statusCode, t0, cache: l.cache, target: l.target, code: l.code, aborted: !res.writableFinished,
      });
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
      next(new SfmError('UNSUPPORTED_MEDIA_TYPE', `Content-Type: must be application/json${got ? `, got ${JSON.stringify(got.slice(0, 60))}` : ' (none was given)'}`));
      return;
    }
    parse(req, res, (err?: unknown) => {
      if (err) res.setHeader('Connection', 'close');
      next(err);
    });
  };
}

function runRoute(deps: HttpDeps, route: RouteSpec, life: Lifecycle): RequestHandler {
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
      const reply = await route.handle({ deps, query, params, body, target, closing: life.closing, signal: life.track(res), accept: req.get('accept') });
      locals(res).cache = await writeReply(req, res, reply);
    } catch (e) {
      next(e);
    }
  };
}

function unknownRoute(req: Request): HttpError {
  let path = req.path;
  if (path.toLowerCase().startsWith(`${API_PREFIX}/`)) path = path.slice(API_PREFIX.length);
  const methods = [...new Set(PATH_MATCHERS.filter((m) => m.re.test(path)).map((m) => m.route.method.toUpperCase()))];
  const shown = req.path.length > 100 ? `${req.path.slice(0, 97)}…` : req.path;
  if (methods.length > 0) {
    return new HttpError('NOT_FOUND', `${req.method} ${shown}: no such route (this path takes ${methods.join(', ')})`, {
      Allow: [...new Set(methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))].join(', '),
    });
  }
  return new HttpError('NOT_FOUND', `${req.method} ${shown}: no such route (see /openapi.json)`);
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

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  app.use(requestContext(deps, lifecycle));

  const router = express.Router({ caseSensitive: false, strict: false });
  const body = bodyGate(limit);
  for (const route of ROUTES) {
    // The token is checked before a body is read.
    const gate: RequestHandler = (req, res, next) => {
      locals(res).route = route.path;
      try {
        authorize(route, deps, req.get('authorization'));
        next();
      } catch (e) {
        next(e);
      }
    };
    router[route.method](routePaths(route).map(expressPath), gate, body, runRoute(deps, route, lifecycle));
  }
  app.use(API_PREFIX, router);
  app.use(router);
  // The web application, at / (after the API: no route of the API is shadowed by a file).
  if (deps.webRoot !== undefined) app.use(staticFiles(deps.webRoot));

  app.use((req: Request, _res: Response, next: NextFunction) => next(unknownRoute(req)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { error, internal } = toSfmError(err, limit);
    locals(res).code = error.code;
    // `err` as pino expects it: its serializer turns it into type, message and stack.
    if (internal) deps.logger.child({ req_id: locals(res).reqId }).error({ err: err instanceof Error ? err : new Error(String(err)), method: req.method, path: req.path }, 'unexpected error');
    writeError(res, error);
  });
  return { app, lifecycle };
}

/** The express app of the HTTP API (for tests and embedding); startHttpServer serves it. */
export function createHttpApp(deps: HttpDeps): express.Express {
  return createApp(deps).app;
}
