/**
 * The call-home listener: a TCP server that takes the calls of units' modems. Each call from an
 * allowed address becomes a session of the relay (RelayService.callHome) over the accepted
 * socket: the relay sends POLL (the unit never speaks first) and drives the session as a call-up
 * does, under the same per-unit lock, into the same archive. The port speaks nothing but the
 * unit's protocol: what a peer sends is only ever parsed as the unit's reply frames, so an HTTP
 * request or a command gets no answer — its bytes are garbage, dropped within the call's budgets.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { CallHomeOutcome, RelayService } from '@sfm/core/cache';
import type { ClientOptions } from '@sfm/core/client';
import { captureLink } from '@sfm/core/capture';
import { silentLogger, silentMetrics, type Logger, type Metrics } from '@sfm/core/kernel';
import { StreamLink, canonicalHost, type Link } from '@sfm/core/transport';
import { budgetedLink } from './budget.js';
import { CaptureShelf, type CallCapture } from './captures.js';
import type { CallHomeSettings } from './settings.js';

export interface CallHomeServerOptions {
  relay: RelayService;
  settings: CallHomeSettings & { listen: NonNullable<CallHomeSettings['listen']> };
  /** Whether the unit with this serial may call (`ach.accept` "known"); absent: every unit may. */
  accept?: (serial: string) => boolean | Promise<boolean>;
  logger?: Logger;
  metrics?: Metrics;
  /** sfm's version, for the captures' header. */
  version?: string;
  /** The device client's timings for calls (the relay's by default). */
  client?: ClientOptions;
  /** Wraps each call's link (outermost), as the kernel's wrapTransport wraps a call-up's: to watch what crosses it. */
  wrapLink?: (link: Link, peer: string) => Link;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export class CallHomeServer {
  private server: Server | null = null;
  private readonly calls = new Set<Promise<void>>();
  private readonly sockets = new Set<Socket>();
  private readonly shelf: CaptureShelf | null;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private bound: ListenAddress | null = null;

  constructor(private readonly opts: CallHomeServerOptions) {
    this.log = (opts.logger ?? silentLogger).child({ service: 'call-home' });
    this.metrics = opts.metrics ?? silentMetrics;
    const s = opts.settings;
    this.shelf = s.keepCaptures ? new CaptureShelf(s.capturesDir, s.capturesBytes, this.log) : null;
  }

  /** Where it listens, once started. */
  get address(): ListenAddress | null {
    return this.bound;
  }

  /** Calls in progress. */
  get active(): number {
    return this.calls.size;
  }

  get captures(): CaptureShelf | null {
    return this.shelf;
  }

  async start(): Promise<ListenAddress> {
    await this.shelf?.open();
    const server = createServer((socket) => this.take(socket));
    const { host, port } = this.opts.settings.listen;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const a = server.address() as AddressInfo;
    this.bound = { host: a.address, port: a.port };
    this.log.info({ listen: `${a.address}:${a.port}` }, 'taking units\' calls');
    return this.bound;
  }

  /** Stops taking calls and waits for those in progress (each ends within its own budget). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    while (this.calls.size > 0) await Promise.allSettled([...this.calls]);
  }

  private take(socket: Socket): void {
    const s = this.opts.settings;
    socket.on('error', () => undefined);
    const address = socket.remoteAddress;
    const refuse = (result: string, why: string): void => {
      this.metrics.inc('sfm_ach_sessions_total', { result });
      this.log.warn({ peer: address, code: result }, why);
      socket.destroy();
    };
    if (address === undefined) return void socket.destroy();
    if (!s.allowPeers.has(address)) return refuse('TARGET_NOT_ALLOWED', 'a call from an address ach.allow_peers does not allow: refused');
    if (this.calls.size >= s.maxCalls) return refuse('DEVICE_BUSY', `a call beyond the ${s.maxCalls} taken at once (ach.max_calls): refused`);
    const host = canonicalHost(address);
    const peer = `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort}`;
    socket.setNoDelay(true);
    this.sockets.add(socket);
    const call = this.run(socket, peer).finally(() => {
      this.sockets.delete(socket);
      this.calls.delete(call);
    });
    this.calls.add(call);
  }

  private async run(socket: Socket, peer: string): Promise<void> {
    const s = this.opts.settings;
    let capture: CallCapture | undefined;
    let link: Link = new StreamLink(socket, `call-home ${peer}`);
    if (this.shelf) {
      capture = this.shelf.begin(peer, { recorder: ['sfm', this.opts.version, 'call-home'].filter(Boolean).join(' '), peer });
      link = captureLink(link, capture.writer.startSession({ host: 'sfm', device: peer }));
    }
    link = budgetedLink(link, { preambleBytes: s.preambleBytes, callBytes: s.callBytes, callMaxMs: s.callMaxMs, describe: `call-home ${peer}` });
    if (this.opts.wrapLink) link = this.opts.wrapLink(link, peer);
    let outcome: CallHomeOutcome;
    try {
      outcome = await this.opts.relay.callHome(link, {
        peer,
        waveforms: s.waveforms,
        eraseAfterDownload: s.eraseAfterDownload,
        restartMonitoring: s.restartMonitoring,
        accept: s.accept === 'any' ? undefined : this.opts.accept,
        capture: capture?.name ?? null,
        client: this.opts.client,
      });
    } finally {
      socket.destroy();
    }
    await capture?.done(outcome.session !== null).catch((e: Error) => this.log.warn({ peer, err: e.message }, 'the call\'s capture could not be kept'));
    this.metrics.inc('sfm_ach_sessions_total', { result: outcome.result });
    const session = outcome.session;
    this.log[outcome.result === 'ok' ? 'info' : 'warn'](
      {
        peer, unit: outcome.serial, result: outcome.result, refused: outcome.refused || undefined,
        events_new: session?.events_new, waveforms_new: session?.waveforms_new, erased: session?.erased, capture: session?.capture ?? undefined,
      },
      outcome.refused ? 'a unit ach.accept does not accept called: refused, nothing kept' : 'call-home session ended',
    );
  }
}
