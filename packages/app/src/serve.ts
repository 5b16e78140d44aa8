/**
 * `sfm serve`: the HTTP relay. Loads the configured plugins, starts what runs with the service
 * (the emulated unit "demo" when no unit is configured), serves HTTP until SIGINT/SIGTERM, then
 * shuts down gracefully: in-flight device work finishes, the store is closed.
 */
import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import pino from 'pino';
import { Kernel, loadConfig, type Logger } from '@sfm/core';
import { cmd, type CliIO } from '@sfm/adapter-cli';
import { PLUGIN_CATALOG } from './catalog.js';
import { untilSignal } from './signals.js';

interface ServeArgs {
  config?: string;
  store?: string;
  listen?: string;
  simulate?: boolean;
}

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

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
      const logger = pino({ level: config.logLevel, base: { service: 'sfm' } }, pino.destination(2)) as unknown as Logger;
      const kernel = await Kernel.boot(config, PLUGIN_CATALOG, { logger });
      let http: Awaited<ReturnType<ReturnType<Kernel['httpServer']>>> | undefined;
      try {
        const start = kernel.httpServer();
        await kernel.start();
        http = await start({ relay: kernel.relay, devices: kernel.devices, settings: config.http, logger, version: VERSION });
      } catch (e) {
        await kernel.stop();
        throw e;
      }
      const base = http.url.replace(/\/$/, '');
      const names = kernel.devices.names();
      const device = names.includes('demo') ? 'demo' : names[0];
      io.stdout(`sfm ${VERSION} serving ${base}  (store: ${config.store.kind}${config.store.kind === 'sqlite' ? ` ${config.store.path}` : ''}; plugins: ${config.plugins.join(', ')})\n`);
      io.stdout(`  API description: ${base}/openapi.json   health: ${base}/health\n`);
      if (device) {
        io.stdout(`  units: ${names.join(', ')}${device === 'demo' ? ' (demo is the built-in emulated unit)' : ''}\n\nTry:\n`);
        io.stdout(`  curl -s '${base}/device/events?device=${device}'\n`);
        io.stdout(`  curl -s '${base}/device/event/0/waveform?device=${device}&format=csv' | head\n`);
      } else {
        io.stdout(`\nTry:\n  curl -s '${base}/device/events?host=127.0.0.1&tcp_port=12345'\n`);
      }
      await waitForExit();
      io.stderr('shutting down: finishing device work…\n');
      await http.close();
      await kernel.stop();
    },
  });
}
