/**
 * The device commands: info, events, event, waveform, report, status, monitor, config, call-home, erase.
 * Each goes through DeviceAccess (the caching relay, or the unit directly), so repeated calls
 * hit the cache when one is configured.
 */
import type { Argv, CommandModule } from 'yargs';
import { CallHomeChanges, ComplianceChanges, checkCallHomeChanges, checkComplianceChanges } from '@sfm/core/schema';
import { waveformCsv, type DeviceAccess, type EventReadOptions, type ReadOptions, type Served } from '@sfm/core/service';
import { DISTANCE_FT_LIMITS, STANDARD_CURVE_IDS } from '@sfm/core/analysis';
import { deviceEventReport } from '@sfm/report';
import { UsageError, type CliIO } from '../io.js';
import type { CliServices, ServiceRequest } from '../cli.js';
import { cmd } from '../command.js';
import { formatCallHome, formatCompliance, formatEvent, formatEvents, formatInfo, formatRange, formatStatus, plural } from '../format.js';
import { integerOption, numberOption } from '../flags.js';
import { checkOutputPath, writeWhole } from '../output-file.js';
import { Progress } from '../progress.js';
import { requestedAnalysis, verdicts } from '../analysis-flags.js';
import { targetFrom, withTargetOptions, type TargetArgs } from '../target.js';
import { fieldsOf, parseAssignments } from '../values.js';

export interface DeviceCommandDeps {
  io: CliIO;
  services: (req: ServiceRequest) => Promise<CliServices>;
  /** sfm's version, printed on reports. */
  version?: string;
}

interface CommonArgs extends TargetArgs {
  json?: boolean;
  force?: boolean;
  stale?: boolean;
  'max-age'?: number;
  store?: string;
  config?: string;
  capture?: string;
}

function common<T>(y: Argv<T>) {
  return withTargetOptions(y)
    .option('json', { type: 'boolean', describe: 'print the JSON document (for scripts)' })
    .option('force', { type: 'boolean', describe: 'bypass the cache and ask the unit' })
    .option('stale', { type: 'boolean', default: true, describe: 'when the unit cannot be reached, show what is cached (--no-stale: fail instead)' })
    .option('capture', { type: 'string', requiresArg: true, describe: 'record every byte both ways of the sessions with the unit into this capture file (sfm decode reads it)' });
}

function withEventOptions<T>(y: Argv<T>) {
  return y
    .option('max-age', integerOption('max-age', { minimum: 0 }, { describe: 'seconds: use the cached event list without asking the unit when it was checked this recently' }))
    .option('text', { type: 'boolean', default: true, describe: 'read the event-time project text before answering (--no-text: answer once the headers are in; the text is read later)' });
}

/** The event flags: the cache's, and whether to wait for the project text; the sync's and the text's progress on stderr. */
function eventReadOptions(a: CommonArgs & { text?: boolean }, progress: Progress): EventReadOptions {
  return { ...readOptions(a), waitForText: a.text !== false, ...progress.callbacks };
}

/** What a cached command's flags ask of the cache. */
function readOptions(a: CommonArgs): ReadOptions {
  return { force: a.force, stale: a.stale !== false, maxAgeS: a['max-age'] };
}

/** Runs a command's device work with its progress on stderr, the line cleared before any output. */
async function withProgress<T>(io: CliIO, work: (p: Progress) => Promise<T>): Promise<T> {
  const progress = new Progress(io);
  try {
    return await work(progress);
  } finally {
    progress.end();
  }
}

/** One line on stderr saying where a value came from (nothing for a plain fetch). */
function provenance(s: Served<unknown>): string | undefined {
  const age = `${Math.round(s.ageS)} s old`;
  switch (s.cache) {
    case 'hit':
      return `(from cache, ${age})`;
    case 'refresh':
      return '(refreshed from the unit)';
    case 'stale':
      return `(the unit could not be reached${s.warning ? `: ${/unreachable: (\w+)/.exec(s.warning)?.[1] ?? s.warning}` : ''} — showing the cached copy, ${age})`;
    case 'uncached':
      return '(from the unit; the cache store could not keep it)';
    default:
      return undefined;
  }
}

function index(raw: unknown): number {
  const n = Number(raw);
  if (typeof raw === 'string' && !/^\d+$/.test(raw)) throw new UsageError(`IDX: expected a 0-based event index, got ${JSON.stringify(raw)}`);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`IDX: expected a 0-based event index, got ${JSON.stringify(raw)}`);
  return n;
}

export function deviceCommands(deps: DeviceCommandDeps): CommandModule<any, any>[] {
  const { io } = deps;
  const svc = (a: CommonArgs) => deps.services({ store: a.store, config: a.config, capture: a.capture });
  /** The unit the flags name (a --device name needs the configured registry). */
  const target = async (a: CommonArgs) => {
    if (a.device === undefined) return targetFrom(a);
    return targetFrom(a, (await svc(a)).resolveDevice);
  };
  const access = async (a: CommonArgs): Promise<DeviceAccess> => (await svc(a)).access;
  const relay = async (a: CommonArgs) => {
    const r = (await svc(a)).relay;
    if (!r) throw new UsageError('no cache is configured');
    return r;
  };
  const print = <T>(a: CommonArgs, value: T, human: (v: T) => string, served?: Served<T>): void => {
    if (a.json) io.stdout(JSON.stringify(value, null, 2) + '\n');
    else io.stdout(human(value) + '\n');
    const note = served && provenance(served);
    // A stale answer is said even with --json (on stderr): a script must not mistake it for current.
    if (note && (!a.json || served.cache === 'stale')) io.stderr(`${note}\n`);
  };

  return [
    cmd({
      command: 'info',
      describe: 'identity and configuration of the unit',
      builder: (y) => common(y),
      handler: async (a: CommonArgs) => {
        const r = await (await access(a)).info(await target(a), readOptions(a));
        print(a, r.value, formatInfo, r);
      },
    }),
    cmd({
      command: 'events',
      describe: 'every stored event: header, peaks, project text',
      builder: (y) => withEventOptions(common(y)),
      handler: async (a: CommonArgs & { text?: boolean }) => {
        const t = await target(a);
        const r = await withProgress(io, async (p) => (await access(a)).events(t, eventReadOptions(a, p)));
        print(a, r.value, formatEvents, r);
      },
    }),
    cmd({
      command: 'event <idx>',
      describe: 'one event by 0-based index',
      builder: (y) => withEventOptions(common(y)).positional('idx', { type: 'string', describe: '0-based event index' }),
      handler: async (a: CommonArgs & { idx: string; text?: boolean }) => {
        const [idx, t] = [index(a.idx), await target(a)];
        const r = await withProgress(io, async (p) => (await access(a)).event(t, idx, eventReadOptions(a, p)));
        print(a, r.value, formatEvent, r);
      },
    }),
    cmd({
      command: 'waveform <idx>',
      describe: 'download an event\'s waveform in physical units',
      builder: (y) =>
        common(y)
          .positional('idx', { type: 'string', describe: '0-based event index' })
          .option('format', { choices: ['json', 'csv'] as const, default: 'json' as const, describe: 'output format' })
          .option('out', { type: 'string', describe: 'write to this file instead of stdout' }),
      handler: async (a: CommonArgs & { idx: string; format: 'json' | 'csv'; out?: string }) => {
        const idx = index(a.idx);
        const t = await target(a);
        if (a.out !== undefined) await checkOutputPath(a.out); // refuse a bad path before minutes of download
        const r = await withProgress(io, async (p) => (await access(a)).waveform(t, idx, { ...readOptions(a), ...p.callbacks }));
        const note = provenance(r);
        if (note && (a.out !== undefined || r.cache === 'stale')) io.stderr(`${note}\n`);
        const pieces = a.format === 'csv' ? waveformCsv(r.value) : [JSON.stringify(r.value) + '\n'];
        if (a.out !== undefined) {
          await writeWhole(a.out, pieces);
          io.stderr(`wrote ${a.out} (${r.value.channels[0]?.samples.length ?? 0} samples per channel)\n`);
        } else {
          for (const p of pieces) io.stdout(p);
        }
      },
    }),
    cmd({
      command: 'report <idx>',
      describe: 'the event\'s one-page report (PDF): figures, traces, compliance',
      builder: (y) =>
        common(y)
          .positional('idx', { type: 'string', describe: '0-based event index' })
          .option('out', { type: 'string', demandOption: true, describe: 'the PDF file to write' })
          .option('standard', { type: 'string', describe: `standards to judge against, comma-separated: ${STANDARD_CURVE_IDS.join(', ')} or a configured curve (default: the configuration's compliance_standards)` })
          .option('distance-ft', numberOption('distance-ft', DISTANCE_FT_LIMITS, { describe: 'the sensor\'s distance from the blast in feet, for osmre-distance (default: the configuration\'s compliance_distance_ft)' })),
      handler: async (a: CommonArgs & { idx: string; out: string; standard?: string; 'distance-ft'?: number }) => {
        const idx = index(a.idx);
        const t = await target(a);
        await checkOutputPath(a.out); // refuse a bad path before minutes of download
        const services = await svc(a);
        const options = requestedAnalysis(services, a.standard, a['distance-ft']);
        const r = await withProgress(io, async (p) =>
          deviceEventReport(services.access, t, idx, { analysis: options, force: a.force, stale: a.stale !== false, version: deps.version ?? 'unknown', ...p.callbacks }),
        );
        const note = provenance(r.waveform);
        if (note) io.stderr(`${note}\n`);
        await writeWhole(a.out, [r.pdf]);
        io.stderr(`wrote ${a.out} (${r.analysis.serial} event ${r.analysis.key}${verdicts(r.analysis)})\n`);
        if (a.json) io.stdout(JSON.stringify(r.analysis, null, 2) + '\n');
      },
    }),
    cmd({
      command: 'status',
      describe: 'monitoring, battery, memory, clock',
      builder: (y) => common(y),
      handler: async (a: CommonArgs) => {
        const r = await (await access(a)).status(await target(a), readOptions(a));
        print(a, r.value, formatStatus, r);
      },
    }),
    cmd({
      command: 'monitor <action>',
      describe: 'start or stop monitoring (start waits until the unit reports it, up to 60 s)',
      builder: (y) => common(y).positional('action', { choices: ['start', 'stop'] as const }),
      handler: async (a: CommonArgs & { action: 'start' | 'stop' }) => {
        const t = await target(a);
        const s = a.action === 'start' ? await (await access(a)).startMonitoring(t) : await (await access(a)).stopMonitoring(t);
        print(a, s, formatStatus);
      },
    }),
    cmd({
      command: 'config <action> [pairs..]',
      describe: 'change compliance settings: config set KEY=VALUE…',
      builder: (y) =>
        common(y)
          .positional('action', { choices: ['set'] as const })
          .positional('pairs', { type: 'string', array: true, describe: `KEY=VALUE; keys: ${[...fieldsOf(ComplianceChanges).keys()].join(', ')}` }),
      handler: async (a: CommonArgs & { pairs?: string[] }) => {
        const changes = checkComplianceChanges(parseAssignments(a.pairs ?? [], ComplianceChanges), '');
        const t = await target(a);
        print(a, await (await access(a)).writeConfig(t, changes), formatCompliance);
      },
    }),
    cmd({
      command: 'call-home <action> [pairs..]',
      describe: 'read (get) or change (set KEY=VALUE…) the auto-call-home settings',
      builder: (y) =>
        common(y)
          .positional('action', { choices: ['get', 'set'] as const })
          .positional('pairs', { type: 'string', array: true, describe: `KEY=VALUE; keys: ${[...fieldsOf(CallHomeChanges).keys()].join(', ')}` }),
      handler: async (a: CommonArgs & { action: 'get' | 'set'; pairs?: string[] }) => {
        if (a.action === 'get') {
          if (a.pairs?.length) throw new UsageError('call-home get takes no KEY=VALUE');
          print(a, await (await access(a)).readCallHome(await target(a)), formatCallHome);
          return;
        }
        const changes = checkCallHomeChanges(parseAssignments(a.pairs ?? [], CallHomeChanges), '');
        print(a, await (await access(a)).writeCallHome(await target(a), changes), formatCallHome);
      },
    }),
    cmd({
      command: 'storage-range',
      describe: 'first and next event key (SUB 06)',
      builder: (y) => common(y),
      handler: async (a: CommonArgs) => print(a, await (await access(a)).storageRange(await target(a)), formatRange),
    }),
    cmd({
      command: 'event-index',
      describe: 'the lifetime record counter (SUB 08): every record the unit ever made',
      builder: (y) => common(y),
      handler: async (a: CommonArgs) => print(a, await (await access(a)).eventIndex(await target(a)), (v) => `records ever made: ${v.lifetime_event_count}`),
    }),
    cmd({
      command: 'cache <action>',
      describe: 'cache stats, or cache clear (every cached entry of one unit)',
      builder: (y) => common(y).positional('action', { choices: ['stats', 'clear'] as const }),
      handler: async (a: CommonArgs & { action: 'stats' | 'clear' }) => {
        if (a.action === 'stats') {
          // What the store holds is shared; hit/miss counts belong to the process that served them.
          const s = await (await relay(a)).cacheStats();
          const kinds = Object.fromEntries(Object.entries(s.kinds).map(([k, v]) => [k, { entries: v.entries, bytes: v.bytes }]));
          io.stdout(JSON.stringify({ store: s.store, persistent: s.persistent, kinds }, null, 2) + '\n');
          io.stderr('(hits, misses and refreshes are counted by the process that serves them: a running sfm serve reports its own at GET /cache/stats)\n');
          return;
        }
        const t = await target(a);
        io.stdout(JSON.stringify({ cleared: await (await relay(a)).clearDevice(t) }, null, 2) + '\n');
      },
    }),
    cmd({
      command: 'erase',
      describe: 'erase every event on the unit (needs --yes)',
      builder: (y) => common(y).option('yes', { type: 'boolean', describe: 'confirm: delete every stored event' }),
      handler: async (a: CommonArgs & { yes?: boolean }) => {
        const t = await target(a);
        if (!a.yes) throw new UsageError('erase deletes every event stored on the unit; add --yes to confirm');
        let count: number | undefined;
        const range = await withProgress(io, async (p) => (await access(a)).erase(t, { onCount: (n) => (count = n), ...p.callbacks }));
        // Counted in the erase's own session, just before it: the events this erase removed.
        const erased = count === undefined ? 'erased every event (how many is not known: the cache store failed)' : `erased ${plural(count, 'event')}`;
        if (a.json) io.stderr(`(${erased})\n`);
        print(a, range, (r) => `${erased}; now ${formatRange(r)}`);
      },
    }),
  ];
}
