/**
 * The microkernel: loads exactly the plugins the configuration names (failing clearly on an
 * unknown one, a store no plugin keeps, or a plugin providing what it did not declare), gives each
 * its own child container and its checked settings, and starts and stops the services plugins
 * contribute. tsyringe needs the Reflect metadata API: the executable loads `reflect-metadata`
 * once, before this module.
 */
import type { DependencyContainer } from 'tsyringe';
import type { TObject } from '@sinclair/typebox';
import { ConfigError } from '../errors.js';
import { RelayService } from '../cache/relay-service.js';
import { analysisOptions } from '../analysis/standards.js';
import { systemClock, type Clock } from '../clock.js';
import { TransportRegistry } from '../transport/registry.js';
import type { Transport } from '../transport/transport.js';
import { CoreSettings, type SfmConfig } from './config.js';
import { DeviceRegistry } from './device-registry.js';
import { silentLogger, type Logger } from './logger.js';
import { silentMetrics } from './metrics.js';
import type { PluginCatalog, PluginContext, SfmPlugin } from './plugin.js';
import { readSettings, unclaimedKeys } from './settings.js';
import { TOKENS, resolveAllTokens, resolveToken, type Service, type Token } from './tokens.js';

/** The plugins the configuration names cannot run together. */
export class KernelError extends ConfigError {
  override name = 'KernelError';
}

export interface KernelOptions {
  logger?: Logger;
  clock?: Clock;
  /** sfm's version, for /health and banners. */
  version?: string;
  /** Wraps every transport the relay opens sessions through (the CLI's --capture). */
  wrapTransport?: (t: Transport) => Transport;
  /** The web application's built files, served at / by the HTTP front end (the executable knows where they are). */
  webRoot?: string;
}

/** The scheme of a store URL: `sqlite` for sqlite:PATH, `memory` for memory or :memory:. */
export function storeScheme(url: string): string {
  if (url === 'memory' || url === ':memory:') return 'memory';
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? m[1]!.toLowerCase() : url;
}

/** How often `sfm serve` applies the archive's retention policy. */
const RETENTION_EVERY_MS = 3_600_000;

export class Kernel {
  private started: Service[] = [];
  private retention: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    readonly container: DependencyContainer,
    readonly config: SfmConfig,
    readonly plugins: readonly SfmPlugin[],
  ) {}

  static async boot(config: SfmConfig, catalog: PluginCatalog, opts: KernelOptions = {}): Promise<Kernel> {
    const names = config.settings.plugins ?? Object.keys(catalog);
    const unknown = names.filter((n) => !Object.hasOwn(catalog, n));
    if (unknown.length) {
      throw new KernelError(`unknown plugin${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${Object.keys(catalog).join(', ')})`);
    }
    const plugins: SfmPlugin[] = [];
    for (const name of names) {
      let plugin: SfmPlugin;
      try {
        plugin = await catalog[name]!();
      } catch (e) {
        throw new KernelError(`plugin ${JSON.stringify(name)} could not be loaded: ${(e as Error).message}`);
      }
      if (plugin.name !== name) throw new KernelError(`plugin ${JSON.stringify(name)} calls itself ${JSON.stringify(plugin.name)}`);
      plugins.push(plugin);
    }
    await checkKeys(config, plugins, catalog, names);

    const scheme = storeScheme(config.settings.store);
    const storePlugin = plugins.find((p) => p.storeSchemes?.includes(scheme));
    if (!storePlugin) throw new KernelError(`the store is ${config.settings.store} but no loaded plugin keeps ${scheme} stores: add the store plugin for ${scheme} to plugins`);

    // Loaded here, not at import: only what boots a kernel (an executable, which loads
    // reflect-metadata first) needs tsyringe; the plugins' packages import this module for types.
    const { container: rootContainer, instanceCachingFactory } = await import('tsyringe');
    const c = rootContainer.createChildContainer();
    const logger = opts.logger ?? silentLogger;
    const clock = opts.clock ?? systemClock;
    c.register(TOKENS.Logger, { useValue: logger });
    c.register(TOKENS.Clock, { useValue: clock });
    c.register(TOKENS.Version, { useValue: opts.version ?? '0.0.0' });
    // A factory, not a value: tsyringe takes `useValue: null` for no provider at all.
    c.register(TOKENS.WebRoot, { useFactory: () => opts.webRoot ?? null });
    c.register(TOKENS.DeviceRegistry, { useValue: new DeviceRegistry(config.devices, config.allow) });

    const problems: string[] = [];
    for (const plugin of plugins) {
      // A store plugin the configuration did not choose stays idle.
      if (plugin.storeSchemes && plugin !== storePlugin) continue;
      const settings: Record<string, unknown> = plugin.settings ? readSettings(plugin.settings, config.sources, problems) : {};
      if (problems.length) continue;
      const own = c.createChildContainer();
      const provided = new Set<symbol>();
      const ctx: PluginContext<Record<string, unknown>> = {
        container: own,
        settings,
        config,
        provide: (token, p) => {
          if (!plugin.provides.includes(token)) throw new KernelError(`plugin ${plugin.name} provides ${token.description}, which it does not declare`);
          provided.add(token);
          if ('value' in p) c.register(token, { useValue: p.value });
          else c.register(token, { useFactory: instanceCachingFactory(() => p.factory()) });
        },
        resolve: (token) => resolveToken(c, token),
      };
      await plugin.register(ctx as PluginContext<never>);
      if (plugin === storePlugin && !provided.has(TOKENS.Store)) throw new KernelError(`plugin ${plugin.name} keeps ${scheme} stores but provided none`);
    }
    if (problems.length) throw new ConfigError(problems);
    if (!c.isRegistered(TOKENS.TransportFactory)) throw new KernelError('no transport is loaded: add a transport plugin (tcp or serial) to plugins');
    if (!c.isRegistered(TOKENS.Metrics)) c.register(TOKENS.Metrics, { useValue: silentMetrics });

    const s = config.settings;
    c.register(TOKENS.Relay, {
      useFactory: instanceCachingFactory(
        (k) =>
          new RelayService(transportsOf(k, opts.wrapTransport), resolveToken(k, TOKENS.Store), {
            client: { frameTimeoutMs: s.frame_timeout_s * 1000, chunkTimeoutMs: s.chunk_timeout_s * 1000, wakeWindowMs: s.wake_window_s * 1000, twoStepReads: s.two_step_reads },
            statusTtlMs: s.status_ttl_s * 1000,
            identityTtlMs: s.identity_ttl_s * 1000,
            hotTierBytes: s.hot_tier_bytes,
            eventReads: s.event_reads,
            textFillMs: s.text_fill_s * 1000,
            eventsMaxAgeS: s.events_max_age_s > 0 ? s.events_max_age_s : undefined,
            queue: { maxQueued: s.queue_max, maxWaitMs: s.queue_wait_s * 1000 },
            lockTtlMs: s.lock_ttl_s * 1000,
            clock,
            logger,
            metrics: resolveToken(k, TOKENS.Metrics),
            archiveAnalysis: analysisOptions(config.analysis),
            retention: {
              maxAgeMs: s.archive.retention_days === undefined ? undefined : s.archive.retention_days * 86_400_000,
              waveformBytes: s.archive.waveform_bytes,
            },
          }),
      ),
    });
    logger.debug({ plugins: names }, 'kernel booted');
    return new Kernel(c, config, plugins);
  }

  resolve<T>(token: Token<T>): T {
    return resolveToken(this.container, token);
  }

  get relay(): RelayService {
    return this.resolve(TOKENS.Relay);
  }

  get devices(): DeviceRegistry {
    return this.resolve(TOKENS.DeviceRegistry);
  }

  get logger(): Logger {
    return this.resolve(TOKENS.Logger);
  }

  /** What plugins contributed to run with `sfm serve`, in plugin order. */
  services(): Service[] {
    return resolveAllTokens(this.container, TOKENS.Service);
  }

  /** Starts the services in plugin order (and the archive's retention, hourly); a failure stops what started. */
  async start(): Promise<void> {
    const retain = () => this.relay.applyRetention().catch((e: Error) => this.logger.warn({ err: e.message }, 'archive retention failed; it runs again within the hour'));
    void retain();
    this.retention = setInterval(retain, RETENTION_EVERY_MS);
    this.retention.unref();
    for (const service of this.services()) {
      try {
        await service.start();
      } catch (e) {
        await this.stop();
        throw e;
      }
      this.started.push(service);
    }
  }

  /** Stops what was started (in reverse), waits for device work, then closes the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.retention);
    for (const service of this.started.reverse()) await service.stop().catch((e) => this.logger.error({ err: (e as Error).message }, `stopping ${service.name} failed`));
    if (this.container.isRegistered(TOKENS.Relay)) await this.relay.drain();
    await this.resolve(TOKENS.Store).close();
  }
}

function transportsOf(c: DependencyContainer, wrap?: (t: Transport) => Transport): TransportRegistry {
  const registry = new TransportRegistry(wrap);
  for (const f of resolveAllTokens(c, TOKENS.TransportFactory)) registry.register(f);
  return registry;
}

/**
 * Every key of the file must belong to core or a plugin. Keys of plugins the configuration did not
 * load are accepted (one file serves `sfm serve` and a CLI that loads less); only a key no plugin
 * of the executable knows is refused — the other plugins are looked at only when such a key is there.
 */
async function checkKeys(config: SfmConfig, loaded: readonly SfmPlugin[], catalog: PluginCatalog, names: readonly string[]): Promise<void> {
  const groups: TObject[] = [CoreSettings, ...loaded.flatMap((p) => (p.settings ? [p.settings] : []))];
  let left = unclaimedKeys(config.sources, groups);
  if (left.length === 0) return;
  for (const name of Object.keys(catalog).filter((n) => !names.includes(n))) {
    const settings = (await catalog[name]!().catch(() => undefined))?.settings;
    if (settings) left = left.filter((k) => !Object.hasOwn(settings.properties, k));
  }
  if (left.length) throw new ConfigError(left.map((k) => `${k}: not a configuration key${config.sources.filePath ? ` (file ${config.sources.filePath})` : ''}`));
}
