/**
 * The one response writer: headers every response carries, a route's Reply (cache headers, ETag
 * and 304, JSON or streamed text), errors in the contract's body, and the request's log line — the
 * same on the fast path (node:http) and the express path.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SfmError } from '@sfm/core';
import type { Logger } from '@sfm/core/kernel';
import type { Served } from '@sfm/core/service';
import { errorBody, statusOf } from './errors.js';
import { noneMatch } from './etag.js';
import type { Reply } from './http.js';

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

/** Writes pieces with backpressure; stops when the client has gone. */
async function streamPieces(res: ServerResponse, pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (res.destroyed) return;
    if (!res.write(piece)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  if (!res.destroyed) res.end();
}

/** Sends a route's Reply; returns the cache outcome for the log line. */
export async function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<string | undefined> {
  const head = req.method === 'HEAD';
  if (reply.served) cacheHeaders(res, reply.served);
  if (reply.etag) {
    res.setHeader('ETag', reply.etag);
    const inm = req.headers['if-none-match'];
    if (noneMatch(Array.isArray(inm) ? inm.join(',') : inm, reply.etag)) {
      res.statusCode = 304;
      res.end();
      return reply.served?.cache;
    }
  }
  const status = reply.status ?? 200;
  if (reply.text) {
    res.statusCode = status;
    res.setHeader('Content-Type', reply.text.contentType);
    if (reply.text.filename) res.setHeader('Content-Disposition', `inline; filename="${reply.text.filename}"`);
    await streamPieces(res, head ? [] : reply.text.pieces);
  } else {
    sendBytes(res, status, reply.served?.bytes() ?? reply.bytes ?? Buffer.from(JSON.stringify(reply.json)), head);
  }
  return reply.served?.cache;
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
  status: number;
  t0: number;
  cache?: string;
  target?: string;
  code?: string;
  aborted?: boolean;
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
