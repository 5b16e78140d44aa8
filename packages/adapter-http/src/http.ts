/**
 * What the HTTP front end is made of: its dependencies, what a route handler is given, and what it
 * answers (a Reply, which the one writer in reply.ts sends on either HTTP path).
 */
import type { Logger, Metrics } from '@sfm/core/kernel';
import type { RelayService } from '@sfm/core/cache';
import type { DeviceRegistry } from '@sfm/core/kernel';
import type { Body, Served } from '@sfm/core/service';
import type { DeviceTarget } from '@sfm/core/transport';
import type { AnalysisSettings } from '@sfm/core/analysis';
import type { HttpSettings } from './settings.js';

export interface HttpDeps {
  relay: RelayService;
  devices: DeviceRegistry;
  settings: HttpSettings;
  logger: Logger;
  /** sfm's version, for /health and the OpenAPI document. */
  version: string;
  /** Where requests are counted, and what `GET /metrics` renders (default: nowhere, and 404). */
  metrics?: Metrics;
  /** What analyses and reports judge events against when a request does not say (default: core's defaults). */
  analysis?: AnalysisSettings;
  /** The web application's built files, served at / (none: / is an unknown route). */
  webRoot?: string;
}

export interface RouteContext {
  deps: HttpDeps;
  query: Record<string, unknown>;
  params: Record<string, unknown>;
  /** The JSON object sent, or undefined when none was. */
  body: Record<string, unknown> | undefined;
  /** The chosen unit, on device routes. */
  target: DeviceTarget;
  /** Whether the server is shutting down (it finishes what is in flight and takes no new work). */
  closing: boolean;
  /** Aborted when the client goes away or the server shuts down (what a streamed answer stops on). */
  signal?: AbortSignal;
  /** The request's Accept header (a route with more than one media type chooses by it). */
  accept?: string;
}

/** A route's answer. */
export interface Reply {
  /** Default 200. */
  status?: number;
  /** A cached value: X-Cache, Age (and Warning) headers, and its bytes as the body. */
  served?: Served<unknown>;
  /** A JSON value to send (when there is no `served`). */
  json?: unknown;
  /** JSON already serialised (sent as it is; a Body keeps its compressed forms for the next request). */
  bytes?: Uint8Array | Body;
  /** Text streamed in pieces (CSV) instead of JSON. */
  text?: { pieces: Iterable<string> | AsyncIterable<string>; contentType: string; filename?: string };
  /** A binary body (a PDF) instead of JSON, sent as it is: it is compressed already. */
  file?: { bytes: Uint8Array; contentType: string; filename?: string };
  /** Server-sent events (text/event-stream), written as they come, never compressed; ends when the iterable does. */
  events?: AsyncIterable<string>;
  /** Strong ETag: a matching If-None-Match answers 304 without a body. */
  etag?: string;
}

export type Handler = (c: RouteContext) => Promise<Reply>;
/** Answers from what is held in memory, without waiting; undefined when the full handler must run. */
export type Peek = (c: RouteContext) => Reply | undefined;
