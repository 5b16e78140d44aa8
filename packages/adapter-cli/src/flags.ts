/**
 * Number flags read from the text given, by the same checks the configuration and the HTTP query
 * use (core's parseText), so a bad value is reported as given: `--tcp-port abc` → "--tcp-port:
 * must be 1–65535 (a whole number), got "abc"" (yargs' own number type would have made it NaN).
 */
import type { Options } from 'yargs';
import { Type, type TSchema } from '@sinclair/typebox';
import { parseText } from '@sfm/core/schema';
import { UsageError } from './io.js';

type Limits = { minimum?: number; maximum?: number };
type FlagOptions = Omit<Options, 'type' | 'coerce' | 'requiresArg'>;

export function integerOption(flag: string, limits: Limits, o: FlagOptions): Options {
  return schemaOption(flag, Type.Integer(limits), o);
}

export function numberOption(flag: string, limits: Limits, o: FlagOptions): Options {
  return schemaOption(flag, Type.Number(limits), o);
}

/** A flag whose text is checked by a schema of core's (a number, a pattern, one of some values). */
export function schemaOption(flag: string, schema: TSchema, o: FlagOptions): Options {
  return {
    ...o,
    requiresArg: true,
    coerce: (raw: unknown) => {
      if (Array.isArray(raw)) throw new UsageError(`--${flag}: give it once, not ${raw.length} times`);
      return parseText(`--${flag}`, schema, String(raw));
    },
  };
}
