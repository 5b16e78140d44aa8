/**
 * The call-home plugin: owns the `ach` settings and, when `ach.listen` is given, gives `sfm serve`
 * a service that takes units' calls. A deployment that does not load it has no call-home port.
 */
import { TOKENS, type Service, type SfmPlugin } from '@sfm/core/kernel';
import { connectionKey } from '@sfm/core/transport';
import { CallHomeServer } from './server.js';
import { CallHomeSettingsSchema, callHomeSettings } from './settings.js';

export const plugin: SfmPlugin<typeof CallHomeSettingsSchema> = {
  name: 'call-home',
  provides: [TOKENS.Service],
  settings: CallHomeSettingsSchema,
  register(ctx) {
    const settings = callHomeSettings(ctx.settings.ach);
    const listen = settings.listen;
    if (!listen) return;
    // A serial is known when the configuration names it, or sfm confirmed it at a configured unit's address.
    const declared = new Set(Object.values(ctx.config.settings.devices).flatMap((d) => (d.serial ? [d.serial] : [])));
    let server: CallHomeServer | undefined;
    const service: Service = {
      name: 'call-home',
      async start() {
        const relay = ctx.resolve(TOKENS.Relay);
        const devices = ctx.resolve(TOKENS.DeviceRegistry);
        server = new CallHomeServer({
          relay,
          settings: { ...settings, listen },
          accept: async (serial) =>
            declared.has(serial) || (await Promise.all(devices.entries().map(([, t]) => relay.store.getIdentity(connectionKey(t))))).some((id) => id?.serial === serial),
          logger: ctx.resolve(TOKENS.Logger),
          metrics: ctx.resolve(TOKENS.Metrics),
          version: ctx.resolve(TOKENS.Version),
        });
        await server.start();
      },
      async stop() {
        await server?.stop();
      },
      banner() {
        const a = server?.address;
        if (!a) return [];
        const who = settings.accept === 'any' ? 'any unit' : 'known units';
        return [`  call-home: taking calls on ${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port} (${who}; waveforms: ${settings.waveforms}${settings.eraseAfterDownload ? '; erase after download' : ''})`];
      },
    };
    ctx.provide(TOKENS.Service, { value: service });
  },
};
