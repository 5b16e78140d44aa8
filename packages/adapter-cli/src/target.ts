/** Device selection flags (--device | --host/--tcp-port | --port/--baud) → a DeviceTarget. */
import { NotFound } from '@sfm/core';
import type { Argv } from 'yargs';
import { BAUD_LIMITS, DEFAULT_BAUD, DEFAULT_TCP_PORT, TCP_PORT_LIMITS, type DeviceTarget } from '@sfm/core/transport';
import { integerOption } from './flags.js';
import { UsageError } from './io.js';

/** The flags as the option parser gives them: numbers already read and checked. */
export interface TargetArgs {
  device?: string;
  host?: string;
  'tcp-port'?: number;
  port?: string;
  baud?: number;
}

export function withTargetOptions<T>(y: Argv<T>) {
  return y
    .option('device', { type: 'string', describe: 'a unit from the device registry (config file)', group: 'Unit:' })
    .option('host', { type: 'string', describe: 'modem or TCP bridge address', group: 'Unit:' })
    .option('tcp-port', integerOption('tcp-port', TCP_PORT_LIMITS, { describe: `TCP port (default ${DEFAULT_TCP_PORT})`, group: 'Unit:' }))
    .option('port', { type: 'string', describe: 'serial port path, e.g. /dev/ttyUSB0', group: 'Unit:' })
    .option('baud', integerOption('baud', BAUD_LIMITS, { describe: `serial baud rate (default ${DEFAULT_BAUD})`, group: 'Unit:' }));
}

/** Resolves named devices; until a registry is configured, none exist. */
export type DeviceResolver = (name: string) => DeviceTarget | undefined;

export function targetFrom(args: TargetArgs, resolve: DeviceResolver = () => undefined): DeviceTarget {
  const sets = [args.device !== undefined, args.host !== undefined, args.port !== undefined].filter(Boolean).length;
  if (sets === 0) throw new UsageError('choose a unit: --device NAME, --host ADDRESS [--tcp-port N] or --port PATH [--baud N]');
  if (sets > 1) throw new UsageError('choose one way to reach the unit: --device, --host or --port, not several');
  if (args['tcp-port'] !== undefined && args.host === undefined) throw new UsageError('--tcp-port goes with --host');
  if (args.baud !== undefined && args.port === undefined) throw new UsageError('--baud goes with --port');
  if (args.device !== undefined) {
    const t = resolve(args.device);
    if (!t) throw new NotFound(`unknown device ${JSON.stringify(args.device)}`);
    return t;
  }
  if (args.host !== undefined) {
    if (!/^[A-Za-z0-9.\-:[\]]+$/.test(args.host)) throw new UsageError(`--host: not a host name or address: ${JSON.stringify(args.host)}`);
    return { kind: 'tcp', host: args.host, port: args['tcp-port'] ?? DEFAULT_TCP_PORT };
  }
  if (!args.port) throw new UsageError('--port: give a serial port path');
  return { kind: 'serial', path: args.port, baud: args.baud ?? DEFAULT_BAUD };
}
