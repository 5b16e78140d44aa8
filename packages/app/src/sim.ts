/**
 * `sfm sim`: an emulated MiniMate Plus over TCP (and/or on a serial device such as one end of a
 * pseudo-terminal pair), with link emulation and an optional control API.
 */
import type { Argv, CommandModule } from 'yargs';
import { SIM_CLI_DEFAULTS, startSimulator } from '@sfm/simulator';
import { SerialTransport } from '@sfm/transport-serial';
import { cmd, parseHostPort, integerOption, type CliIO } from '@sfm/adapter-cli';
import { untilSignal } from './signals.js';

interface SimArgs {
  listen: string;
  serial: string;
  events: number;
  baud: number;
  'forward-delay-ms': number;
  control?: string;
  attach?: string;
  'modem-preamble': boolean;
  'boot-banner': boolean;
  'monitor-settle-ms': number;
  'monitor-log': boolean;
  'wake-ms': number;
  'call-home'?: string;
  seed: number;
}

/** The counts and times of the emulated unit: whole numbers ≥ 0. */
const WHOLE = { minimum: 0 };

export function simCommand(io: CliIO, waitForExit: () => Promise<void> = untilSignal): CommandModule<any, any> {
  return cmd({
    command: 'sim',
    describe: 'run an emulated MiniMate Plus unit (TCP, serial device, control API)',
    builder: (y: Argv) =>
      y
        .option('listen', { type: 'string', default: `${SIM_CLI_DEFAULTS.host}:${SIM_CLI_DEFAULTS.port}`, describe: 'TCP HOST:PORT to serve on' })
        .option('serial', { type: 'string', default: SIM_CLI_DEFAULTS.serial, describe: 'the unit\'s serial number' })
        .option('events', integerOption('events', WHOLE, { default: SIM_CLI_DEFAULTS.events, describe: 'events stored at start' }))
        .option('baud', integerOption('baud', WHOLE, { default: SIM_CLI_DEFAULTS.baud, describe: 'emulated line speed (0 = unlimited)' }))
        .option('forward-delay-ms', integerOption('forward-delay-ms', WHOLE, { default: SIM_CLI_DEFAULTS.forwardDelayMs, describe: 'modem hold before forwarding each burst' }))
        .option('control', { type: 'string', describe: 'serve the control HTTP API on HOST:PORT' })
        .option('attach', { type: 'string', describe: 'also serve on this serial device (e.g. one end of a socat pty pair)' })
        .option('modem-preamble', { type: 'boolean', default: false, describe: 'send RING/CONNECT to each TCP client' })
        .option('boot-banner', { type: 'boolean', default: false, describe: 'send "Operating System" to each new connection' })
        .option('monitor-settle-ms', integerOption('monitor-settle-ms', WHOLE, { default: 40_000, describe: 'sensor check after start monitoring' }))
        .option('monitor-log', { type: 'boolean', default: false, describe: 'insert a monitor-log record after every 5th event' })
        .option('wake-ms', integerOption('wake-ms', WHOLE, { default: 0, describe: 'the unit hears nothing this long after each connection opens (waking up; real units take 5000–10000)' }))
        .option('call-home', { type: 'string', describe: 'call home to HOST:PORT (sfm serve\'s ach.listen) after each new event, and when the control API asks (POST /call-home)' })
        .option('seed', integerOption('seed', {}, { default: 1, describe: 'seed of the synthetic signals' })),
    handler: async (a: SimArgs) => {
      const listen = parseHostPort(a.listen, '--listen');
      const control = a.control !== undefined ? parseHostPort(a.control, '--control') : undefined;
      const callHome = a['call-home'] !== undefined ? parseHostPort(a['call-home'], '--call-home') : undefined;
      const sim = await startSimulator({
        host: listen.host, port: listen.port, serial: a.serial, events: a.events, seed: a.seed, baud: a.baud,
        forwardDelayMs: a['forward-delay-ms'], modemPreamble: a['modem-preamble'], bootBanner: a['boot-banner'],
        monitorSettleMs: a['monitor-settle-ms'], includeMonitorLog: a['monitor-log'], wakeMs: a['wake-ms'], control, callHome,
      });
      let detach: (() => Promise<void>) | undefined;
      try {
        if (a.attach) {
          const link = await new SerialTransport({ kind: 'serial', path: a.attach, baud: a.baud || 38400 }).openStream();
          const handle = sim.server.serveStream(link);
          detach = async () => {
            handle.close();
            link.destroy();
          };
          io.stderr(`serving on serial device ${a.attach}\n`);
        }
      } catch (e) {
        await sim.close();
        throw e;
      }
      io.stderr(`emulated unit ${a.serial} with ${sim.unit.events.length} events on tcp ${sim.address.host}:${sim.address.port}\n`);
      if (sim.controlAddress) io.stderr(`control API on http://${sim.controlAddress.host}:${sim.controlAddress.port}/stats\n`);
      if (callHome) io.stderr(`calls home to ${callHome.host}:${callHome.port} after each new event${sim.controlAddress ? ` (now: curl -X POST http://${sim.controlAddress.host}:${sim.controlAddress.port}/call-home)` : ''}\n`);
      io.stderr(`try: sfm events --host ${sim.address.host} --tcp-port ${sim.address.port}\n`);
      await waitForExit();
      await detach?.();
      await sim.close();
    },
  });
}
