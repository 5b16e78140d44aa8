/**
 * The plugin contract: a name, the tokens it may provide, the settings it owns, and a register
 * step. A deployment loads only the plugins its configuration names; the kernel refuses a plugin
 * that provides what it did not declare.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { DependencyContainer } from 'tsyringe';
import type { SfmConfig } from './config.js';
import type { Token } from './tokens.js';

export interface PluginContext<S> {
  /** The plugin's own container (a child of the kernel's): what it registers here stays its own. */
  readonly container: DependencyContainer;
  /** The plugin's settings, checked against its `settings` schema. */
  readonly settings: S;
  readonly config: SfmConfig;
  /** Gives the kernel a value (or a factory, called once, on first use). */
  provide<T>(token: Token<T>, value: { value: T } | { factory: () => T }): void;
  resolve<T>(token: Token<T>): T;
}

export interface SfmPlugin<S extends TObject = TObject> {
  readonly name: string;
  /** What it may give the kernel (a plugin whose settings turn it off gives nothing); nothing else. */
  readonly provides: readonly Token<unknown>[];
  /** The configuration keys it owns (flat keys of the file), with limits, defaults and env names. */
  readonly settings?: S;
  /** A store plugin: the store URL schemes it keeps (`sqlite` for sqlite:PATH, `memory`). */
  readonly storeSchemes?: readonly string[];
  register(ctx: PluginContext<Static<S>>): void | Promise<void>;
}

/** Where the kernel finds plugins by name: the executable maps names to (lazy) modules. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each plugin has its own settings type
export type PluginCatalog = Record<string, () => Promise<SfmPlugin<any>>>;
