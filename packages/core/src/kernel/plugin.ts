/**
 * The plugin contract: a name, what it provides, and a register step against the container and
 * the configuration. A deployment loads only the plugins its configuration names.
 */
import type { DependencyContainer } from 'tsyringe';
import type { SfmConfig } from './config.js';

export type PluginRole = 'transport' | 'store' | 'front-end' | 'unit';

export interface SfmPlugin {
  readonly name: string;
  readonly provides: PluginRole;
  register(container: DependencyContainer, config: SfmConfig): void | Promise<void>;
}

/** Where the kernel finds plugins by name: the executable maps names to (lazy) modules. */
export type PluginCatalog = Record<string, () => Promise<SfmPlugin>>;
