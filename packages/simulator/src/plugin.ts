/**
 * The simulator plugin: with `simulate` on (or "auto" and no unit configured), an emulated unit
 * starts with the service, on loopback, and is registered as device "demo".
 */
import { TOKENS, type DeviceRegistry, type Lifecycle, type Logger, type SfmPlugin } from '@sfm/core';
import { startSimulator, type RunningSimulator } from './start.js';

export const DEMO_DEVICE = 'demo';

export const plugin: SfmPlugin = {
  name: 'simulator',
  provides: 'unit',
  register(c, config) {
    const wanted = config.simulate === true || (config.simulate === 'auto' && Object.keys(config.devices).length === 0);
    if (!wanted) return;
    let sim: RunningSimulator | undefined;
    const lifecycle: Lifecycle = {
      name: 'simulator',
      async start() {
        // A realistic link (38400 baud) without the modem's 1 s hold, so a first look takes seconds.
        sim = await startSimulator({ host: '127.0.0.1', port: 0, events: 5, baud: 38400, forwardDelayMs: 0, monitorSettleMs: 5000 });
        c.resolve<DeviceRegistry>(TOKENS.DeviceRegistry).register(DEMO_DEVICE, { kind: 'tcp', host: sim.address.host, port: sim.address.port });
        c.resolve<Logger>(TOKENS.Logger).info({ device: DEMO_DEVICE, port: sim.address.port }, 'emulated unit started');
      },
      async stop() {
        await sim?.close();
      },
    };
    c.register(TOKENS.Lifecycle, { useValue: lifecycle });
  },
};
