/**
 * The HTTP form of sfm's errors: one table from error code to status, and the contract's body
 * `{ error: { code, message } }`. Messages of known errors are for people (what failed, which
 * field or unit); anything unexpected is "internal error" in the response and in full only in
 * the log.
 */
import { SfmError, type ErrorCode } from '@sfm/core';

/** The status each code answers with. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  TARGET_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFIRMATION_REQUIRED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  DEVICE_UNREACHABLE: 502,
  PROTOCOL_ERROR: 502,
  DEVICE_BUSY: 503,
  STORE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  DEVICE_TIMEOUT: 504,
  MEMORY_FULL: 409,
  CONFIG_INVALID: 500,
  INTERNAL: 500,
};

/** An error with response headers of its own (WWW-Authenticate on a 401, Allow on a wrong method). */
export class HttpError extends SfmError {
  override name = 'HttpError';
  constructor(
    code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

export function statusOf(e: SfmError): number {
  return HTTP_STATUS[e.code];
}

/** body-parser's errors (they carry `type` and `status`). */
interface ParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
}

function parserError(e: unknown, limit: number): SfmError | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const p = e as ParserError;
  switch (p.type) {
    case 'entity.too.large':
      return new SfmError('PAYLOAD_TOO_LARGE', `body: larger than the limit of ${limit} bytes`);
    case 'entity.parse.failed':
      return new SfmError('INVALID_REQUEST', 'body: not valid JSON');
    case 'entity.verify.failed':
      return new SfmError('INVALID_REQUEST', 'body: rejected');
    case 'request.size.invalid':
      return new SfmError('INVALID_REQUEST', 'body: its length does not match Content-Length');
    case 'request.aborted':
      return new SfmError('INVALID_REQUEST', 'body: the request was aborted');
    case 'encoding.unsupported':
      return new SfmError('UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding: not supported (send the body uncompressed)');
    case 'charset.unsupported':
      return new SfmError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type: charset not supported (send UTF-8 JSON)');
    default:
      break;
  }
  // express/router and body-parser mark client errors with a 4xx status; their messages are
  // meant for the client when `expose` is set (e.g. a gzip body that does not inflate).
  const status = typeof p.status === 'number' && p.status >= 400 && p.status < 500 ? p.status : undefined;
  if (status === undefined) return undefined;
  if (e instanceof URIError) return new SfmError('INVALID_REQUEST', 'path: a parameter is not valid percent-encoding');
  if (p.expose === true && e instanceof Error) {
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_REQUEST';
    return new SfmError(code, `body: could not be read (${e.message})`);
  }
  return undefined;
}

/**
 * The error to answer with; `internal` when it was not one sfm raises on purpose (log it whole).
 * `bodyLimit` names the limit in 413 messages.
 */
export function toSfmError(e: unknown, bodyLimit: number): { error: SfmError; internal: boolean } {
  if (e instanceof SfmError) return { error: e, internal: e.code === 'INTERNAL' || e.code === 'CONFIG_INVALID' };
  const parsed = parserError(e, bodyLimit);
  if (parsed) return { error: parsed, internal: false };
  return { error: new SfmError('INTERNAL', 'internal error'), internal: true };
}

export function errorBody(e: SfmError): Buffer {
  // An internal error's own message may hold details (paths, state): never sent.
  const message = e.code === 'INTERNAL' || e.code === 'CONFIG_INVALID' ? 'internal error' : e.message;
  return Buffer.from(JSON.stringify({ error: { code: e.code === 'CONFIG_INVALID' ? 'INTERNAL' : e.code, message } }));
}
