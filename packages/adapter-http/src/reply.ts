/**
 * The one response writer: headers every response carries, a route's Reply (cache headers, ETag
 * and 304, JSON or streamed text, compressed as the client accepts), errors in the contract's
 * body, and the request's log line — the same on the fast path (node:http) and the express path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SfmError } from '@sfm/core';
import { silentMetrics, type Logger } from '@sfm/core/kernel';
import { Body, CONTENT_ENCODINGS, MIN_COMPRESSED_BYTES, compressStream, type ContentEncoding, type Served } from '@sfm/core/service';
import { errorBody, statusOf } from './errors.js';
import { encodedEtag, noneMatch } from './etag.js';
import type { HttpDeps, Reply } from './http.js';

export const JSON_TYPE = 'application/json; charset=utf-8';
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is a sane token, else a new one. */
export function requestId(incoming: string | string[] | undefined): string {
  const v = Array.isArray(incoming) ? incoming[0] : incoming;
  return v !== undefined && SANE_REQUEST_ID.test(v) ? v : randomUUID();
}

/** Headers every response carries. */
export function baseHeaders(res: ServerResponse, reqId: string, closing: boolean): void {
  res.setHeader('X-Request-Id', reqId);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-cache');
  // Shutting down: finish this request, then let the connection go.
  if (closing) res.setHeader('Connection', 'close');
}

/** X-Cache, Age and — on a stale answer — Warning. */
function cacheHeaders(res: ServerResponse, s: Served<unknown>): void {
  res.setHeader('X-Cache', s.cache);
  res.setHeader('Age', String(Math.max(0, Math.floor(s.ageS))));
  if (s.warning) res.setHeader('Warning', s.warning);
}

function sendBytes(res: ServerResponse, status: number, bytes: Uint8Array, head: boolean, type = JSON_TYPE): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(bytes.byteLength));
  res.end(head ? undefined : bytes);
}

/** Writes pieces with backpressure, compressed when asked; stops when the client has gone. */
async function streamPieces(res: ServerResponse, pieces: Iterable<string> | AsyncIterable<string>, encoding: ContentEncoding | undefined): Promise<void> {
  try {
    if (encoding) await pipeline(Readable.from(pieces), compressStream(encoding), res);
    else await pipeline(Readable.from(pieces), res);
  } catch (e) {
    if (!res.destroyed) throw e; // a client that left is no error of ours
  }
}

const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The coding to answer in (RFC 9110 §12.5.3): of br and gzip, the one the client weighs highest
 * (br on a tie); none when it accepts neither. `*` stands for codings it does not name.
 */
export function negotiateEncoding(header: string | string[] | undefined): ContentEncoding | undefined {
  if (!header) return undefined;
  const weights = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name, ...params] = part.toLowerCase().split(';').map((p) => p.trim());
    if (!name) continue;
    const q = params.find((p) => /^q\s*=/.test(p))?.replace(/^q\s*=\s*/, '');
    // A malformed weight counts as 0: better plain than a coding the client may not want.
    weights.set(name, q === undefined ? 1 : QVALUE.test(q) ? Number(q) : 0);
  }
  let best: ContentEncoding | undefined;
  let bestWeight = 0;
  for (const coding of CONTENT_ENCODINGS) {
    const w = weights.get(coding) ?? weights.get('*') ?? 0;
    if (w > bestWeight) [best, bestWeight] = [coding, w];
  }
  return best;
}

/** Sends a route's Reply; returns the cache outcome for the log line. */
export async function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<string | undefined> {
  const head = req.method === 'HEAD';
  if (reply.events) {
    await streamEvents(res, reply.events, head, reply.status ?? 200);
    return undefined;
  }
  if (reply.served) cacheHeaders(res, reply.served);
  // Every answer with a body may come compressed: caches must keep one per Accept-Encoding.
  res.setHeader('Vary', 'Accept-Encoding');
  const accepted = negotiateEncoding(req.headers['accept-encoding']);
  const body = reply.text || reply.file ? undefined : (reply.served ?? (reply.bytes instanceof Body ? reply.bytes : new Body(reply.bytes ?? Buffer.from(JSON.stringify(reply.json)))));
  // A streamed body is compressed whenever the client takes it; a small one is not worth it, nor a file that is compressed already.
  const encoding = reply.file || (body && body.bytes().byteLength < MIN_COMPRESSED_BYTES) ? undefined : accepted;
  if (reply.etag) {
    res.setHeader('ETag', encodedEtag(reply.etag, encoding));
    const inm = req.headers['if-none-match'];
    if (noneMatch(Array.isArray(inm) ? inm.join(',') : inm, reply.etag)) {
      res.statusCode = 304;
      res.end();
      return reply.served?.cache;
    }
  }
  const status = reply.status ?? 200;
  if (encoding) res.setHeader('Content-Encoding', encoding);
  if (reply.text) {
    res.statusCode = status;
    res.setHeader('Content-Type', reply.text.contentType);
    if (reply.text.filename) res.setHeader('Content-Disposition', `inline; filename="${reply.text.filename}"`);
    await streamPieces(res, head ? [] : reply.text.pieces, encoding);
  } else if (reply.file) {
    if (reply.file.filename) res.setHeader('Content-Disposition', `inline; filename="${reply.file.filename}"`);
    sendBytes(res, status, reply.file.bytes, head, reply.file.contentType);
  } else {
    sendBytes(res, status, encoding ? body!.encoded(encoding) : body!.bytes(), head);
  }
  return reply.served?.cache;
}

/**
 * Server-sent events: the headers at once (so the client knows the stream is open), then each
 * piece as it comes, uncompressed (a compressor would hold pieces back), with backpressure.
 */
async function streamEvents(res: ServerResponse, pieces: AsyncIterable<string>, head: boolean, status: number): Promise<void> {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  // Proxies (nginx) must pass each event on as it comes.
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  if (!head) {
    for await (const piece of pieces) {
      if (res.destroyed) break;
      if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    }
  }
  res.end();
}

/** Sends an error in the contract's body (or drops the connection when a body had started). */
export function writeError(res: ServerResponse, e: SfmError & { headers?: Record<string, string> }): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const h of ['X-Cache', 'Age', 'Warning', 'ETag', 'Content-Disposition']) res.removeHeader(h);
  for (const [k, v] of Object.entries(e.headers ?? {})) res.setHeader(k, v);
  sendBytes(res, statusOf(e), errorBody(e), false);
}

export interface RequestLine {
  method: string;
  path: string;
  /** The route's path template (metrics label); unset when no route matched. */
  route?: string;
  status: number;
  t0: number;
  cache?: string;
  target?: string;
  code?: string;
  aborted?: boolean;
}

/** A request is answered: its log line and its metrics (`route` is the path template, never the raw path). */
export function endRequest(deps: Pick<HttpDeps, 'logger' | 'metrics'>, reqId: string, l: RequestLine): void {
  logRequest(deps.logger.child({ req_id: reqId }), l);
  const metrics = deps.metrics ?? silentMetrics;
  const route = l.route ?? 'unmatched';
  metrics.inc('sfm_http_requests_total', { route, method: l.method, status: String(l.status) });
  metrics.observe('sfm_http_request_duration_seconds', { route }, (performance.now() - l.t0) / 1000);
}

/** The request's one log line: 5xx at error, 4xx at warn with the error code, the rest at info. */
export function logRequest(log: Logger, l: RequestLine): void {
  const line = {
    method: l.method,
    path: l.path.length > 200 ? `${l.path.slice(0, 197)}…` : l.path,
    status: l.status,
    ms: Math.round((performance.now() - l.t0) * 10) / 10,
    ...(l.cache ? { cache: l.cache } : {}),
    ...(l.target ? { target: l.target } : {}),
    ...(l.code ? { code: l.code } : {}),
    ...(l.aborted ? { aborted: true } : {}),
  };
  if (l.status >= 500) log.error(line, 'request');
  else if (l.status >= 400) log.warn(line, 'request');
  else log.info(line, 'request');
}
