/**
 * What an HTTP front end is given and gives back. adapter-http implements `StartHttpServer`; the
 * kernel hands it the relay, the device registry, the settings and the logger, and `sfm serve`
 * starts it without depending on the HTTP adapter itself.
 */
import type { RelayService } from '../cache/relay-service.js';
import type { DeviceRegistry } from './device-registry.js';
import type { Logger } from './logger.js';

export interface HttpSettings {
  host: string;
  port: number;
  /** Bearer token required on write routes (and DELETE /cache/device); none = writes are open. */
  token?: string;
  /** Largest request body accepted (bytes). */
  bodyLimitBytes: number;
  /** A client must send its request headers within this (ms); then 408. */
  headersTimeoutMs?: number;
  /** …and the whole request, body included, within this (ms); then 408. */
  requestTimeoutMs?: number;
  /** Open connections beyond this are refused. */
  maxConnections?: number;
}

export interface HttpDeps {
  relay: RelayService;
  devices: DeviceRegistry;
  settings: HttpSettings;
  logger: Logger;
  /** sfm's version, for /health. */
  version: string;
}

export interface HttpServerHandle {
  readonly address: { host: string; port: number };
  readonly url: string;
  /** Graceful: stop accepting, finish in-flight device work, then close. */
  close(): Promise<void>;
}

export type StartHttpServer = (deps: HttpDeps) => Promise<HttpServerHandle>;

export const DEFAULT_HTTP_PORT = 8200;
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONNECTIONS = 1024;

/** A refusal of the settings before anything listens (e.g. a public bind without a token). */
export class HttpSettingsError extends Error {
  override name = 'HttpSettingsError';
}
