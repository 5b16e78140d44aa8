/** Boots the kernel from the configuration (file, SFM_* environment, flags) for one CLI run. */
import { Kernel, loadConfig, type Logger } from '@sfm/core/kernel';
import type { CliServices, ServiceOptions } from '@sfm/adapter-cli';
import { PLUGIN_CATALOG } from './catalog.js';
import { VERSION } from './version.js';

export async function bootFor(opts: ServiceOptions, flags: Record<string, unknown> = {}, logger?: Logger): Promise<Kernel> {
  const config = loadConfig({ file: opts.config, flags: { ...flags, store: opts.store ?? flags.store } });
  return Kernel.boot(config, PLUGIN_CATALOG, { logger, version: VERSION, wrapTransport: opts.wrapTransport });
}

export async function cliServices(opts: ServiceOptions): Promise<CliServices> {
  const kernel = await bootFor(opts);
  return {
    access: kernel.relay,
    relay: kernel.relay,
    archive: kernel.relay.store.archive,
    resolveDevice: (name) => kernel.devices.resolve(name),
    analysis: kernel.config.analysis,
    close: () => kernel.stop(),
  };
}
