/**
 * The HTTP front end's settings: its section of the configuration (flat keys, SFM_* variables),
 * declared once, and the check that refuses what must not be served (a public bind without a
 * token) before anything listens.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '@sfm/core';
import { isLoopbackHost } from '@sfm/core/transport';

export const DEFAULT_HTTP_PORT = 8200;

export const HttpSettingsSchema = Type.Object({
  listen: Type.String({
    description: 'HOST:PORT to serve HTTP on; a non-loopback address needs http_token',
    default: `127.0.0.1:${DEFAULT_HTTP_PORT}`,
    pattern: '^(?:\\[[^\\]]+\\]|[^:\\s]+):\\d{1,5}$',
    patternText: 'HOST:PORT (IPv6 in brackets)',
    env: 'SFM_LISTEN',
  }),
  http_token: Type.Optional(
    Type.String({ description: 'bearer token required on write routes and DELETE /cache/device', minLength: 16, pattern: '^[\\x21-\\x7e]+$', patternText: 'at least 16 printable characters without spaces', env: 'SFM_HTTP_TOKEN' }),
  ),
  body_limit_bytes: Type.Integer({ description: 'largest request body accepted', default: 64 * 1024, minimum: 1024, maximum: 16 * 1024 * 1024 }),
  http_headers_timeout_s: Type.Number({ description: 'a client must send its request headers within this (then 408)', default: 10, minimum: 1, maximum: 600 }),
  http_request_timeout_s: Type.Number({ description: '…and the whole request, body included (then 408)', default: 30, minimum: 1, maximum: 3600 }),
  http_max_connections: Type.Integer({ description: 'open connections beyond this are refused', default: 1024, minimum: 1, maximum: 1_000_000 }),
});

export type HttpSettingsValues = Static<typeof HttpSettingsSchema>;

/** What the server is started with. */
export interface HttpSettings {
  host: string;
  port: number;
  /** Bearer token required on write routes (and DELETE /cache/device); none = writes are open. */
  token?: string;
  bodyLimitBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

/** A refusal of the settings before anything listens (e.g. a public bind without a token). */
export class HttpSettingsError extends ConfigError {
  override name = 'HttpSettingsError';
}

/** The settings' defaults, from the schema (for embedding and tests). */
export function defaultHttpSettings(overrides: Partial<HttpSettings> = {}): HttpSettings {
  const defaults = Object.fromEntries(Object.entries(HttpSettingsSchema.properties).map(([k, p]) => [k, (p as { default?: unknown }).default])) as HttpSettingsValues;
  return { ...httpSettings(defaults), ...overrides };
}

export function httpSettings(v: HttpSettingsValues): HttpSettings {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v.listen)!;
  const s: HttpSettings = {
    host: m[1] ?? m[2]!,
    port: Number(m[3]),
    token: v.http_token,
    bodyLimitBytes: v.body_limit_bytes,
    headersTimeoutMs: v.http_headers_timeout_s * 1000,
    requestTimeoutMs: v.http_request_timeout_s * 1000,
    maxConnections: v.http_max_connections,
  };
  checkSettings(s);
  return s;
}

/** Throws HttpSettingsError for settings that must not be served. */
export function checkSettings(s: HttpSettings): void {
  if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535) throw new HttpSettingsError(`listen: the port must be 0–65535, got ${s.port}`);
  if (!Number.isSafeInteger(s.bodyLimitBytes) || s.bodyLimitBytes < 1) throw new HttpSettingsError(`body_limit_bytes: must be a positive whole number of bytes, got ${s.bodyLimitBytes}`);
  if (!(s.headersTimeoutMs > 0 && s.requestTimeoutMs > 0 && s.headersTimeoutMs <= s.requestTimeoutMs)) {
    throw new HttpSettingsError(`http timeouts: the headers timeout (${s.headersTimeoutMs} ms) must be positive and no longer than the request timeout (${s.requestTimeoutMs} ms)`);
  }
  if (s.token !== undefined && !/^[\x21-\x7e]+$/.test(s.token)) {
    throw new HttpSettingsError('http_token: must be printable ASCII without spaces (it is sent as Authorization: Bearer <token>)');
  }
  if (!isLoopbackHost(s.host) && s.token === undefined) {
    throw new HttpSettingsError(`refusing to listen on ${s.host || 'every interface'} without a token: write routes would be open to the network (configure http_token, or listen on 127.0.0.1)`);
  }
}
