/**
 * DI tokens: the seams plugins register against. One container per process (a child of
 * tsyringe's root), filled by the kernel and the plugins the configuration names.
 */
export const TOKENS = {
  /** SfmConfig: the validated configuration. */
  Config: Symbol.for('sfm.Config'),
  /** Logger (pino-compatible). */
  Logger: Symbol.for('sfm.Logger'),
  /** Clock. */
  Clock: Symbol.for('sfm.Clock'),
  /** TransportFactory — registered once per transport plugin; resolved as a list. */
  TransportFactory: Symbol.for('sfm.TransportFactory'),
  /** Store — exactly one store plugin registers it. */
  Store: Symbol.for('sfm.Store'),
  /** DeviceRegistry: the named units and the allow-list. */
  DeviceRegistry: Symbol.for('sfm.DeviceRegistry'),
  /** RelayService: what every front end uses. */
  Relay: Symbol.for('sfm.Relay'),
  /** StartHttpServer — registered by the HTTP front-end plugin. */
  HttpServer: Symbol.for('sfm.HttpServer'),
  /** Lifecycle — things that start with the service and stop with it (e.g. the built-in emulated unit). */
  Lifecycle: Symbol.for('sfm.Lifecycle'),
} as const;

export interface Lifecycle {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
