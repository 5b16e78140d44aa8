/**
 * startHttpServer: checks the settings (a public bind needs a token), listens, and closes
 * gracefully — stop accepting, let in-flight requests and device work finish, close the
 * keep-alive sockets. Closing the store is the caller's job.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SfmError } from '@sfm/core';
import { createApp } from './app.js';
import { errorBody } from './errors.js';
import { createFastPath } from './fast-path.js';
import type { HttpDeps } from './http.js';
import { checkSettings } from './settings.js';

export interface HttpServerHandle {
  readonly address: { host: string; port: number };
  readonly url: string;
  /** Graceful: stop accepting, finish in-flight requests and device work, then close. */
  close(): Promise<void>;
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
    const body = errorBody(new SfmError(status === 408 ? 'REQUEST_TIMEOUT' : 'INVALID_REQUEST', message));
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

export async function startHttpServer(deps: HttpDeps): Promise<HttpServerHandle> {
  checkSettings(deps.settings);
  const { app, lifecycle } = createApp(deps);
  const fast = createFastPath(deps, lifecycle);
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    if (!fast(req, res)) app(req, res);
  });
  server.on('clientError', answerClientError);
  // A client that never finishes its request must not hold a connection for long: Node checks
  // these every connectionsCheckingInterval.
  server.headersTimeout = deps.settings.headersTimeoutMs;
  server.requestTimeout = deps.settings.requestTimeoutMs;
  server.maxConnections = deps.settings.maxConnections;
  await listen(server, deps.settings.host, deps.settings.port);
  const a = server.address() as AddressInfo;
  const address = { host: a.address, port: a.port };
  const url = `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  deps.logger.info({ url, auth: deps.settings.token !== undefined }, 'http server listening');

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    lifecycle.closing = true;
    lifecycle.endStreams();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await lifecycle.idle();
    await deps.relay.drain();
    server.closeAllConnections();
    await closed;
    deps.logger.info({ url }, 'http server closed');
  };

  return {
    address,
    url,
    close: () => (closing ??= close()),
  };
}
