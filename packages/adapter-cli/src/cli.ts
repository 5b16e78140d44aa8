/**
 * The `sfm` command line: yargs over the commands, with injectable I/O and services so tests
 * run it in-process. Exit codes: 0 ok, 2 bad usage or input, 3 the unit failed (unreachable,
 * timeout, protocol error, busy), 4 not found, 1 anything else.
 */
import yargs from 'yargs';
import { SfmError, type ErrorCode } from '@sfm/core';
import { StoreError, type Archive, type RelayService } from '@sfm/core/cache';
import { CaptureWriter, capturingTransport } from '@sfm/core/capture';
import type { DeviceAccess } from '@sfm/core/service';
import type { AnalysisSettings } from '@sfm/core/analysis';
import type { Transport } from '@sfm/core/transport';
import { decodeCommand } from './commands/decode.js';
import { deviceCommands } from './commands/device.js';
import { dbCommand } from './commands/db.js';
import { UsageError, processIO, type CliIO } from './io.js';
import { checkOutputPath } from './output-file.js';
import type { DeviceResolver } from './target.js';

/** What device commands run against, made once per run on first use and closed at its end. */
export interface CliServices {
  access: DeviceAccess;
  /** The caching relay, when there is one (for `cache stats` / `cache clear`). */
  relay?: Pick<RelayService, 'cacheStats' | 'clearDevice' | 'archivedAnalysis' | 'store'>;
  /** The store's archive, when there is a store (`sfm db`). */
  archive?: Archive;
  /** Named units (--device). */
  resolveDevice?: DeviceResolver;
  /** What reports judge events against when --standard does not say (the configuration's; default core's defaults). */
  analysis?: AnalysisSettings;
  close(): void | Promise<void>;
}

/** The global options that choose how services are made. */
export interface ServiceOptions {
  store?: string;
  config?: string;
  /** Wraps every transport the services open sessions through (--capture records them). */
  wrapTransport?: (t: Transport) => Transport;
}

/** What a command asks of the services: the global options, and a capture file for its sessions. */
export interface ServiceRequest {
  store?: string;
  config?: string;
  capture?: string;
}

export interface CliDeps {
  /** What `sfm --version` prints. */
  version?: string;
  services?: (opts: ServiceOptions) => CliServices | Promise<CliServices>;
  /** Extra commands (e.g. `sim`, `serve`) contributed by the entry point. */
  extraCommands?: (io: CliIO) => import('yargs').CommandModule<any, any>[];
}

export const EXIT = { ok: 0, failure: 1, usage: 2, device: 3, notFound: 4 } as const;

export async function runCli(argv: string[], io: CliIO = processIO, deps: CliDeps = {}): Promise<number> {
  let exitCode: number = EXIT.ok;
  let made: Promise<CliServices> | undefined;
  let capture: CaptureWriter | undefined;
  const services = async (req: ServiceRequest): Promise<CliServices> => {
    if (!deps.services) throw new UsageError('no device access is configured');
    if (req.capture !== undefined && !made) {
      const path = await checkOutputPath(req.capture, '--capture');
      try {
        capture = CaptureWriter.create(path, { recorder: ['sfm', deps.version].filter(Boolean).join(' '), command: argv });
      } catch (e) {
        throw new UsageError(`--capture: ${(e as Error).message}`);
      }
    }
    const writer = capture;
    const wrapTransport = writer ? (t: Transport) => capturingTransport(t, writer) : undefined;
    return (made ??= Promise.resolve(deps.services({ store: req.store, config: req.config, wrapTransport })));
  };
  let cli = yargs(argv)
    .scriptName('sfm')
    .usage('$0 <command> [options]')
    .option('store', { type: 'string', global: true, describe: 'cache store: sqlite:PATH or memory (default sqlite:./data/sfm.db)' })
    .option('config', { type: 'string', global: true, describe: 'configuration file (JSON); also SFM_CONFIG' })
    .command(decodeCommand(io));
  for (const c of deviceCommands({ io, services, version: deps.version })) cli = cli.command(c);
  cli = cli.command(dbCommand({ io, services, version: deps.version }));
  for (const c of deps.extraCommands?.(io) ?? []) cli = cli.command(c);
  cli = cli
    .completion('completion', 'print a shell completion script (bash or zsh): sfm completion >> ~/.bashrc')
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    // Flags are read as given: a number flag checks its own text (flags.ts), and an unknown
    // --some-flag is reported once, not also as someFlag.
    .parserConfiguration({ 'camel-case-expansion': false, 'parse-numbers': false })
    .help('help')
    .alias('h', 'help');
  cli = deps.version === undefined ? cli.version(false) : cli.version('version', 'show sfm\'s version', deps.version).alias('v', 'version');
  cli = cli
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own errors (YError: an unknown flag, a flag's check) are bad usage; a command's pass through.
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(msg || err?.message || 'bad usage (see --help)');
    })
    .epilogue('Exit codes: 0 ok, 2 bad usage or input, 3 the unit failed, 4 not found, 1 other errors.')
    .wrap(Math.min(110, process.stdout.columns ?? 110));
  try {
    let helpText = '';
    await cli.parseAsync(argv, {}, (_err, _argv, output) => {
      helpText = output;
    });
    if (helpText) io.stdout(helpText + '\n');
  } catch (e) {
    const [code, message] = describeFailure(e);
    io.stderr(`sfm: ${message}\n`);
    exitCode = code;
  } finally {
    if (made) await made.then((s) => s.close(), () => undefined);
    // After the services closed: every session has ended and is in the file.
    if (capture) {
      capture.close();
      if (capture.error) {
        io.stderr(`sfm: --capture: ${capture.error.message}\n`);
        exitCode ||= EXIT.failure;
      } else {
        io.stderr(`(recorded ${capture.sessions} session${capture.sessions === 1 ? '' : 's'} with the unit in ${capture.describe})\n`);
      }
    }
  }
  return exitCode;
}

/** The exit code of each error code. */
export const EXIT_CODE: Record<ErrorCode, number> = {
  INVALID_REQUEST: EXIT.usage,
  CONFIG_INVALID: EXIT.usage,
  TARGET_NOT_ALLOWED: EXIT.usage,
  CONFIRMATION_REQUIRED: EXIT.usage,
  UNAUTHORIZED: EXIT.usage,
  METHOD_NOT_ALLOWED: EXIT.usage,
  PAYLOAD_TOO_LARGE: EXIT.usage,
  UNSUPPORTED_MEDIA_TYPE: EXIT.usage,
  REQUEST_TIMEOUT: EXIT.failure,
  NOT_FOUND: EXIT.notFound,
  DEVICE_UNREACHABLE: EXIT.device,
  PROTOCOL_ERROR: EXIT.device,
  DEVICE_BUSY: EXIT.device,
  DEVICE_TIMEOUT: EXIT.device,
  STORE_UNAVAILABLE: EXIT.failure,
  SHUTTING_DOWN: EXIT.failure,
  MEMORY_FULL: EXIT.failure,
  INTERNAL: EXIT.failure,
};

/** Codes whose message says what failed on its own; the others are prefixed with the code. */
const PLAIN: ReadonlySet<ErrorCode> = new Set(['INVALID_REQUEST', 'CONFIG_INVALID', 'NOT_FOUND', 'TARGET_NOT_ALLOWED', 'CONFIRMATION_REQUIRED']);

function describeFailure(e: unknown): [number, string] {
  if (!(e instanceof SfmError)) return [EXIT.failure, e instanceof Error ? e.message : String(e)];
  if (e instanceof StoreError) return [EXIT_CODE[e.code], `cache store: ${e.message}`];
  return [EXIT_CODE[e.code], PLAIN.has(e.code) ? e.message : `${e.code}: ${e.message}`];
}
