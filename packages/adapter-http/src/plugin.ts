/**
 * The adapter-http plugin: owns the HTTP settings (listen, token, limits, timeouts) and gives
 * `sfm serve` a service that serves the relay's HTTP API. A public bind without a token is refused
 * when the plugin registers — before anything starts.
 */
import { TOKENS, type Service, type SfmPlugin } from '@sfm/core/kernel';
import { startHttpServer, type HttpServerHandle } from './server.js';
import { HttpSettingsSchema, httpSettings } from './settings.js';

export const plugin: SfmPlugin<typeof HttpSettingsSchema> = {
  name: 'adapter-http',
  provides: [TOKENS.Service],
  settings: HttpSettingsSchema,
  register(ctx) {
    const settings = httpSettings(ctx.settings);
    let handle: HttpServerHandle | undefined;
    const service: Service = {
      name: 'http',
      async start() {
        handle = await startHttpServer({
          relay: ctx.resolve(TOKENS.Relay),
          devices: ctx.resolve(TOKENS.DeviceRegistry),
          logger: ctx.resolve(TOKENS.Logger),
          version: ctx.resolve(TOKENS.Version),
          metrics: ctx.resolve(TOKENS.Metrics),
          analysis: ctx.config.analysis,
          webRoot: ctx.resolve(TOKENS.WebRoot) ?? undefined,
          settings,
        });
      },
      async stop() {
        await handle?.close();
      },
      url: () => handle?.url.replace(/\/$/, ''),
      banner() {
        if (!handle) return [];
        const base = handle.url.replace(/\/$/, '');
        return [`serving ${base}`, `  API description: ${base}/openapi.json   health: ${base}/health`];
      },
    };
    ctx.provide(TOKENS.Service, { value: service });
  },
};
