/** Every plugin this build can load, by the name a configuration uses; loaded only when named. */
import type { PluginCatalog } from '@sfm/core';

export const PLUGIN_CATALOG: PluginCatalog = {
  'transport-tcp': async () => (await import('@sfm/transport-tcp')).plugin,
  'transport-serial': async () => (await import('@sfm/transport-serial')).plugin,
  'store-sqlite': async () => (await import('@sfm/store-sqlite')).plugin,
  'store-memory': async () => (await import('@sfm/store-memory')).plugin,
  'adapter-http': async () => (await import('@sfm/adapter-http')).plugin,
  simulator: async () => (await import('@sfm/simulator')).plugin,
};
