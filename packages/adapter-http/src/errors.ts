/**
 * The contract's error table: every failure becomes `{ error: { code, message } }` with its
 * status. Messages of known errors are for people (what failed, which field or unit); anything
 * unexpected is "internal error" in the response and in full only in the log.
 */
import { DeviceError, InvalidHost, PayloadError, StoreUnavailable } from '@sfm/core';
import { ValidationError } from './schema.js';

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'TARGET_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'CONFIRMATION_REQUIRED'
  | 'DEVICE_UNREACHABLE'
  | 'PROTOCOL_ERROR'
  | 'DEVICE_BUSY'
  | 'DEVICE_TIMEOUT'
  | 'STORE_UNAVAILABLE'
  | 'REQUEST_TIMEOUT'
  | 'INTERNAL';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const invalid = (message: string, status = 400): HttpError => new HttpError(status, 'INVALID_REQUEST', message);
export const notFound = (message: string): HttpError => new HttpError(404, 'NOT_FOUND', message);

const DEVICE_STATUS: Record<string, number> = {
  DEVICE_TIMEOUT: 504,
  PROTOCOL_ERROR: 502,
  DEVICE_UNREACHABLE: 502,
  DEVICE_BUSY: 503,
};

/** body-parser's errors (they carry `type` and `status`). */
interface ParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
}

function parserError(e: unknown, limit: number): HttpError | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const p = e as ParserError;
  switch (p.type) {
    case 'entity.too.large':
      return invalid(`body: larger than the limit of ${limit} bytes`, 413);
    case 'entity.parse.failed':
      return invalid('body: not valid JSON');
    case 'entity.verify.failed':
      return invalid('body: rejected');
    case 'request.size.invalid':
      return invalid('body: its length does not match Content-Length');
    case 'request.aborted':
      return invalid('body: the request was aborted');
    case 'encoding.unsupported':
      return invalid('Content-Encoding: not supported (send the body uncompressed)', 415);
    case 'charset.unsupported':
      return invalid('Content-Type: charset not supported (send UTF-8 JSON)', 415);
    default:
      break;
  }
  // express/router and body-parser mark client errors with a 4xx status; their messages are
  // meant for the client when `expose` is set (e.g. a gzip body that does not inflate).
  const status = typeof p.status === 'number' && p.status >= 400 && p.status < 500 ? p.status : undefined;
  if (status === undefined) return undefined;
  if (e instanceof URIError) return invalid('path: a parameter is not valid percent-encoding');
  if (p.expose === true && e instanceof Error) return invalid(`body: could not be read (${e.message})`, status === 413 || status === 415 ? status : 400);
  return undefined;
}

/**
 * The HTTP form of an error; `internal` is true when it was not one we expected (log it whole).
 * `bodyLimit` names the limit in 413 messages.
 */
export function toHttpError(e: unknown, bodyLimit: number): { error: HttpError; internal: boolean } {
  if (e instanceof HttpError) return { error: e, internal: false };
  if (e instanceof ValidationError) return { error: invalid(e.message), internal: false };
  if (e instanceof StoreUnavailable) return { error: new HttpError(503, 'STORE_UNAVAILABLE', `the cache store is unavailable: ${e.message}`), internal: false };
  if (e instanceof InvalidHost) return { error: invalid(`host: ${e.message}`), internal: false };
  if (e instanceof DeviceError) {
    return { error: new HttpError(DEVICE_STATUS[e.code] ?? 502, e.code, e.message), internal: false };
  }
  const parsed = parserError(e, bodyLimit);
  if (parsed) return { error: parsed, internal: false };
  if (e instanceof Error && (e as { code?: unknown }).code === 'INVALID_REQUEST') {
    // core's UnsupportedTarget: a target kind this deployment has no transport for
    return { error: invalid(e.message), internal: false };
  }
  if (e instanceof Error && (e as { code?: unknown }).code === 'NOT_FOUND') {
    // core's EventNotFound and NoWaveform
    return { error: notFound(e.message), internal: false };
  }
  if (e instanceof PayloadError) {
    // Requests are validated before any device I/O: a PayloadError from the relay is the
    // unit's data not fitting the layout it is decoded with.
    return { error: new HttpError(502, 'PROTOCOL_ERROR', e.message), internal: false };
  }
  return { error: new HttpError(500, 'INTERNAL', 'internal error'), internal: true };
}

export function errorBody(e: HttpError): Buffer {
  return Buffer.from(JSON.stringify({ error: { code: e.code, message: e.message } }));
}
