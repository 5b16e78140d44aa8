/**
 * The simulator plugin: with `simulate` on (or "auto" and no unit configured), an emulated unit
 * starts with `sfm serve`, on loopback, and is registered as device "demo".
 */
import { Type } from '@sinclair/typebox';
import { TOKENS, type Service, type SfmPlugin } from '@sfm/core/kernel';
import { startSimulator, type RunningSimulator } from './start.js';

export const DEMO_DEVICE = 'demo';

const settings = Type.Object({
  simulate: Type.Union([Type.Boolean(), Type.Literal('auto')], {
    description: 'start the emulated unit "demo" with sfm serve: true, false, or "auto" (when no unit is configured)',
    default: 'auto',
    env: 'SFM_SIMULATE',
  }),
});

export const plugin: SfmPlugin<typeof settings> = {
  name: 'simulator',
  provides: [TOKENS.Service],
  settings,
  register(ctx) {
    const s = ctx.settings.simulate;
    if (!(s === true || (s === 'auto' && Object.keys(ctx.config.devices).length === 0))) return;
    let sim: RunningSimulator | undefined;
    const service: Service = {
      name: 'simulator',
      async start() {
        // A realistic link (38400 baud) without the modem's 1 s hold, so a first look takes seconds.
        sim = await startSimulator({ host: '127.0.0.1', port: 0, events: 5, baud: 38400, forwardDelayMs: 0, monitorSettleMs: 5000 });
        ctx.resolve(TOKENS.DeviceRegistry).register(DEMO_DEVICE, { kind: 'tcp', host: sim.address.host, port: sim.address.port });
        ctx.resolve(TOKENS.Logger).info({ device: DEMO_DEVICE, port: sim.address.port }, 'emulated unit started');
      },
      async stop() {
        await sim?.close();
      },
      banner: () => (sim ? [`  units: ${DEMO_DEVICE} is the built-in emulated unit (port ${sim.address.port})`] : []),
    };
    ctx.provide(TOKENS.Service, { value: service });
  },
};
