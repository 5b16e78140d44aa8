/**
 * The core's settings: which plugins to load, the store, the named units and the allow-list, the
 * cache and device timings, and what analyses judge events against. Plugins declare and check their own settings (the HTTP listener,
 * the emulated unit, …) the same way; see settings.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../errors.js';
import { DEFAULT_WAKE_RETRY_MS, DEFAULT_WAKE_WINDOW_MS } from '../client/minimate-client.js';
import { HostSet } from '../transport/address.js';
import { SERIAL_MAX_LENGTH } from '../protocol/serial-number.js';
import { BAUD_LIMITS, DEFAULT_BAUD, DEFAULT_TCP_PORT, TCP_PORT_LIMITS, type DeviceTarget } from '../transport/transport.js';
import { DEFAULT_ALLOW, type AllowList } from './device-registry.js';
import { AIR_BLAST_IDS, STANDARD_CURVE_IDS, STANDARD_NAME } from '../analysis/curves.js';
import { DEFAULT_AIR_BLAST, DEFAULT_STANDARDS, DISTANCE_FT_LIMITS, analysisSettings, type AnalysisSettings } from '../analysis/standards.js';
import { loadSources, readSettings, type ConfigSources, type LoadedSources } from './settings.js';

const seconds = (description: string, def: number, minimum: number, maximum: number, env?: string) =>
  Type.Number({ description, default: def, minimum, maximum, ...(env ? { env } : {}) });

const Device = Type.Object(
  {
    host: Type.Optional(Type.String({ description: 'modem or TCP bridge: host name or IP address' })),
    tcp_port: Type.Optional(Type.Integer({ ...TCP_PORT_LIMITS, description: `TCP port (default ${DEFAULT_TCP_PORT})` })),
    port: Type.Optional(Type.String({ minLength: 1, description: 'serial port path' })),
    baud: Type.Optional(Type.Integer({ ...BAUD_LIMITS, description: `baud rate (default ${DEFAULT_BAUD})` })),
    serial: Type.Optional(
      Type.String({
        minLength: 1, maxLength: SERIAL_MAX_LENGTH, pattern: '^[\\x21-\\x7e]+$', patternText: `printable ASCII without spaces, at most ${SERIAL_MAX_LENGTH} characters`,
        description: 'the unit\'s serial number, when known: a call home from it is accepted under ach.accept "known"',
      }),
    ),
  },
  { additionalProperties: false, description: 'a unit: {host, tcp_port} or {port, baud}, and optionally its serial' },
);

/**
 * A compliance curve of the operator's own (a jurisdiction's rule, a client's limit): (Hz, in/s)
 * points joined by straight lines on the log–log chart.
 */
export const CurveDefinition = Type.Object(
  {
    name: Type.String({
      description: 'how ?standard= and the analysis name it',
      pattern: `^${STANDARD_NAME.pattern}$`,
      patternText: STANDARD_NAME.text,
    }),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 120, description: 'what the report calls it (default: the name)' })),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'the rule it comes from, cited in the analysis and the report' })),
    points: Type.Array(
      Type.Object(
        {
          hz: Type.Number({ minimum: 0.01, maximum: 10_000, description: 'frequency, Hz' }),
          ips: Type.Number({ minimum: 0.001, maximum: 100, description: 'the limit there, in/s' }),
        },
        { additionalProperties: false },
      ),
      { description: 'at least 2 points in increasing frequency; below the first there is no limit, above the last its limit holds' },
    ),
  },
  { additionalProperties: false, description: 'a user-defined compliance curve: {name, title?, source?, points: [{hz, ips}, …]}' },
);
export type CurveDefinition = Static<typeof CurveDefinition>;

export const CoreSettings = Type.Object({
  plugins: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'exactly the plugins to load (default: every plugin the executable has)', env: 'SFM_PLUGINS' })),
  store: Type.String({ description: 'where the cache lives: sqlite:PATH, memory, or another store plugin\'s URL', default: 'sqlite:./data/sfm.db', minLength: 1, env: 'SFM_STORE' }),
  devices: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Device, { description: 'named units', default: {} }),
  allow_hosts: Type.Array(Type.String({ minLength: 1 }), { description: 'ad-hoc host= targets allowed: addresses, CIDRs, names', default: DEFAULT_ALLOW.hosts }),
  allow_serial_ports: Type.Array(Type.String({ minLength: 1 }), { description: 'ad-hoc port= targets allowed (a trailing * matches any suffix)', default: DEFAULT_ALLOW.serialPorts }),
  status_ttl_s: seconds('monitor-status TTL', 30, 1, 86_400, 'SFM_STATUS_TTL_S'),
  identity_ttl_s: seconds('how long a confirmed serial lets hits skip device I/O (0: confirm every time)', 300, 0, 86_400, 'SFM_IDENTITY_TTL_S'),
  hot_tier_bytes: Type.Integer({ description: 'bytes of serialized responses kept in memory', default: 64 * 1024 * 1024, minimum: 0, maximum: 16 * 1024 ** 3 }),
  queue_max: Type.Integer({ description: 'requests waiting per unit beyond the one running (then DEVICE_BUSY)', default: 32, minimum: 0, maximum: 10_000 }),
  queue_wait_s: seconds('how long a request may wait for its unit (then DEVICE_BUSY)', 120, 0.01, 3600),
  lock_ttl_s: seconds('how long a unit lock lasts unrenewed: a process that dies holding one (killed, cut off from the store) holds it this long at most', 30, 1, 3600),
  frame_timeout_s: seconds('wait for one reply frame', 15, 0.05, 600),
  chunk_timeout_s: seconds('wait for one 5A reply', 10, 0.05, 600),
  wake_window_s: seconds(`how long the first POLL of a session may go unanswered while the unit wakes up (it is sent again every ${DEFAULT_WAKE_RETRY_MS / 1000} s; the frame timeout when that is longer)`, DEFAULT_WAKE_WINDOW_MS / 1000, 0, 600),
  two_step_reads: Type.Boolean({ description: 'probe before every read, as the vendor\'s software does', default: false }),
  event_reads: Type.Union([Type.Literal('headers-first'), Type.Literal('vendor')], {
    description: 'headers-first: list events with 0A, 0C and 1F and read their project text after answering; vendor: read each event whole, as the vendor\'s software does',
    default: 'headers-first',
  }),
  events_max_age_s: seconds('serve the events list without probing the unit when it was probed this recently, for requests that give no max_age (0: probe every time)', 0, 0, 86_400),
  text_fill_s: seconds('how long a session may go on reading event-time project text after it answered, while no request waits for the unit (0: only when asked)', 120, 0, 86_400),
  log_level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { description: 'log level', default: 'info', env: 'SFM_LOG_LEVEL' }),
  log_format: Type.Union([Type.Literal('json'), Type.Literal('pretty')], { description: 'json: one JSON object per line on stderr (for collectors); pretty: readable lines for a person at a terminal', default: 'json', env: 'SFM_LOG_FORMAT' }),
  archive: Type.Object(
    {
      retention_days: Type.Optional(Type.Number({ description: 'drop archived events received more than this many days ago (never one a unit still holds); none: keep everything for good', exclusiveMinimum: 0, maximum: 36_500 })),
      waveform_bytes: Type.Optional(Type.Integer({ description: 'keep archived waveforms within this many bytes, dropping the oldest first (never one of an event a unit still holds); none: no budget', minimum: 0 })),
    },
    { description: 'what the archive may drop (by default nothing: every event and waveform sfm read is kept for good)', default: {}, additionalProperties: false },
  ),
  compliance_standards: Type.Array(Type.String({ minLength: 1 }), {
    description: `the standards analyses and reports judge events against when a request names none (?standard=): ${STANDARD_CURVE_IDS.join(', ')}, or the name of a compliance_curves entry`,
    default: [...DEFAULT_STANDARDS],
  }),
  compliance_distance_ft: Type.Union([Type.Number({ ...DISTANCE_FT_LIMITS }), Type.Null()], {
    description: 'the sensor\'s distance from the blast in feet, for osmre-distance when a request gives none (?distance_ft=); null: not known (osmre-distance then has no limit: n/a)',
    default: null,
  }),
  compliance_curves: Type.Array(CurveDefinition, { description: 'user-defined compliance curves, named in compliance_standards or ?standard= like the standard ones', default: [] }),
  air_blast_standard: Type.Union([...AIR_BLAST_IDS.map((id) => Type.Literal(id)), Type.Null()], {
    description: 'the air-blast limit the microphone is judged against, by the measuring system (30 CFR 816.67(b)); null: not judged',
    default: DEFAULT_AIR_BLAST,
  }),
  drain_timeout_s: seconds('on SIGTERM/SIGINT, how long sfm serve waits for requests and device work in flight before it exits anyway (a second signal exits at once)', 30, 0, 3600, 'SFM_DRAIN_TIMEOUT_S'),
});

export type CoreSettingsValues = Static<typeof CoreSettings>;

/** The core's settings as the kernel uses them, plus the sources plugins read theirs from. */
export interface SfmConfig {
  settings: CoreSettingsValues;
  /** The named units (canonical targets are made by the device registry). */
  devices: Record<string, DeviceTarget>;
  allow: AllowList;
  /** What analyses judge events against when a request does not say (curves checked). */
  analysis: AnalysisSettings;
  sources: LoadedSources;
}

/** Reads and checks the core's settings; the plugins' are checked when the kernel loads them. */
export function loadConfig(src: ConfigSources = {}): SfmConfig {
  const sources = loadSources(src);
  const problems: string[] = [];
  const settings = readSettings(CoreSettings, sources, problems);
  if (settings.plugins && new Set(settings.plugins).size !== settings.plugins.length) problems.push('plugins: a plugin is named twice');
  const devices = deviceTargets(settings.devices, problems);
  const allow = { hosts: hostRules(settings.allow_hosts, problems), serialPorts: settings.allow_serial_ports };
  const analysis = analysisSettings(settings, problems);
  if (problems.length) throw new ConfigError(problems);
  return { settings, devices, allow, analysis, sources };
}

function deviceTargets(raw: CoreSettingsValues['devices'], problems: string[]): Record<string, DeviceTarget> {
  const out: Record<string, DeviceTarget> = {};
  for (const [name, d] of Object.entries(raw)) {
    const where = `devices.${name}`;
    if (d.host !== undefined && d.port === undefined && d.baud === undefined) out[name] = { kind: 'tcp', host: d.host, port: d.tcp_port ?? DEFAULT_TCP_PORT };
    else if (d.port !== undefined && d.host === undefined && d.tcp_port === undefined) out[name] = { kind: 'serial', path: d.port, baud: d.baud ?? DEFAULT_BAUD };
    else problems.push(`${where}: give either host (and tcp_port) or port (and baud)`);
  }
  return out;
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
