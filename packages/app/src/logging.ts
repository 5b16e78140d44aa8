/**
 * The logger of `sfm serve` and the CLI: pino on stderr, every line one JSON object carrying the
 * service, pid and hostname — or, with `log_format: pretty`, readable lines for a person at a
 * terminal (pino-pretty, colour only on a terminal and never with NO_COLOR).
 */
import { hostname } from 'node:os';
import pino from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '@sfm/core/kernel';
import type { CoreSettingsValues } from '@sfm/core/kernel';

export function createLogger(settings: Pick<CoreSettingsValues, 'log_level' | 'log_format'>, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): Logger {
  const options = { level: settings.log_level, base: { service: 'sfm', pid: process.pid, hostname: hostname() } };
  if (settings.log_format === 'pretty') {
    const colorize = Boolean(stream.isTTY) && process.env.NO_COLOR === undefined;
    return pino(options, pretty({ destination: stream === process.stderr ? 2 : stream, colorize, sync: true })) as unknown as Logger;
  }
  return pino(options, stream === process.stderr ? pino.destination({ fd: 2, sync: true }) : stream) as unknown as Logger;
}
