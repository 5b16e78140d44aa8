/**
 * startHttpServer: checks the settings (a public bind needs a token), listens, and closes
 * gracefully — stop accepting, let in-flight requests and device work finish, close the
 * keep-alive sockets. Closing the store is the caller's job.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpSettingsError, hostMatches, type HttpDeps, type HttpServerHandle, type HttpSettings, type StartHttpServer } from '@sfm/core';
import { createApp } from './app.js';
import { createFastPath } from './fast-path.js';

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost". */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || hostMatches(h, '127.0.0.0/8') || hostMatches(h, '::1');
}

/** Throws HttpSettingsError for settings that must not be served. */
export function checkSettings(s: HttpSettings): void {
  if (typeof s.host !== 'string') throw new HttpSettingsError('http host: missing');
  if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535) throw new HttpSettingsError(`http port: must be 0–65535, got ${s.port}`);
  if (!Number.isSafeInteger(s.bodyLimitBytes) || s.bodyLimitBytes < 1) throw new HttpSettingsError(`http body limit: must be a positive whole number of bytes, got ${s.bodyLimitBytes}`);
  if (s.token !== undefined && !/^[\x21-\x7e]+$/.test(s.token)) {
    throw new HttpSettingsError('http token: must be printable ASCII without spaces (it is sent as Authorization: Bearer <token>)');
  }
  if (!isLoopback(s.host) && s.token === undefined) {
    throw new HttpSettingsError(`refusing to listen on ${s.host || 'every interface'} without a token: write routes would be open to the network (configure a token, or listen on 127.0.0.1)`);
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export const startHttpServer: StartHttpServer = async (deps: HttpDeps): Promise<HttpServerHandle> => {
  checkSettings(deps.settings);
  const { app, lifecycle } = createApp(deps);
  const fast = createFastPath(deps, lifecycle);
  const server = createServer((req, res) => {
    if (!fast(req, res)) app(req, res);
  });
  await listen(server, deps.settings.host, deps.settings.port);
  const a = server.address() as AddressInfo;
  const address = { host: a.address, port: a.port };
  const url = `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  deps.logger.info({ url, auth: deps.settings.token !== undefined }, 'http server listening');

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    lifecycle.closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await lifecycle.idle();
    await deps.relay.idle();
    server.closeAllConnections();
    await closed;
    deps.logger.info({ url }, 'http server closed');
  };

  return {
    address,
    url,
    close: () => (closing ??= close()),
  };
};
