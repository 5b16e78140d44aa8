/**
 * startHttpServer: checks the settings (a public bind needs a token), listens, and closes
 * gracefully — stop accepting, let in-flight requests and device work finish, close the
 * keep-alive sockets. Closing the store is the caller's job.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT_MS, HttpSettingsError, isLoopbackHost,
  type HttpDeps, type HttpServerHandle, type HttpSettings, type StartHttpServer,
} from '@sfm/core';
import { createApp } from './app.js';
import { errorBody, HttpError, invalid } from './errors.js';
import { createFastPath } from './fast-path.js';

/** 127.0.0.0/8, ::1 and every spelling of them. */
export function isLoopback(host: string): boolean {
  return isLoopbackHost(host);
}

/** Throws HttpSettingsError for settings that must not be served. */
export function checkSettings(s: HttpSettings): void {
  if (typeof s.host !== 'string') throw new HttpSettingsError('http host: missing');
  if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535) throw new HttpSettingsError(`http port: must be 0–65535, got ${s.port}`);
  if (!Number.isSafeInteger(s.bodyLimitBytes) || s.bodyLimitBytes < 1) throw new HttpSettingsError(`http body limit: must be a positive whole number of bytes, got ${s.bodyLimitBytes}`);
  const headersMs = s.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestMs = s.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!(headersMs > 0 && requestMs > 0 && headersMs <= requestMs)) {
    throw new HttpSettingsError(`http timeouts: the headers timeout (${headersMs} ms) must be positive and no longer than the request timeout (${requestMs} ms)`);
  }
  if (s.token !== undefined && !/^[\x21-\x7e]+$/.test(s.token)) {
    throw new HttpSettingsError('http token: must be printable ASCII without spaces (it is sent as Authorization: Bearer <token>)');
  }
  if (!isLoopback(s.host) && s.token === undefined) {
    throw new HttpSettingsError(`refusing to listen on ${s.host || 'every interface'} without a token: write routes would be open to the network (configure a token, or listen on 127.0.0.1)`);
  }
}

/**
 * What Node's HTTP parser refuses before express sees a request (a request line and headers
 * over 16 KiB, malformed HTTP, a request not received in time) still gets the contract's
 * `{ error: { code, message } }` body; Node's own answer has none.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // Write only when no response has started on this connection (as Node's default does).
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
    const [status, reason, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'request: the request line and headers are larger than the server accepts']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'request: not received in time']
          : [400, 'Bad Request', 'request: not valid HTTP'];
    const body = errorBody(status === 408 ? new HttpError(408, 'REQUEST_TIMEOUT', message) : invalid(message, status));
    const head = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  }
  socket.destroy(err);
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
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    if (!fast(req, res)) app(req, res);
  });
  server.on('clientError', answerClientError);
  // A client that never finishes its request must not hold a connection for long: Node checks
  // these every connectionsCheckingInterval.
  server.headersTimeout = deps.settings.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  server.requestTimeout = deps.settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  server.maxConnections = deps.settings.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
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
