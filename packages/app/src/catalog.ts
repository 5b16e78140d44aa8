/**
 * Every plugin this build can load, by the name a configuration uses, in the order they load
 * (the default is all of them); a plugin is imported only when named.
 */
import type { PluginCatalog } from '@sfm/core/kernel';

export const PLUGIN_CATALOG: PluginCatalog = {
  'transport-tcp': async () => (await import('@sfm/transport-tcp')).plugin,
  'transport-serial': async () => (await import('@sfm/transport-serial')).plugin,
  'store-sqlite': async () => (await import('@sfm/store-sqlite')).plugin,
  'store-memory': async () => (await import('@sfm/store-memory')).plugin,
  'store-postgres': async () => (await import('@sfm/store-postgres')).plugin,
  simulator: async () => (await import('@sfm/simulator')).plugin,
  'metrics-prometheus': async () => (await import('@sfm/metrics-prometheus')).plugin,
  'adapter-http': async () => (await import('@sfm/adapter-http')).plugin,
  'call-home': async () => (await import('@sfm/call-home')).plugin,
};
