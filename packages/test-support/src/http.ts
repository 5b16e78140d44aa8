/**
 * Test fixture: an emulated unit, a relay over TCP with a memory store, a device registry with
 * the unit as "demo", and the HTTP server on a free loopback port; requests go through real HTTP
 * (global fetch). Logs are captured as pino JSON lines.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { RelayService, type RelayOptions, type Store } from '@sfm/core/cache';
import { DeviceRegistry, type AllowList, type Logger, type Metrics } from '@sfm/core/kernel';
import { TransportRegistry } from '@sfm/core/transport';
import { startSimulator, type RunningSimulator, type StartSimulatorOptions } from '@sfm/simulator';
import { MemoryStore } from '@sfm/store-memory';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { defaultHttpSettings, startHttpServer, type HttpServerHandle, type HttpSettings } from '@sfm/adapter-http';
import { TestClock } from './clock.js';

export const SIM_OPTIONS: StartSimulatorOptions = { events: 3, recordTimeS: 1, baud: 0, forwardDelayMs: 0, monitorSettleMs: 0, host: '127.0.0.1', port: 0 };
export const CLIENT_OPTIONS = { frameTimeoutMs: 1000, chunkTimeoutMs: 1000, wakeWindowMs: 0, monitorPollMs: 5 };

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

export interface CallOptions {
  method?: string;
  /** A value sent as JSON, a string sent as is (JSON by default), or raw bytes sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as Authorization: Bearer <token>. */
  token?: string;
}

export interface FixtureOptions {
  /** The cache store (default: a fresh MemoryStore); closed with the fixture. */
  store?: Store;
  /** HTTP settings beyond host, port, token and body limit (timeouts, connection cap). */
  http?: Partial<HttpSettings>;
  token?: string;
  allow?: AllowList;
  relay?: Omit<RelayOptions, 'client' | 'clock'>;
  bodyLimitBytes?: number;
  sim?: Partial<StartSimulatorOptions>;
  /** Where the relay and the HTTP server report (default: nowhere). */
  metrics?: Metrics;
  /** The web application's built files, served at / (default: none). */
  webRoot?: string;
}

export interface Fixture {
  sim: RunningSimulator;
  relay: RelayService;
  devices: DeviceRegistry;
  server: HttpServerHandle;
  url: string;
  clock: TestClock;
  /** Every log line written so far (JSON text). */
  logs: string[];
  logger: Logger;
  call(path: string, opts?: CallOptions): Promise<Reply>;
  close(): Promise<void>;
}

export function captureLogger(): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink) as unknown as Logger, logs };
}

export async function call(base: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Uint8Array | undefined;
  if (opts.body instanceof Uint8Array) {
    body = opts.body;
  } else if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const r = await fetch(base + path, { method: opts.method ?? 'GET', headers, body });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

export async function startFixture(opts: FixtureOptions = {}): Promise<Fixture> {
  const sim = await startSimulator({ ...SIM_OPTIONS, ...opts.sim });
  const clock = TestClock.shifted();
  const { logger, logs } = captureLogger();
  const relay = new RelayService(new TransportRegistry().register(tcpTransportFactory), opts.store ?? new MemoryStore(), { ...opts.relay, client: CLIENT_OPTIONS, clock, logger, metrics: opts.metrics });
  const devices = new DeviceRegistry({}, opts.allow);
  devices.register('demo', { kind: 'tcp', host: sim.address.host, port: sim.address.port });
  const server = await startHttpServer({
    relay,
    devices,
    logger,
    metrics: opts.metrics,
    version: '9.8.7-test',
    webRoot: opts.webRoot,
    settings: defaultHttpSettings({ port: 0, token: opts.token, bodyLimitBytes: opts.bodyLimitBytes ?? 4096, ...opts.http }),
  });
  return {
    sim,
    relay,
    devices,
    server,
    url: server.url,
    clock,
    logs,
    logger,
    call: (path, o) => call(server.url, path, o),
    close: async () => {
      await server.close();
      await sim.close();
      await relay.store.close();
    },
  };
}
