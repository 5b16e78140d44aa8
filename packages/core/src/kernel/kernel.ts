/**
 * The microkernel: loads exactly the plugins the configuration names (failing clearly on an
 * unknown one or a missing role), registers the core services in a DI container, and starts and
 * stops what plugins contribute.
 */
// tsyringe needs the Reflect metadata API before it loads; this is the one place core loads it.
import 'reflect-metadata';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { RelayService } from '../cache/relay-service.js';
import type { Store } from '../cache/store.js';
import { systemClock, type Clock } from '../clock.js';
import { TransportRegistry } from '../transport/registry.js';
import type { TransportFactory } from '../transport/transport.js';
import type { SfmConfig } from './config.js';
import { DeviceRegistry } from './device-registry.js';
import type { StartHttpServer } from './http-contract.js';
import { silentLogger, type Logger } from './logger.js';
import type { PluginCatalog, SfmPlugin } from './plugin.js';
import { TOKENS, type Lifecycle } from './tokens.js';

/** For plugins: a factory whose instance is made once (plugins import tsyringe only through core). */
export { instanceCachingFactory };

export class KernelError extends Error {
  override name = 'KernelError';
}

export interface KernelOptions {
  logger?: Logger;
  clock?: Clock;
}

export class Kernel {
  private started: Lifecycle[] = [];
  private stopped = false;

  private constructor(
    readonly container: DependencyContainer,
    readonly config: SfmConfig,
    readonly plugins: readonly SfmPlugin[],
  ) {}

  static async boot(config: SfmConfig, catalog: PluginCatalog, opts: KernelOptions = {}): Promise<Kernel> {
    const unknown = config.plugins.filter((n) => !Object.hasOwn(catalog, n));
    if (unknown.length) {
      throw new KernelError(`unknown plugin${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${Object.keys(catalog).join(', ')})`);
    }
    const c = rootContainer.createChildContainer();
    const logger = opts.logger ?? silentLogger;
    c.register(TOKENS.Config, { useValue: config });
    c.register(TOKENS.Logger, { useValue: logger });
    c.register(TOKENS.Clock, { useValue: opts.clock ?? systemClock });
    c.register(TOKENS.DeviceRegistry, { useValue: new DeviceRegistry(config.devices, config.allow) });

    const plugins: SfmPlugin[] = [];
    for (const name of config.plugins) {
      let plugin: SfmPlugin;
      try {
        plugin = await catalog[name]!();
      } catch (e) {
        throw new KernelError(`plugin ${JSON.stringify(name)} could not be loaded: ${(e as Error).message}`);
      }
      if (plugin.name !== name) throw new KernelError(`plugin ${JSON.stringify(name)} calls itself ${JSON.stringify(plugin.name)}`);
      await plugin.register(c, config);
      plugins.push(plugin);
    }

    if (!c.isRegistered(TOKENS.TransportFactory)) throw new KernelError('no transport is loaded: add "transport-tcp" and/or "transport-serial" to plugins');
    if (!c.isRegistered(TOKENS.Store)) {
      throw new KernelError(`the store is ${config.store.kind} but plugin "store-${config.store.kind}" is not loaded: add it to plugins`);
    }
    c.register(TOKENS.Relay, {
      useFactory: instanceCachingFactory((k) => {
        const transports = new TransportRegistry();
        for (const f of k.resolveAll<TransportFactory>(TOKENS.TransportFactory)) transports.register(f);
        const clock = k.resolve<Clock>(TOKENS.Clock);
        return new RelayService(transports, k.resolve<Store>(TOKENS.Store), {
          client: { frameTimeoutMs: config.client.frameTimeoutMs, chunkTimeoutMs: config.client.chunkTimeoutMs, twoStepReads: config.client.twoStepReads },
          statusTtlMs: config.cache.statusTtlMs,
          identityTtlMs: config.cache.identityTtlMs,
          logger,
          hotTierBytes: config.cache.hotTierBytes,
          queue: config.cache.queue,
          clock,
        });
      }),
    });
    logger.debug({ plugins: config.plugins }, 'kernel booted');
    return new Kernel(c, config, plugins);
  }

  get relay(): RelayService {
    return this.container.resolve<RelayService>(TOKENS.Relay);
  }

  get devices(): DeviceRegistry {
    return this.container.resolve<DeviceRegistry>(TOKENS.DeviceRegistry);
  }

  get logger(): Logger {
    return this.container.resolve<Logger>(TOKENS.Logger);
  }

  /** The HTTP front end, when its plugin is loaded. */
  httpServer(): StartHttpServer {
    if (!this.container.isRegistered(TOKENS.HttpServer)) throw new KernelError('the HTTP front end is not loaded: add "adapter-http" to plugins');
    return this.container.resolve<StartHttpServer>(TOKENS.HttpServer);
  }

  /** Starts what plugins contributed to run with the service (in plugin order). */
  async start(): Promise<void> {
    if (!this.container.isRegistered(TOKENS.Lifecycle)) return;
    for (const l of this.container.resolveAll<Lifecycle>(TOKENS.Lifecycle)) {
      await l.start();
      this.started.push(l);
    }
  }

  /** Stops what was started (in reverse), waits for device work, then closes the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.container.isRegistered(TOKENS.Relay)) await this.relay.idle();
    for (const l of this.started.reverse()) await l.stop().catch((e) => this.logger.error({ err: (e as Error).message }, `stopping ${l.name} failed`));
    await this.container.resolve<Store>(TOKENS.Store).close();
  }
}
