/**
 * The TCP transport: reaches a unit through a cellular modem or a serial-to-TCP bridge.
 *
 * A modem forwards the unit's serial output to TCP in bursts (it holds bytes ~1 s), so replies
 * arrive split or coalesced at arbitrary points. The link therefore passes bytes through exactly
 * as they come — no framing, no buffering beyond StreamLink's pre-receiver queue — and Nagle is
 * off so a request leaves at once instead of adding to the modem's delay.
 */
import * as net from 'node:net';
import { DeviceUnreachable } from '@sfm/core/client';
import { StreamLink, connectionKey } from '@sfm/core/transport';
import type { DeviceTarget, Link, OpenOptions, Transport, TransportFactory } from '@sfm/core/transport';

export type TcpTarget = Extract<DeviceTarget, { kind: 'tcp' }>;

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEP_ALIVE_DELAY_MS = 30_000;

export interface TcpTransportOptions {
  /** Give up connecting after this long (DeviceUnreachable); `open({ timeoutMs })` overrides it. Default 10 s. */
  connectTimeoutMs?: number;
  /** TCP keep-alive on the open socket, so a dead modem link is noticed. Default on. */
  keepAlive?: boolean;
  /** Idle time before the first keep-alive probe. Default 30 s. */
  keepAliveDelayMs?: number;
  /** Makes the (connecting) socket; defaults to `net.connect`. Tests inject sockets that misbehave. */
  connect?: (options: net.TcpNetConnectOpts) => net.Socket;
}

/** Why a connection failed, for people: the errno codes a modem or bridge produces, in words. */
function describeConnectError(e: NodeJS.ErrnoException, host: string): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port)';
    case 'ETIMEDOUT':
      return 'connection timed out (the operating system gave up)';
    case 'EHOSTUNREACH':
      return 'host unreachable (no route to the host)';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ENOTFOUND':
      return `host name not found (DNS lookup of "${host}" failed)`;
    case 'EAI_AGAIN':
      return `DNS lookup of "${host}" failed temporarily`;
    case 'ECONNRESET':
      return 'connection reset by the peer';
    case 'EADDRNOTAVAIL':
      return 'address not available';
    default:
      return e.message;
  }
}

export class TcpTransport implements Transport {
  readonly target: TcpTarget;
  private readonly options: TcpTransportOptions;

  constructor(target: TcpTarget, options: TcpTransportOptions = {}) {
    if (target.kind !== 'tcp') throw new TypeError(`TcpTransport needs a tcp target, got ${target.kind}`);
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
      throw new RangeError(`TcpTransport: port must be 1..65535, got ${target.port}`);
    }
    this.target = target;
    this.options = options;
  }

  /** `tcp:<host>:<port>`, the prefix of every message this transport produces. */
  get key(): string {
    return connectionKey(this.target);
  }

  open(opts: OpenOptions = {}): Promise<Link> {
    const key = this.key;
    const { host, port } = this.target;
    const timeoutMs = opts.timeoutMs ?? this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const signal = opts.signal;
    if (signal?.aborted) {
      return Promise.reject(new DeviceUnreachable(`${key}: connect aborted`, { cause: signal.reason }));
    }

    return new Promise<Link>((resolve, reject) => {
      const connect = this.options.connect ?? net.connect;
      let socket: net.Socket;
      try {
        socket = connect({ host, port });
      } catch (e) {
        reject(new DeviceUnreachable(`${key}: ${(e as Error).message}`, { cause: e }));
        return;
      }

      let settled = false;
      const cleanup = (): void => {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeListener('connect', onConnect);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
      };
      // Every failure destroys the socket: nothing half-open is left behind.
      const fail = (err: DeviceUnreachable): void => {
        if (settled) return;
        cleanup();
        // A late 'error' from the destroyed socket must not become an uncaught exception.
        socket.on('error', () => {});
        socket.destroy();
        reject(err);
      };
      const onError = (e: NodeJS.ErrnoException): void =>
        fail(new DeviceUnreachable(`${key}: ${describeConnectError(e, host)}`, { cause: e }));
      const onClose = (): void => fail(new DeviceUnreachable(`${key}: the connection closed while connecting`));
      const onAbort = (): void => fail(new DeviceUnreachable(`${key}: connect aborted`, { cause: signal?.reason }));
      const onConnect = (): void => {
        if (settled) return;
        cleanup();
        socket.setNoDelay(true);
        if (this.options.keepAlive ?? true) socket.setKeepAlive(true, this.options.keepAliveDelayMs ?? DEFAULT_KEEP_ALIVE_DELAY_MS);
        // Created synchronously in the connect handler: no byte can arrive before StreamLink listens.
        resolve(new StreamLink(socket, key));
      };

      const timer = setTimeout(() => fail(new DeviceUnreachable(`${key}: no answer within ${timeoutMs} ms`)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', onConnect);
      socket.once('error', onError);
      socket.once('close', onClose);
    });
  }
}

/** Makes TcpTransports with the given options (`tcpTransportFactory` uses the defaults). */
export function createTcpTransportFactory(options: TcpTransportOptions = {}): TransportFactory {
  return {
    kind: 'tcp',
    create(target: DeviceTarget): Transport {
      if (target.kind !== 'tcp') throw new TypeError(`the tcp transport factory cannot reach ${connectionKey(target)}`);
      return new TcpTransport(target, options);
    },
  };
}

export const tcpTransportFactory: TransportFactory = createTcpTransportFactory();
