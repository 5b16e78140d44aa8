/** Boots the kernel from the configuration (file, SFM_* environment, flags) for one CLI run. */
import { Kernel, loadConfig, type ConfigFile, type Logger } from '@sfm/core';
import type { CliServices, ServiceOptions } from '@sfm/adapter-cli';
import { PLUGIN_CATALOG } from './catalog.js';

export async function bootFor(opts: ServiceOptions, flags: Partial<ConfigFile> = {}, logger?: Logger): Promise<Kernel> {
  const config = loadConfig({ file: opts.config, flags: { ...flags, store: opts.store ?? flags.store } });
  return Kernel.boot(config, PLUGIN_CATALOG, { logger });
}

export async function cliServices(opts: ServiceOptions): Promise<CliServices> {
  const kernel = await bootFor(opts);
  return {
    access: kernel.relay,
    relay: kernel.relay,
    resolveDevice: (name) => kernel.devices.resolve(name),
    close: () => kernel.stop(),
  };
}
