/**
 * `sfm serve`: the HTTP relay. Loads the configured plugins, starts what runs with the service
 * (the emulated unit "demo" when no unit is configured), serves HTTP until SIGINT/SIGTERM, then
 * shuts down gracefully: in-flight device work finishes, the store is closed.
 */
import type { Argv, CommandModule } from 'yargs';
import pino from 'pino';
import { Kernel, loadConfig, type Logger } from '@sfm/core/kernel';
import { cmd, type CliIO } from '@sfm/adapter-cli';
import { PLUGIN_CATALOG } from './catalog.js';
import { untilSignal } from './signals.js';
import { VERSION } from './version.js';

interface ServeArgs {
  config?: string;
  store?: string;
  listen?: string;
  simulate?: boolean;
}

export function serveCommand(io: CliIO, waitForExit: () => Promise<void> = untilSignal): CommandModule<any, any> {
  return cmd({
    command: 'serve',
    describe: 'run the HTTP relay (default 127.0.0.1:8200, SQLite cache under ./data)',
    builder: (y: Argv) =>
      y
        .option('listen', { type: 'string', describe: 'HOST:PORT to serve HTTP on (default 127.0.0.1:8200)' })
        .option('simulate', { type: 'boolean', describe: 'start the emulated unit "demo" (default: when no unit is configured)' }),
    handler: async (a: ServeArgs) => {
      const config = loadConfig({ file: a.config, flags: { store: a.store, listen: a.listen, simulate: a.simulate } });
      const logger = pino({ level: config.settings.log_level, base: { service: 'sfm' } }, pino.destination(2)) as unknown as Logger;
      const kernel = await Kernel.boot(config, PLUGIN_CATALOG, { logger, version: VERSION });
      await kernel.start();
      const services = kernel.services();
      io.stdout(`sfm ${VERSION}  (store: ${config.settings.store}; plugins: ${kernel.plugins.map((p) => p.name).join(', ')})\n`);
      for (const s of services) for (const line of s.banner?.() ?? []) io.stdout(`${line}\n`);
      const base = services.map((s) => s.url?.()).find((u) => u !== undefined);
      const names = kernel.devices.names();
      const device = names.includes('demo') ? 'demo' : names[0];
      if (base) {
        io.stdout('\nTry:\n');
        io.stdout(device ? `  curl -s '${base}/device/events?device=${device}'\n  curl -s '${base}/device/event/0/waveform?device=${device}&format=csv' | head\n` : `  curl -s '${base}/device/events?host=127.0.0.1&tcp_port=12345'\n`);
      }
      await waitForExit();
      io.stderr('shutting down: finishing device work…\n');
      await kernel.stop();
    },
  });
}
