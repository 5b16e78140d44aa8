/**
 * DI tokens: the seams plugins provide and use. A token carries the type of what it names, so a
 * resolve needs no hand-written generic. One container per kernel (a child of tsyringe's root),
 * with a child container per plugin for what the plugin keeps to itself.
 */
import type { DependencyContainer } from 'tsyringe';
import type { TransportFactory } from '../transport/transport.js';
import type { Store } from '../cache/store.js';
import type { RelayService } from '../cache/relay-service.js';
import type { Clock } from '../clock.js';
import type { DeviceRegistry } from './device-registry.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

declare const carries: unique symbol;
/** A symbol that names a T in the container. */
export type Token<T> = symbol & { readonly [carries]?: T };

export function token<T>(name: string): Token<T> {
  return Symbol.for(`sfm.${name}`) as Token<T>;
}

/** What a token names, typed by the token. */
export function resolveToken<T>(c: DependencyContainer, t: Token<T>): T {
  return c.resolve<T>(t);
}

export function resolveAllTokens<T>(c: DependencyContainer, t: Token<T>): T[] {
  return c.isRegistered(t) ? c.resolveAll<T>(t) : [];
}

/** Something that runs with `sfm serve`: an HTTP listener, the emulated unit, a call-home server. */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  /** Graceful: finish what is in flight, then stop. */
  stop(): Promise<void>;
  /** Lines for the operator once started (where it listens). */
  banner?(): string[];
  /** Its base URL, when it serves HTTP (for the operator's "try" lines). */
  url?(): string | undefined;
}

export const TOKENS = {
  Logger: token<Logger>('Logger'),
  Clock: token<Clock>('Clock'),
  /** sfm's version (for /health and banners). */
  Version: token<string>('Version'),
  /** One per transport plugin; resolved as a list. */
  TransportFactory: token<TransportFactory>('TransportFactory'),
  /** Exactly one: the store the configuration names. */
  Store: token<Store>('Store'),
  DeviceRegistry: token<DeviceRegistry>('DeviceRegistry'),
  /** What every front end uses. */
  Relay: token<RelayService>('Relay'),
  /** Zero or more; started in plugin order by `sfm serve`, stopped in reverse. */
  Service: token<Service>('Service'),
  /** At most one plugin keeps the metrics; without one, reports go nowhere. */
  Metrics: token<Metrics>('Metrics'),
  /** The directory of the web application `sfm serve` serves at / (built static files); null: none. */
  WebRoot: token<string | null>('WebRoot'),
} as const;
