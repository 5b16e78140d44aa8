/** HOST:PORT arguments (--listen, --control). */
import { UsageError } from './io.js';

export function parseHostPort(text: string, flag: string, defaultHost = '127.0.0.1'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${flag}: expected HOST:PORT, got ${JSON.stringify(text)}`);
  const host = m.length === 2 ? defaultHost : (m[1] ?? m[2] ?? '') || defaultHost;
  const port = Number(m.length === 2 ? m[1] : m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${flag}: port must be 0–65535, got ${port}`);
  return { host, port };
}
