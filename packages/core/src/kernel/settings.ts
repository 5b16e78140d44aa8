/**
 * Settings: defaults, then a JSON file, then SFM_* environment variables, then flags (later wins).
 * Each group of settings — core's, and each plugin's own section — is one TypeBox object whose
 * properties are the file's flat keys, with their limits, descriptions, defaults and (as `env`)
 * the environment variable that sets them. Every problem is reported with its key, why, and
 * where the value came from, all at once.
 */
import { readFileSync } from 'node:fs';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { ConfigError, InvalidInput } from '../errors.js';
import { checkValue, parseText } from '../schema/check.js';

export interface ConfigSources {
  /** A JSON file (missing file = an error; none given = SFM_CONFIG, else no file). */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Values given on the command line, by file key (text is parsed by the key's schema). */
  flags?: Record<string, unknown>;
}

/** The sources read once: the file parsed, the environment and flags as given. */
export interface LoadedSources {
  file: Record<string, unknown>;
  filePath: string | undefined;
  env: Record<string, string | undefined>;
  flags: Record<string, unknown>;
}

export function loadSources(src: ConfigSources = {}): LoadedSources {
  const env = src.env ?? process.env;
  const filePath = src.file ?? (env.SFM_CONFIG || undefined);
  let file: Record<string, unknown> = {};
  if (filePath) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(filePath, 'utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SyntaxError('the top level must be a JSON object');
      file = parsed as Record<string, unknown>;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConfigError(`cannot read ${filePath}: ${code ?? (e as Error).message}`);
    }
  }
  const flags = Object.fromEntries(Object.entries(src.flags ?? {}).filter(([, v]) => v !== undefined));
  return { file, filePath, env, flags };
}

interface SettingSchema {
  env?: string;
  default?: unknown;
  type?: string;
}

/**
 * Reads one group of settings. Problems are added to `problems` (named by key and source); a key
 * with a problem gets its default so the others can still be checked.
 */
export function readSettings<S extends TObject>(schema: S, src: LoadedSources, problems: string[]): Static<S> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties) as [string, TSchema & SettingSchema][]) {
    let value: unknown;
    let from: string;
    const envValue = prop.env ? src.env[prop.env] : undefined;
    try {
      if (src.flags[key] !== undefined) {
        from = ` (--${key.replaceAll('_', '-')})`;
        value = typeof src.flags[key] === 'string' && prop.type !== 'string' ? parseText(key, prop, src.flags[key] as string, { looseBooleans: true }) : src.flags[key];
      } else if (envValue !== undefined && envValue !== '') {
        from = ` (${prop.env})`;
        value = parseText(key, prop, envValue, { looseBooleans: true });
      } else if (src.file[key] !== undefined) {
        from = src.filePath ? ` (file ${src.filePath})` : '';
        value = src.file[key];
      } else {
        out[key] = structuredClone(prop.default);
        continue;
      }
      checkValue(key, prop, value);
      out[key] = value;
    } catch (e) {
      if (!(e instanceof InvalidInput)) throw e;
      problems.push(`${e.message}${from!}`);
      out[key] = structuredClone(prop.default);
    }
  }
  return out as Static<S>;
}

/** The file's keys no group claims. */
export function unclaimedKeys(src: LoadedSources, groups: readonly TObject[]): string[] {
  const claimed = new Set(groups.flatMap((g) => Object.keys(g.properties)));
  return Object.keys(src.file).filter((k) => !claimed.has(k));
}
