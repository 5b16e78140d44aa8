/**
 * sfm's configuration: defaults, then a JSON file, then SFM_* environment variables, then flags.
 * Every field is validated; every problem is reported with its field name and why, all at once.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_BAUD, DEFAULT_TCP_PORT, type DeviceTarget } from '../transport/transport.js';
import { HostSet } from '../transport/address.js';
import { DEFAULT_ALLOW, type AllowList } from './device-registry.js';
import { DEFAULT_BODY_LIMIT_BYTES, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_HTTP_PORT, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT_MS, type HttpSettings } from './http-contract.js';

export interface SfmConfig {
  /** Exactly the plugins to load. */
  plugins: string[];
  store: { kind: 'sqlite'; path: string } | { kind: 'memory'; maxBytes: number };
  http: HttpSettings;
  devices: Record<string, DeviceTarget>;
  allow: AllowList;
  cache: { statusTtlMs: number; identityTtlMs: number; hotTierBytes: number; queue: { maxQueued: number; maxWaitMs: number } };
  client: { frameTimeoutMs: number; chunkTimeoutMs: number; twoStepReads: boolean };
  /** Start the built-in emulated unit as device "demo": always, never, or when no unit is configured. */
  simulate: boolean | 'auto';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export const DEFAULT_PLUGINS = ['transport-tcp', 'transport-serial', 'store-sqlite', 'store-memory', 'adapter-http', 'simulator'];
export const DEFAULT_STORE_PATH = './data/sfm.db';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? `configuration: ${problems[0]}` : `configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** The file's keys (flat, snake_case): what a deployment writes. */
export interface ConfigFile {
  plugins?: string[];
  store?: string;
  store_max_bytes?: number;
  listen?: string;
  http_token?: string;
  body_limit_bytes?: number;
  devices?: Record<string, { host?: string; tcp_port?: number; port?: string; baud?: number }>;
  allow_hosts?: string[];
  allow_serial_ports?: string[];
  status_ttl_s?: number;
  identity_ttl_s?: number;
  hot_tier_bytes?: number;
  http_headers_timeout_s?: number;
  http_request_timeout_s?: number;
  http_max_connections?: number;
  queue_max?: number;
  queue_wait_s?: number;
  frame_timeout_s?: number;
  chunk_timeout_s?: number;
  two_step_reads?: boolean;
  simulate?: boolean | 'auto';
  log_level?: string;
}

const KNOWN_KEYS = new Set<string>([
  'plugins', 'store', 'store_max_bytes', 'listen', 'http_token', 'body_limit_bytes', 'devices', 'allow_hosts', 'allow_serial_ports',
  'status_ttl_s', 'identity_ttl_s', 'hot_tier_bytes', 'http_headers_timeout_s', 'http_request_timeout_s', 'http_max_connections', 'queue_max', 'queue_wait_s', 'frame_timeout_s', 'chunk_timeout_s', 'two_step_reads', 'simulate', 'log_level',
]);

/** Environment variables and the keys they set. */
const ENV: Record<string, keyof ConfigFile> = {
  SFM_PLUGINS: 'plugins',
  SFM_STORE: 'store',
  SFM_LISTEN: 'listen',
  SFM_HTTP_TOKEN: 'http_token',
  SFM_SIMULATE: 'simulate',
  SFM_LOG_LEVEL: 'log_level',
  SFM_STATUS_TTL_S: 'status_ttl_s',
  SFM_IDENTITY_TTL_S: 'identity_ttl_s',
};

export interface ConfigSources {
  /** A JSON file (missing file = an error; none given = SFM_CONFIG, else no file). */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Flags given on the command line (already in file-key form). */
  flags?: Partial<ConfigFile>;
}

export function loadConfig(src: ConfigSources = {}): SfmConfig {
  const env = src.env ?? process.env;
  const problems: string[] = [];
  let file: Record<string, unknown> = {};
  const path = src.file ?? env.SFM_CONFIG;
  if (path) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SyntaxError('the top level must be a JSON object');
      file = parsed as Record<string, unknown>;
      for (const k of Object.keys(file)) if (!KNOWN_KEYS.has(k)) problems.push(`${k}: not a configuration key (file ${path})`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConfigError([`cannot read ${path}: ${code ?? (e as Error).message}`]);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    fromEnv[key] = key === 'plugins' ? v.split(',').map((s) => s.trim()).filter(Boolean) : key === 'simulate' ? parseSimulate(v) : key === 'status_ttl_s' || key === 'identity_ttl_s' ? Number(v) : v;
  }
  const merged = { ...file, ...fromEnv, ...stripUndefined(src.flags ?? {}) } as Record<string, unknown>;
  const cfg = validate(merged, problems);
  if (problems.length) throw new ConfigError(problems);
  return cfg;
}

/** Keeps the allow-list rules that are addresses, ranges or names; reports the others. */
function hostRules(rules: string[], problems: string[]): string[] {
  return rules.filter((rule) => {
    try {
      new HostSet([rule]);
      return true;
    } catch (e) {
      problems.push(`allow_hosts: ${(e as Error).message}`);
      return false;
    }
  });
}

function parseSimulate(v: string): boolean | 'auto' | string {
  if (/^(true|yes|1|on)$/i.test(v)) return true;
  if (/^(false|no|0|off)$/i.test(v)) return false;
  return v;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(c: Record<string, unknown>, problems: string[]): SfmConfig {
  const num = (key: string, def: number, min: number, max: number, integer = true): number => {
    const v = c[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      problems.push(`${key}: must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return def;
    }
    return v;
  };
  const bool = (key: string, def: boolean): boolean => {
    const v = c[key];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') {
      problems.push(`${key}: must be true or false, got ${JSON.stringify(v)}`);
      return def;
    }
    return v;
  };
  const strings = (key: string, def: string[]): string[] => {
    const v = c[key];
    if (v === undefined) return def;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0)) {
      problems.push(`${key}: must be a list of non-empty strings`);
      return def;
    }
    return v as string[];
  };

  const plugins = strings('plugins', DEFAULT_PLUGINS);
  if (new Set(plugins).size !== plugins.length) problems.push('plugins: a plugin is named twice');

  let store: SfmConfig['store'] = { kind: 'sqlite', path: DEFAULT_STORE_PATH };
  const storeText = c.store;
  if (storeText !== undefined) {
    if (storeText === 'memory' || storeText === ':memory:') store = { kind: 'memory', maxBytes: 0 };
    else if (typeof storeText === 'string' && /^sqlite:.+/.test(storeText)) store = { kind: 'sqlite', path: storeText.slice(7) };
    else problems.push(`store: expected sqlite:PATH or memory, got ${JSON.stringify(storeText)}`);
  }
  if (store.kind === 'memory') store.maxBytes = num('store_max_bytes', 256 * 1024 * 1024, 1024 * 1024, 64 * 1024 ** 3);

  let host = '127.0.0.1';
  let port = DEFAULT_HTTP_PORT;
  if (c.listen !== undefined) {
    const m = typeof c.listen === 'string' ? /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(c.listen) : null;
    if (!m || Number(m[3]) > 65535) problems.push(`listen: expected HOST:PORT (port 0–65535), got ${JSON.stringify(c.listen)}`);
    else {
      host = m[1] ?? m[2]!;
      port = Number(m[3]);
    }
  }
  const token = c.http_token;
  if (token !== undefined && (typeof token !== 'string' || token.length < 16 || /\s/.test(token))) {
    problems.push('http_token: must be at least 16 characters without spaces');
  }

  const devices: Record<string, DeviceTarget> = {};
  const rawDevices = c.devices ?? {};
  if (typeof rawDevices !== 'object' || rawDevices === null || Array.isArray(rawDevices)) problems.push('devices: must be an object of name → {host, tcp_port} or {port, baud}');
  else {
    for (const [name, d] of Object.entries(rawDevices as Record<string, Record<string, unknown>>)) {
      const where = `devices.${name}`;
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) problems.push(`${where}: a device name is 1–64 letters, digits, '.', '_' or '-'`);
      if (!d || typeof d !== 'object') {
        problems.push(`${where}: must be {host, tcp_port} or {port, baud}`);
        continue;
      }
      if (typeof d.host === 'string' && d.port === undefined) {
        const p = d.tcp_port ?? DEFAULT_TCP_PORT;
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) problems.push(`${where}.tcp_port: must be 1–65535`);
        else devices[name] = { kind: 'tcp', host: d.host, port: p };
      } else if (typeof d.port === 'string' && d.host === undefined) {
        const b = d.baud ?? DEFAULT_BAUD;
        if (typeof b !== 'number' || !Number.isInteger(b) || b < 50 || b > 4_000_000) problems.push(`${where}.baud: must be a baud rate`);
        else devices[name] = { kind: 'serial', path: d.port, baud: b };
      } else problems.push(`${where}: give either host (and tcp_port) or port (and baud)`);
    }
  }

  const simulate = c.simulate ?? 'auto';
  if (simulate !== true && simulate !== false && simulate !== 'auto') problems.push(`simulate: must be true, false or "auto", got ${JSON.stringify(simulate)}`);
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const logLevel = c.log_level ?? 'info';
  if (typeof logLevel !== 'string' || !levels.includes(logLevel)) problems.push(`log_level: must be one of ${levels.join(', ')}`);

  return {
    plugins,
    store,
    http: {
      host,
      port,
      token: typeof token === 'string' ? token : undefined,
      bodyLimitBytes: num('body_limit_bytes', DEFAULT_BODY_LIMIT_BYTES, 1024, 16 * 1024 * 1024),
      headersTimeoutMs: num('http_headers_timeout_s', DEFAULT_HEADERS_TIMEOUT_MS / 1000, 1, 600, false) * 1000,
      requestTimeoutMs: num('http_request_timeout_s', DEFAULT_REQUEST_TIMEOUT_MS / 1000, 1, 3600, false) * 1000,
      maxConnections: num('http_max_connections', DEFAULT_MAX_CONNECTIONS, 1, 1_000_000),
    },
    devices,
    allow: { hosts: hostRules(strings('allow_hosts', DEFAULT_ALLOW.hosts), problems), serialPorts: strings('allow_serial_ports', DEFAULT_ALLOW.serialPorts) },
    cache: {
      statusTtlMs: num('status_ttl_s', 30, 1, 86_400, false) * 1000,
      identityTtlMs: num('identity_ttl_s', 300, 0, 86_400, false) * 1000,
      hotTierBytes: num('hot_tier_bytes', 64 * 1024 * 1024, 0, 16 * 1024 ** 3),
      queue: { maxQueued: num('queue_max', 32, 0, 10_000), maxWaitMs: num('queue_wait_s', 120, 0.01, 3600, false) * 1000 },
    },
    client: {
      frameTimeoutMs: num('frame_timeout_s', 15, 0.05, 600, false) * 1000,
      chunkTimeoutMs: num('chunk_timeout_s', 10, 0.05, 600, false) * 1000,
      twoStepReads: bool('two_step_reads', false),
    },
    simulate: simulate as SfmConfig['simulate'],
    logLevel: logLevel as SfmConfig['logLevel'],
  };
}
