/**
 * Cache hits without express. A GET (or HEAD) of a route with a `peek` (routes.ts) that the relay
 * answers from memory is written on node:http directly — the same validation, auth gate, target
 * selection, writer and log line as the express pipeline, without its per-request cost (express
 * alone caps the p99 of small hits at several ms on a 2-core machine). The archive's reads (GET
 * /db/*: no unit, no token, no body) run their handler here too, errors written as express writes
 * them. Anything else — misses, force, bad parameters, writes — goes to express.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { connectionKey, type DeviceTarget } from '@sfm/core/transport';
import { authorize, type Lifecycle } from './app.js';
import type { HttpDeps, Reply } from './http.js';
import { API_PREFIX } from './openapi.js';
import { baseHeaders, endRequest, requestId, writeError, writeReply } from './reply.js';
import { toSfmError } from './errors.js';
import { PATH_MATCHERS } from './routes.js';
import { selectTarget } from './target.js';
import { validateParams, validateQuery } from './validate.js';

const FAST = PATH_MATCHERS.filter((m) => m.route.method === 'get' && m.route.peek);
const ARCHIVE_READS = PATH_MATCHERS.filter((m) => m.route.method === 'get' && m.route.tag === 'archive' && !m.route.device && !m.route.auth);

/** Returns true when it answered the request. */
export function createFastPath(deps: HttpDeps, life: Lifecycle): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.headers['content-length'] || req.headers['transfer-encoding']) return false;
    const t0 = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q < 0 ? url : url.slice(0, q);
    if (path.toLowerCase().startsWith(`${API_PREFIX}/`)) path = path.slice(API_PREFIX.length);
    let reply: Reply | undefined;
    let target: DeviceTarget | undefined;
    let routePath: string | undefined;
    try {
      for (const { route, re } of FAST) {
        const m = re.exec(path);
        if (!m) continue;
        authorize(route, deps, req.headers.authorization);
        const query = validateQuery(route, url);
        const params = validateParams(route, pathParams(m));
        target = route.device ? selectTarget(query, deps.devices).target : (undefined as unknown as DeviceTarget);
        reply = route.peek!({ deps, query, params, body: undefined, target, closing: life.closing });
        routePath = route.path;
        break;
      }
    } catch {
      return false; // express answers with the proper error
    }
    if (!reply) return archiveRead(req, res, url, path, t0);

    life.enter();
    const reqId = requestId(req.headers['x-request-id']);
    baseHeaders(res, reqId, life.closing);
    const done = (cache: string | undefined): void => {
      life.leave();
      endRequest(deps, reqId, { method: req.method!, path, route: routePath, status: res.statusCode, t0, cache, target: target && connectionKey(target) });
    };
    writeReply(req, res, reply).then(done, () => done(undefined));
    return true;
  };

  function archiveRead(req: IncomingMessage, res: ServerResponse, url: string, path: string, t0: number): boolean {
    for (const { route, re } of ARCHIVE_READS) {
      const m = re.exec(path);
      if (!m) continue;
      let query: ReturnType<typeof validateQuery>;
      let params: ReturnType<typeof validateParams>;
      try {
        query = validateQuery(route, url);
        params = validateParams(route, pathParams(m));
      } catch {
        return false; // express answers with the proper error
      }
      life.enter();
      const reqId = requestId(req.headers['x-request-id']);
      baseHeaders(res, reqId, life.closing);
      let code: string | undefined;
      const done = (cache: string | undefined): void => {
        life.leave();
        endRequest(deps, reqId, { method: req.method!, path, route: route.path, status: res.statusCode, t0, cache, code, aborted: !res.writableFinished });
      };
      route
        .handle({ deps, query, params, body: undefined, target: undefined as unknown as DeviceTarget, closing: life.closing, signal: life.track(res), accept: req.headers.accept })
        .then((reply) => writeReply(req, res, reply))
        .then(done, (e: unknown) => {
          const { error, internal } = toSfmError(e, deps.settings.bodyLimitBytes);
          code = error.code;
          if (internal) deps.logger.child({ req_id: reqId }).error({ err: e instanceof Error ? e : new Error(String(e)), method: req.method, path }, 'unexpected error');
          writeError(res, error);
          done(undefined);
        });
      return true;
    }
    return false;
  }
}

/** The path's parameters as the route's pattern matched them, decoded. */
function pathParams(m: RegExpExecArray): Record<string, string> {
  return Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
}
