/**
 * `sfm tap`: a transparent relay between the vendor's software and a unit that changes no byte and
 * records both directions into one capture file (docs/capture-format.md).
 *
 *   TCP:    sfm tap --listen HOST:PORT --to HOST:PORT --out FILE
 *           the vendor's software connects to --listen; each connection is relayed to --to. One
 *           session at a time, as a unit takes: a connection while one is relayed is refused (closed
 *           at once). The sessions follow each other in the one file.
 *   serial: sfm tap --serial-a PATH --serial-b PATH [--baud N] --out FILE
 *           the vendor's software on port a, the unit on port b: one session while both are open.
 *
 * SIGINT or SIGTERM ends the session in flight (closed_by "recorder"), closes the capture (fsync)
 * and exits 0. sfm decode reads the file; sfm decode --check compares the unit with sfm's conventions.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Argv, CommandModule } from 'yargs';
import { CaptureWriter, relayStreams, type RelayedSession } from '@sfm/core/capture';
import { BAUD_LIMITS, DEFAULT_BAUD } from '@sfm/core/transport';
import { SerialTransport } from '@sfm/transport-serial';
import { UsageError, checkOutputPath, cmd, integerOption, parseHostPort, type CliIO } from '@sfm/adapter-cli';
import { untilSignal } from './signals.js';
import { VERSION } from './version.js';

export type TapEnd =
  | { kind: 'tcp'; listen: { host: string; port: number }; to: { host: string; port: number } }
  | { kind: 'serial'; a: string; b: string; baud: number };

export interface TapOptions {
  ends: TapEnd;
  /** The capture file. */
  out: string;
  /** What the tap says as it goes (sessions starting and ending). */
  log: (line: string) => void;
  /** Connecting to --to gives up after this long (default 10 s). */
  connectTimeoutMs?: number;
}

export interface RunningTap {
  /** Where the TCP tap listens (null for serial). */
  readonly address: { host: string; port: number } | null;
  /** Sessions relayed so far. */
  readonly sessions: number;
  /** Resolves when the tap ended by itself (a serial port went away), with why. */
  readonly ended: Promise<string>;
  /** Ends the session in flight and closes the capture. */
  stop(): Promise<void>;
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

export async function startTap(opts: TapOptions): Promise<RunningTap> {
  const writer = CaptureWriter.create(opts.out, { recorder: `sfm ${VERSION} tap`, ...describeEnds(opts.ends) });
  let current: RelayedSession | null = null;
  let server: Server | null = null;
  let resolveEnded!: (why: string) => void;
  const ended = new Promise<string>((r) => (resolveEnded = r));

  const relay = (host: Duplex, device: Duplex, who: { host: string; device: string }): RelayedSession => {
    const before = { ...writer.bytes };
    const session = writer.startSession(who);
    opts.log(`session ${session.number}: ${who.host} ↔ ${who.device}`);
    const r = relayStreams(host, device, session);
    void r.done.then((how) => {
      if (current === r) current = null;
      const up = writer.bytes.host - before.host;
      const down = writer.bytes.device - before.device;
      opts.log(`session ${session.number} ended by the ${how.closed_by === 'recorder' ? 'tap' : how.closed_by}${how.error ? ` (${how.error})` : ''}: ${kb(up)} to the unit, ${kb(down)} from it`);
    });
    return r;
  };

  try {
    if (opts.ends.kind === 'tcp') {
      const { to } = opts.ends;
      const deviceName = `tcp:${to.host}:${to.port}`;
      server = createServer((host: Socket) => {
        const hostName = `tcp:${host.remoteAddress}:${host.remotePort}`;
        host.setNoDelay(true);
        host.on('error', () => undefined);
        if (current) {
          opts.log(`refused ${hostName}: a session is being relayed (a unit takes one at a time)`);
          host.destroy();
          return;
        }
        host.pause(); // nothing is read until the unit's side is there to take it
        const timeoutMs = opts.connectTimeoutMs ?? 10_000;
        const device = connect({ host: to.host, port: to.port, timeout: timeoutMs });
        device.setNoDelay(true);
        let settle!: () => void;
        // Until the unit's side connects, the session in flight is this attempt.
        const connecting: RelayedSession = {
          done: new Promise((r) => (settle = () => r({ closed_by: 'recorder' }))),
          stop: () => abandon('the tap stopped', 'recorder'),
        };
        current = connecting;
        const abandon = (why: string, closedBy: 'host' | 'device' | 'recorder'): void => {
          if (current !== connecting) return;
          current = null;
          writer.startSession({ host: hostName, device: deviceName }).end({ closed_by: closedBy, error: why });
          opts.log(`no session for ${hostName}: ${why}`);
          host.destroy();
          device.destroy();
          settle();
        };
        const onTimeout = (): void => abandon(`${deviceName} did not answer within ${timeoutMs / 1000} s`, 'device');
        const onError = (e: Error): void => abandon(`cannot reach ${deviceName}: ${e.message}`, 'device');
        const onHostClose = (): void => abandon('it hung up before the unit answered', 'host');
        device.once('timeout', onTimeout);
        device.once('error', onError);
        host.once('close', onHostClose);
        device.once('connect', () => {
          if (current !== connecting) return void device.destroy();
          device.off('timeout', onTimeout);
          device.off('error', onError);
          host.off('close', onHostClose);
          device.setTimeout(0);
          current = relay(host, device, { host: hostName, device: deviceName });
          host.resume();
          settle();
        });
      });
      server.on('error', (e) => opts.log(`listener: ${e.message}`));
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(opts.ends.kind === 'tcp' ? opts.ends.listen.port : 0, opts.ends.kind === 'tcp' ? opts.ends.listen.host : undefined, () => {
          server!.off('error', reject);
          resolve();
        });
      });
    } else {
      const { a, b, baud } = opts.ends;
      const host = await new SerialTransport({ kind: 'serial', path: a, baud }).openStream();
      let device: Duplex;
      try {
        device = await new SerialTransport({ kind: 'serial', path: b, baud }).openStream();
      } catch (e) {
        host.destroy();
        throw e;
      }
      current = relay(host, device, { host: `serial:${a}:${baud}`, device: `serial:${b}:${baud}` });
      void current.done.then((how) => resolveEnded(`a serial port closed${how.error ? `: ${how.error}` : ''}`));
    }
  } catch (e) {
    writer.close();
    throw e;
  }

  const address = server ? (server.address() as AddressInfo) : null;
  return {
    address: address && { host: address.address, port: address.port },
    get sessions() {
      return writer.sessions;
    },
    ended,
    async stop() {
      const closing = server ? new Promise<void>((r) => server!.close(() => r())) : Promise.resolve();
      const s = current;
      s?.stop();
      if (s) await s.done;
      await closing;
      writer.close();
      if (writer.error) throw writer.error;
    },
  };
}

function describeEnds(e: TapEnd): Record<string, string> {
  return e.kind === 'tcp'
    ? { host_side: `tcp:${e.listen.host}:${e.listen.port} (the vendor's software connects here)`, device_side: `tcp:${e.to.host}:${e.to.port}` }
    : { host_side: `serial:${e.a}:${e.baud}`, device_side: `serial:${e.b}:${e.baud}` };
}

interface TapArgs {
  listen?: string;
  to?: string;
  'serial-a'?: string;
  'serial-b'?: string;
  baud?: number;
  out: string;
}

/** The two ends the flags name: --listen and --to, or --serial-a and --serial-b. */
export function tapEnds(a: TapArgs): TapEnd {
  const tcp = a.listen !== undefined || a.to !== undefined;
  const serial = a['serial-a'] !== undefined || a['serial-b'] !== undefined;
  if (tcp && serial) throw new UsageError('give --listen and --to (TCP) or --serial-a and --serial-b, not both');
  if (tcp) {
    if (a.listen === undefined || a.to === undefined) throw new UsageError('a TCP tap needs --listen HOST:PORT (where the vendor\'s software connects) and --to HOST:PORT (the unit)');
    if (a.baud !== undefined) throw new UsageError('--baud goes with --serial-a and --serial-b');
    return { kind: 'tcp', listen: parseHostPort(a.listen, '--listen'), to: parseHostPort(a.to, '--to') };
  }
  if (serial) {
    if (a['serial-a'] === undefined || a['serial-b'] === undefined) throw new UsageError('a serial tap needs --serial-a PATH (the vendor\'s software) and --serial-b PATH (the unit)');
    if (a['serial-a'] === a['serial-b']) throw new UsageError('--serial-a and --serial-b must be two ports');
    return { kind: 'serial', a: a['serial-a'], b: a['serial-b'], baud: a.baud ?? DEFAULT_BAUD };
  }
  throw new UsageError('say what to relay: --listen HOST:PORT --to HOST:PORT, or --serial-a PATH --serial-b PATH');
}

export function tapCommand(io: CliIO, waitForExit: () => Promise<void> = untilSignal): CommandModule<any, any> {
  return cmd({
    command: 'tap',
    describe: 'relay a session between the vendor\'s software and a unit untouched, recording both directions into a capture file',
    builder: (y: Argv) =>
      y
        .option('listen', { type: 'string', describe: 'TCP HOST:PORT the vendor\'s software connects to', group: 'TCP:' })
        .option('to', { type: 'string', describe: 'TCP HOST:PORT of the unit (its modem or bridge)', group: 'TCP:' })
        .option('serial-a', { type: 'string', describe: 'serial port of the vendor\'s software', group: 'Serial:' })
        .option('serial-b', { type: 'string', describe: 'serial port of the unit', group: 'Serial:' })
        .option('baud', integerOption('baud', BAUD_LIMITS, { describe: `both serial ports' baud rate (default ${DEFAULT_BAUD})`, group: 'Serial:' }))
        .option('out', { type: 'string', demandOption: true, requiresArg: true, describe: 'the capture file (sfm decode reads it)' })
        .example('$0 tap --listen 0.0.0.0:12345 --to 10.20.0.17:12345 --out north-pit.sfmcap', 'between Blastware and a modem')
        .example('$0 tap --serial-a /dev/ttyUSB0 --serial-b /dev/ttyUSB1 --out bench.sfmcap', 'between two serial ports'),
    handler: async (a: TapArgs) => {
      const ends = tapEnds(a);
      const out = await checkOutputPath(a.out);
      const log = (line: string): void => io.stderr(`${line}\n`);
      const tap = await startTap({ ends, out, log });
      if (tap.address) log(`tap listening on ${tap.address.host}:${tap.address.port}, relaying to ${ends.kind === 'tcp' ? `${ends.to.host}:${ends.to.port}` : ''}; recording to ${out} (Ctrl-C to stop)`);
      else if (ends.kind === 'serial') log(`tap relaying ${ends.a} ↔ ${ends.b} at ${ends.baud} baud; recording to ${out} (Ctrl-C to stop)`);
      const why = await Promise.race([waitForExit().then(() => null), tap.ended]);
      await tap.stop();
      log(`${why ? `stopped: ${why}; ` : ''}recorded ${tap.sessions} session${tap.sessions === 1 ? '' : 's'} in ${out}`);
    },
  });
}
