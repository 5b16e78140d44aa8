/**
 * `sfm serve`: the HTTP relay. Loads the configured plugins, starts what runs with the service
 * (the emulated unit "demo" when no unit is configured), serves HTTP until SIGINT/SIGTERM, then
 * shuts down gracefully: requests and device work in flight finish, the store is closed — within
 * `drain_timeout_s`, after which it exits anyway (status 1); a second signal exits at once (130).
 */
import type { Argv, CommandModule } from 'yargs';
import { Kernel, loadConfig } from '@sfm/core/kernel';
import { cmd, type CliIO } from '@sfm/adapter-cli';
import { PLUGIN_CATALOG } from './catalog.js';
import { createLogger } from './logging.js';
import { untilSignal } from './signals.js';
import { VERSION } from './version.js';
import { webRoot } from './web.js';

/** How the process ends when the drain does not (injectable for tests). */
export interface ServeProcess {
  /** Resolves on the next SIGINT or SIGTERM. */
  signal: () => Promise<void>;
  exit: (code: number) => void;
}

const PROCESS: ServeProcess = { signal: untilSignal, exit: (code) => process.exit(code) };

/** Exit statuses when the drain is cut short. */
export const DRAIN_EXIT = { deadline: 1, secondSignal: 130 } as const;

interface ServeArgs {
  config?: string;
  store?: string;
  listen?: string;
  simulate?: boolean;
  'log-format'?: string;
}

export function serveCommand(io: CliIO, proc: ServeProcess = PROCESS): CommandModule<any, any> {
  return cmd({
    command: 'serve',
    describe: 'run the HTTP relay (default 127.0.0.1:8200, SQLite cache under ./data)',
    builder: (y: Argv) =>
      y
        .option('listen', { type: 'string', describe: 'HOST:PORT to serve HTTP on (default 127.0.0.1:8200)' })
        .option('simulate', { type: 'boolean', describe: 'start the emulated unit "demo" (default: when no unit is configured)' })
        .option('log-format', { type: 'string', choices: ['json', 'pretty'], describe: 'logs on stderr: json lines (default) or pretty, for a person at a terminal' }),
    handler: async (a: ServeArgs) => {
      const config = loadConfig({ file: a.config, flags: { store: a.store, listen: a.listen, simulate: a.simulate, log_format: a['log-format'] } });
      const logger = createLogger(config.settings);
      const kernel = await Kernel.boot(config, PLUGIN_CATALOG, { logger, version: VERSION, webRoot: webRoot(logger) });
      await kernel.start();
      const services = kernel.services();
      io.stdout(`sfm ${VERSION}  (store: ${config.settings.store}; plugins: ${kernel.plugins.map((p) => p.name).join(', ')})\n`);
      for (const s of services) for (const line of s.banner?.() ?? []) io.stdout(`${line}\n`);
      const base = services.map((s) => s.url?.()).find((u) => u !== undefined);
      if (base) io.stdout(`  web application: ${base}/\n`);
      const names = kernel.devices.names();
      const device = names.includes('demo') ? 'demo' : names[0];
      if (base) {
        io.stdout('\nTry:\n');
        io.stdout(device ? `  curl -s '${base}/device/events?device=${device}'\n  curl -s '${base}/device/event/0/waveform?device=${device}&format=csv' | head\n` : `  curl -s '${base}/device/events?host=127.0.0.1&tcp_port=12345'\n`);
      }
      await proc.signal();
      const deadlineS = config.settings.drain_timeout_s;
      logger.info({ deadline_s: deadlineS }, 'shutting down: finishing requests and device work in flight (a second signal exits at once)');
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        kernel.stop().then(() => 'drained' as const),
        proc.signal().then(() => 'secondSignal' as const),
        new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineS * 1000))),
      ]);
      clearTimeout(timer);
      if (ended === 'drained') {
        logger.info('stopped');
        return;
      }
      logger.warn({ pending_device_requests: kernel.relay.pendingDeviceRequests }, ended === 'deadline' ? `the drain deadline (${deadlineS} s) passed: exiting with work unfinished` : 'a second signal: exiting at once');
      proc.exit(DRAIN_EXIT[ended]);
    },
  });
}
