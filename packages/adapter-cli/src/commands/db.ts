/**
 * `sfm db`: the archive — every unit and every event sfm has read, kept whatever happened on the
 * units since. No device I/O: it reads the store the configuration names (the one `sfm serve`
 * writes, shared safely).
 */
import type { Argv, CommandModule } from 'yargs';
import type { RecordType } from '@sfm/core';
import { LocalTime, OneOf, RECORD_TYPES } from '@sfm/core/schema';
import { archiveCsv, localTimeBound } from '@sfm/core/service';
import type { ArchiveEventQuery } from '@sfm/core/cache';
import { DISTANCE_FT_LIMITS, STANDARD_CURVE_IDS } from '@sfm/core/analysis';
import { NotFound } from '@sfm/core';
import { archivedEventReport } from '@sfm/report';
import { Type } from '@sinclair/typebox';
import type { CliServices, ServiceRequest } from '../cli.js';
import { cmd } from '../command.js';
import { integerOption, numberOption, schemaOption } from '../flags.js';
import { formatArchivedEvents, formatSessions, formatUnits } from '../format.js';
import { UsageError, type CliIO } from '../io.js';
import { checkOutputPath, writeWhole } from '../output-file.js';
import { requestedAnalysis, verdicts } from '../analysis-flags.js';

export interface DbCommandDeps {
  io: CliIO;
  /** sfm's version, printed on reports. */
  version?: string;
  services: (req: ServiceRequest) => Promise<CliServices>;
}

interface DbArgs {
  action: 'units' | 'events' | 'sessions' | 'export' | 'report';
  id?: string;
  standard?: string;
  'distance-ft'?: number;
  json?: boolean;
  serial?: string;
  from?: string;
  to?: string;
  'min-pvs'?: number;
  project?: string;
  'record-type'?: RecordType;
  'false-trigger'?: boolean;
  limit?: number;
  cursor?: string;
  out?: string;
  store?: string;
  config?: string;
}

function options<T>(y: Argv<T>) {
  return y
    .positional('action', { choices: ['units', 'events', 'sessions', 'export', 'report'] as const, describe: 'what to list (export: the events as CSV; report ID: an archived event\'s PDF report)' })
    .positional('id', { type: 'string', describe: 'report: the archive\'s id of the event (sfm db events shows it)' })
    .option('json', { type: 'boolean', describe: 'print the JSON document (for scripts)' })
    .option('serial', schemaOption('serial', Type.String({ minLength: 1, maxLength: 64 }), { describe: 'only this unit\'s' }))
    .option('from', schemaOption('from', LocalTime, { describe: 'recorded at or after (unit-local: YYYY-MM-DD[THH:MM[:SS]])' }))
    .option('to', schemaOption('to', LocalTime, { describe: 'recorded at or before (a date means its last second)' }))
    .option('min-pvs', schemaOption('min-pvs', Type.Number({ minimum: 0 }), { describe: 'the unit\'s peak vector sum at least this, in/s' }))
    .option('project', schemaOption('project', Type.String({ minLength: 1, maxLength: 200 }), { describe: 'the event-time project name contains this' }))
    .option('record-type', schemaOption('record-type', OneOf(RECORD_TYPES, 'record type'), { describe: `only records of this type (${RECORD_TYPES.join(', ')})` }))
    .option('false-trigger', { type: 'boolean', describe: 'only events marked (or, with --no-false-trigger, not marked) as false triggers' })
    .option('limit', integerOption('limit', { minimum: 1, maximum: 5000 }, { describe: 'events or sessions per page (default 100)' }))
    .option('cursor', { type: 'string', describe: 'the next page: the cursor the previous page printed' })
    .option('out', { type: 'string', describe: 'export: the CSV file, report: the PDF file to write (whole or not at all)' })
    .option('standard', { type: 'string', describe: `report: standards to judge against, comma-separated: ${STANDARD_CURVE_IDS.join(', ')} or a configured curve (default: the configuration's compliance_standards)` })
    .option('distance-ft', numberOption('distance-ft', DISTANCE_FT_LIMITS, { describe: 'report: the sensor\'s distance from the blast in feet, for osmre-distance' }));
}

function filter(a: DbArgs): Omit<ArchiveEventQuery, 'limit' | 'cursor'> {
  return {
    serial: a.serial, from: localTimeBound(a.from, false), to: localTimeBound(a.to, true), minPvsIps: a['min-pvs'], project: a.project,
    recordType: a['record-type'], falseTrigger: a['false-trigger'],
  };
}

export function dbCommand(deps: DbCommandDeps): CommandModule<any, any> {
  const { io } = deps;
  return cmd({
    command: 'db <action> [id]',
    describe: 'the archive: every unit and event sfm has read (units, events, sessions, export --out F.csv, report ID --out F.pdf)',
    builder: (y) => options(y),
    handler: async (a: DbArgs) => {
      if (a.action !== 'report' && a.id !== undefined) throw new UsageError(`db ${a.action} takes no id (did you mean db report ${a.id}?)`);
      const services = await deps.services({ store: a.store, config: a.config });
      const archive = services.archive;
      if (!archive) throw new UsageError('no store is configured: the archive lives in the store (--store sqlite:PATH)');
      const next = (cursor: string | null) => cursor && io.stderr(`(more: --cursor ${cursor})\n`);
      switch (a.action) {
        case 'units': {
          const units = await archive.units();
          io.stdout(a.json ? `${JSON.stringify(units, null, 2)}\n` : `${formatUnits(units)}\n`);
          return;
        }
        case 'events': {
          const page = await archive.events({ ...filter(a), limit: a.limit ?? 100, cursor: a.cursor });
          io.stdout(a.json ? `${JSON.stringify({ events: page.items, next_cursor: page.nextCursor }, null, 2)}\n` : `${formatArchivedEvents(page.items)}\n`);
          next(page.nextCursor);
          return;
        }
        case 'sessions': {
          const page = await archive.sessions({ serial: a.serial, limit: a.limit ?? 100, cursor: a.cursor });
          io.stdout(a.json ? `${JSON.stringify({ sessions: page.items, next_cursor: page.nextCursor }, null, 2)}\n` : `${formatSessions(page.items)}\n`);
          next(page.nextCursor);
          return;
        }
        case 'export': {
          if (a.out === undefined) throw new UsageError('db export writes a CSV file: give --out FILE.csv');
          let lines = -1; // the header
          await writeWhole(a.out, (async function* () {
            for await (const piece of archiveCsv(archive, filter(a))) {
              lines += piece.split('\r\n').length - 1;
              yield piece;
            }
          })());
          io.stderr(`wrote ${lines} event${lines === 1 ? '' : 's'} to ${a.out}\n`);
          return;
        }
        case 'report': {
          if (a.id === undefined || !/^[1-9]\d{0,15}$/.test(a.id)) throw new UsageError(`db report needs the archive's id of an event (a whole number from 1), got ${a.id === undefined ? 'none' : JSON.stringify(a.id)}`);
          if (a.out === undefined) throw new UsageError('db report writes a PDF file: give --out FILE.pdf');
          if (!services.relay) throw new UsageError('no store is configured: the archive lives in the store (--store sqlite:PATH)');
          await checkOutputPath(a.out);
          const id = Number(a.id);
          const r = await archivedEventReport(services.relay, id, { analysis: requestedAnalysis(services, a.standard, a['distance-ft']), version: deps.version ?? 'unknown' });
          if (!r) throw new NotFound(`archived event ${id} has no waveform (it was never downloaded, or there is no such event)`);
          await writeWhole(a.out, [r.pdf]);
          io.stderr(`wrote ${a.out} (${r.event.serial} event ${r.event.key}${verdicts(r.analysis)})\n`);
          if (a.json) io.stdout(JSON.stringify(r.analysis, null, 2) + '\n');
          return;
        }
      }
    },
  });
}
