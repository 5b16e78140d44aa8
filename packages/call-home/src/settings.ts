/**
 * The call-home plugin's settings: one key of the configuration, `ach`, an object whose fields
 * are declared here once with their defaults and limits. The listener is off until `ach.listen`
 * is given; who may call is refused by default (`allow_peers` empty).
 */
import { Type, type Static, type TOptional } from '@sinclair/typebox';
import { ConfigError, InvalidInput } from '@sfm/core';
import { CALL_HOME_WAVEFORMS, type CallHomeWaveforms } from '@sfm/core/cache';
import { HostSet, canonicalHost, ipVersion } from '@sfm/core/transport';

const MIB = 1024 * 1024;

const FIELDS = {
  listen: Type.String({
    description: 'HOST:PORT to take units\' calls on (e.g. 0.0.0.0:12345); none: no call-home listener',
    pattern: '^(?:\\[[^\\]]+\\]|[^:\\s]+):\\d{1,5}$',
    patternText: 'HOST:PORT (IPv6 in brackets)',
  }),
  allow_peers: Type.Array(Type.String({ minLength: 1 }), {
    description: 'addresses and CIDR ranges a call may come from (the calling modems); none: every call is refused',
    default: [] as string[],
  }),
  accept: Type.Union([Type.Literal('known'), Type.Literal('any')], {
    description: 'which units may call: known — a serial of a configured device (devices.*.serial, or the serial sfm confirmed at a device\'s address); any — every unit',
    default: 'known',
  }),
  waveforms: Type.Union(CALL_HOME_WAVEFORMS.map((w) => Type.Literal(w)), {
    description: 'which waveforms a call downloads: all; none; over_trigger — of events whose geophone or microphone peak reached the unit\'s trigger level',
    default: 'all',
  }),
  erase_after_download: Type.Boolean({ description: 'erase the unit once everything it holds is archived durably', default: false }),
  restart_monitoring: Type.Boolean({ description: 'start monitoring once everything is archived (after the erase, when that is on)', default: false }),
  keep_captures: Type.Boolean({ description: 'keep each call\'s raw bytes as a capture file (the Session names it)', default: true }),
  captures_dir: Type.String({ description: 'where the captures are kept', default: './data/captures', minLength: 1 }),
  captures_bytes: Type.Integer({ description: 'keep the captures within this many bytes, dropping the oldest first', default: 256 * MIB, minimum: 0 }),
  max_calls: Type.Integer({ description: 'calls taken at once; more are refused', default: 256, minimum: 1, maximum: 100_000 }),
  preamble_bytes: Type.Integer({
    description: 'bytes a caller may send before its first frame (modem text, a boot banner); more is garbage and the call is dropped',
    default: 4096, minimum: 64, maximum: MIB,
  }),
  call_bytes: Type.Integer({ description: 'bytes one call may bring in all; then it is dropped', default: 64 * MIB, minimum: 1024 }),
  call_max_s: Type.Number({ description: 'how long one call may last; then it is dropped', default: 1800, minimum: 1, maximum: 86_400 }),
};

/** The `ach` object as the configuration gives it (every field optional; defaults come from FIELDS). */
export const AchSettings = Type.Object(
  Object.fromEntries(Object.entries(FIELDS).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof typeof FIELDS]: TOptional<(typeof FIELDS)[K]> },
  { description: 'Auto Call Home: units that call sfm (off until ach.listen is given)', default: {}, additionalProperties: false },
);

export const CallHomeSettingsSchema = Type.Object({ ach: AchSettings });

/** The `ach` object as a configuration gives it. */
export type AchGiven = Static<typeof AchSettings>;

/** The settings as the server runs with them: every field filled, the peers parsed. */
export interface CallHomeSettings {
  listen: { host: string; port: number } | null;
  allowPeers: HostSet;
  accept: 'known' | 'any';
  waveforms: CallHomeWaveforms;
  eraseAfterDownload: boolean;
  restartMonitoring: boolean;
  keepCaptures: boolean;
  capturesDir: string;
  capturesBytes: number;
  maxCalls: number;
  preambleBytes: number;
  callBytes: number;
  callMaxMs: number;
}

const DEFAULTS = Object.fromEntries(Object.entries(FIELDS).map(([k, v]) => [k, (v as { default?: unknown }).default])) as AchGiven;

/** Fills the defaults and parses what needs it; a ConfigError names every field that cannot run. */
export function callHomeSettings(given: AchGiven = {}): CallHomeSettings {
  const v = { ...DEFAULTS, ...given } as Required<Omit<AchGiven, 'listen'>> & Pick<AchGiven, 'listen'>;
  const problems: string[] = [];
  let listen: CallHomeSettings['listen'] = null;
  if (v.listen !== undefined) {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v.listen)!;
    const port = Number(m[3]);
    if (port > 65535) problems.push(`ach.listen: the port must be 0–65535, got ${port}`);
    listen = { host: m[1] ?? m[2]!, port };
  }
  const rules: string[] = [];
  for (const rule of v.allow_peers) {
    try {
      new HostSet([rule]);
      // Not a name: a calling modem is known by its address alone.
      if (ipVersion(canonicalHost(rule.split('/')[0]!)) === 0) throw new Error(`not an address or range: ${JSON.stringify(rule)}`);
      rules.push(rule);
    } catch (e) {
      problems.push(`ach.allow_peers: ${e instanceof InvalidInput ? e.why : (e as Error).message} (give addresses or CIDR ranges)`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    listen,
    allowPeers: new HostSet(rules),
    accept: v.accept,
    waveforms: v.waveforms,
    eraseAfterDownload: v.erase_after_download,
    restartMonitoring: v.restart_monitoring,
    keepCaptures: v.keep_captures,
    capturesDir: v.captures_dir,
    capturesBytes: v.captures_bytes,
    maxCalls: v.max_calls,
    preambleBytes: v.preamble_bytes,
    callBytes: v.call_bytes,
    callMaxMs: v.call_max_s * 1000,
  };
}
