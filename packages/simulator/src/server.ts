/**
 * Serving the simulated unit: over TCP (net.Server, one session per connection) or over any
 * Duplex stream (a pseudo-terminal, an in-process pipe). Every connection gets its own session,
 * link emulation (baud pacing, modem hold) and the server's shared fault injector and stats.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { asciiOf, BOOT_BANNER, FaultInjector, MODEM_TEXT, type FaultSpec, type FaultState } from './faults.js';
import { PacedOutput, type LinkOptions } from './link.js';
import { UnitSession } from './session.js';
import { StatsRecorder, type SimulatorStats } from './stats.js';
import type { SimulatedUnit } from './unit.js';

export interface SimulatorServerOptions extends LinkOptions {
  /** Send the RV50/RV55 modem text `\r\nRING\r\n\r\nCONNECT\r\n` to each new TCP client first. */
  modemPreamble?: boolean;
  /** Send the boot banner "Operating System" to each new connection first. */
  bootBanner?: boolean;
  /** Seed of the fault injector's random bytes (garble) and choices (corrupt). */
  faultSeed?: number;
  /**
   * The unit hears nothing for this long after a connection opens: it wakes from the line being
   * asserted and needs 5–10 s before it answers POLL (protocol.md §24). Default 0.
   */
  wakeMs?: number;
  /** Where the unit calls home: it dials there after each new record (callHome()). */
  callHome?: BoundAddress;
  /** A call that does not connect is tried again this many times (default 3, as the unit's num_retries)… */
  callRetries?: number;
  /** …this long apart (default 5000 ms; a real unit waits its time_between_retries). */
  callRetryMs?: number;
}

/** How a call home went: whether the modem connected, and why not. */
export interface CallResult {
  connected: boolean;
  error: string | null;
}

export interface ServeStreamOptions {
  /** Send the modem text first (default false for streams: a serial line has no modem). */
  modemPreamble?: boolean;
}

export interface BoundAddress {
  host: string;
  port: number;
}

/** One served connection. */
export interface SessionHandle {
  readonly session: UnitSession;
  /** Resolves when the connection has ended (either side, or a drop fault). */
  readonly closed: Promise<void>;
  close(): void;
}

class Connection implements SessionHandle {
  readonly session: UnitSession;
  readonly closed: Promise<void>;
  private readonly output: PacedOutput;
  private open = true;
  private finished = false;
  private resolveClosed!: () => void;

  constructor(
    private readonly owner: SimulatorServer,
    private readonly stream: Duplex,
    private readonly internals: { stats: StatsRecorder; faults: FaultInjector; link: LinkOptions; wakeMs: number },
    greeting: { modemPreamble: boolean; bootBanner: boolean },
  ) {
    const awakeAt = performance.now() + internals.wakeMs;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.output = new PacedOutput((b) => this.deliver(b), internals.link);
    this.session = new UnitSession(owner.unit, (b) => this.output.enqueue(b), { stats: internals.stats, faults: internals.faults });
    internals.stats.sessionOpened();
    stream.on('data', (chunk: Buffer | string) => {
      if (!this.open) return;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      if (performance.now() < awakeAt) return internals.stats.asleep(bytes.length);
      this.session.receive(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    stream.on('end', () => this.close());
    stream.on('error', () => this.close());
    stream.on('close', () => this.close());
    // The modem's text comes from the modem itself: not paced, not held.
    if (greeting.modemPreamble) this.deliver(asciiOf(MODEM_TEXT));
    if (greeting.bootBanner) this.output.enqueue(asciiOf(BOOT_BANNER));
  }

  /** The last stage: bytes leave for the host (a drop fault may cut them short and close the link). */
  private deliver(bytes: Uint8Array): void {
    if (!this.open) return;
    const { allowed, drop } = this.internals.faults.takeDropBudget(bytes.length);
    if (allowed > 0) {
      this.internals.stats.bytesOut(allowed);
      this.stream.write(allowed === bytes.length ? bytes : bytes.subarray(0, allowed));
    }
    if (drop) this.close();
  }

  /** The unit reboots: unsent output is lost, the banner goes out, every session state is gone. */
  reboot(): void {
    if (!this.open) return;
    this.output.discardUnsent();
    this.session.reset();
    this.output.enqueue(asciiOf(BOOT_BANNER));
  }

  close(): void {
    if (this.open) {
      this.open = false;
      this.output.stop();
      const s = this.stream;
      if (!s.destroyed) {
        // Flush what was written, then make sure the stream really goes away.
        s.end();
        const t = setTimeout(() => s.destroy(), 500);
        t.unref();
        s.once('close', () => clearTimeout(t));
      }
    }
    this.finish();
  }

  destroy(): void {
    this.close();
    this.stream.destroy();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.internals.stats.sessionClosed();
    this.owner._forget(this);
    this.resolveClosed();
  }
}

/**
 * How an unreachable unit looks from the network: `refuse` — the modem is off (connections are
 * refused); `silent` — the modem connects but the unit never answers (a dead unit, a cut cable).
 */
export type OfflineMode = 'refuse' | 'silent';

export class SimulatorServer {
  readonly faults: FaultInjector;
  private readonly recorder = new StatsRecorder();
  private readonly connections = new Set<Connection>();
  private readonly listeners: Server[] = [];
  /** Where each listener was bound, so a unit back online listens there again. */
  private readonly bound: { host: string; port: number }[] = [];
  private readonly link: LinkOptions;
  private readonly modemPreamble: boolean;
  private readonly bootBanner: boolean;
  private readonly wakeMs: number;
  private current: SimulatedUnit;
  private offlineMode: OfflineMode | null = null;
  /** Where the unit calls home after each new record; null: it does not. */
  readonly callHomeTo: BoundAddress | null;
  private readonly callRetries: number;
  private readonly callRetryMs: number;
  private unsubscribe: () => void = () => undefined;
  /** The call in progress (one at a time, as one modem), and whether another is due after it. */
  private calling: Promise<CallResult> | null = null;
  private callAgain = false;
  /** The unit rebooted since its last call: the next call starts with the boot banner. */
  private rebootedSinceCall = false;
  /** The connections of calls the unit placed. */
  private readonly outgoing = new Set<Connection>();
  private closed = false;

  constructor(unit: SimulatedUnit, opts: SimulatorServerOptions = {}) {
    this.current = unit;
    this.callHomeTo = opts.callHome ?? null;
    this.callRetries = opts.callRetries ?? 3;
    this.callRetryMs = opts.callRetryMs ?? 5000;
    this.watch(unit);
    this.link = { baud: opts.baud, forwardDelayMs: opts.forwardDelayMs };
    // Validate the link options now rather than at the first connection.
    new PacedOutput(() => undefined, this.link).stop();
    this.modemPreamble = opts.modemPreamble ?? false;
    this.bootBanner = opts.bootBanner ?? false;
    this.wakeMs = opts.wakeMs ?? 0;
    if (!Number.isFinite(this.wakeMs) || this.wakeMs < 0) throw new RangeError(`wakeMs must be 0 or more, got ${this.wakeMs}`);
    this.faults = new FaultInjector(opts.faultSeed);
  }

  /** The unit behind this server (a field swap replaces it). */
  get unit(): SimulatedUnit {
    return this.current;
  }

  /**
   * Another unit takes this one's place behind the same modem (a field swap): open sessions end,
   * new connections talk to `unit`.
   */
  replaceUnit(unit: SimulatedUnit): void {
    this.current = unit;
    this.watch(unit);
    for (const c of [...this.connections]) c.destroy();
  }

  /** With a call-home address, each new record of the unit makes it call home. */
  private watch(unit: SimulatedUnit): void {
    this.unsubscribe();
    this.unsubscribe = this.callHomeTo ? unit.onRecord(() => this.requestCall()) : () => undefined;
  }

  get offline(): OfflineMode | null {
    return this.offlineMode;
  }

  /** Takes the unit off the network (`refuse` or `silent`), or back on (null). */
  async setOffline(mode: OfflineMode | null): Promise<void> {
    if (mode === this.offlineMode) return;
    const was = this.offlineMode;
    this.offlineMode = mode;
    for (const c of [...this.connections]) c.destroy();
    if (mode === 'refuse') {
      await Promise.all(this.listeners.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    } else if (was === 'refuse') {
      for (const b of this.bound) await this.bind(b.host, b.port);
    }
  }

  /** Accepts TCP connections on host:port (default 127.0.0.1, port 0 = any free port). */
  async listen(opts: { host?: string; port?: number } = {}): Promise<BoundAddress> {
    const a = await this.bind(opts.host ?? '127.0.0.1', opts.port ?? 0);
    this.bound.push(a);
    return a;
  }

  private async bind(host: string, port: number): Promise<BoundAddress> {
    const server = createServer((socket: Socket) => {
      socket.setNoDelay(true);
      if (this.offlineMode === 'silent') {
        // Connected, but nothing ever answers: swallow what the host sends.
        socket.on('data', () => undefined);
        socket.on('error', () => undefined);
        this.silent.add(socket);
        socket.once('close', () => this.silent.delete(socket));
        return;
      }
      this.attach(socket, this.modemPreamble);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listeners.push(server);
    const a = server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  private readonly silent = new Set<Socket>();

  /** Runs a session over any Duplex stream (a serial port, a pseudo-terminal, a pipe). */
  serveStream(stream: Duplex, opts: ServeStreamOptions = {}): SessionHandle {
    return this.attach(stream, opts.modemPreamble ?? false);
  }

  private attach(stream: Duplex, modemPreamble: boolean, bootBanner = this.bootBanner): Connection {
    const c = new Connection(this, stream, { stats: this.recorder, faults: this.faults, link: this.link, wakeMs: this.wakeMs }, { modemPreamble, bootBanner });
    this.connections.add(c);
    return c;
  }

  // --- calling home ------------------------------------------------------------------------------

  /**
   * The unit calls home, as its modem does: it connects to `to` (default the call-home address)
   * and then — after the modem's RING/CONNECT text when `modemPreamble` is set, and the boot
   * banner when the unit rebooted since its last call (or `bootBanner` is set) — answers whatever
   * the server asks, with the link emulation, wake-up and faults of any session. The unit never
   * speaks first. Resolves once the call has ended (the server hung up, or a fault dropped it).
   */
  async callHome(to: BoundAddress | null = this.callHomeTo): Promise<CallResult> {
    if (!to) throw new RangeError('no call-home address: give one (or start the unit with callHome)');
    this.recorder.callPlaced();
    if (this.offlineMode || this.closed) {
      this.recorder.callFailed();
      return { connected: false, error: this.closed ? 'the unit is shut down' : `the unit is offline (${this.offlineMode})` };
    }
    const socket = connect({ host: to.host, port: to.port });
    socket.setNoDelay(true);
    const opened = await new Promise<Error | null>((resolve) => {
      socket.once('connect', () => resolve(null));
      // Kept for the whole call: the session's own handlers come with it.
      socket.on('error', (e) => resolve(e));
    });
    if (opened) {
      socket.destroy();
      this.recorder.callFailed();
      return { connected: false, error: opened.message };
    }
    const bootBanner = this.bootBanner || this.rebootedSinceCall;
    this.rebootedSinceCall = false;
    const c = this.attach(socket, this.modemPreamble, bootBanner);
    this.outgoing.add(c);
    await c.closed;
    this.outgoing.delete(c);
    return { connected: true, error: null };
  }

  /** The unit's modem hangs up the call in progress, if any. */
  hangUp(): void {
    for (const c of [...this.outgoing]) c.destroy();
  }

  /** Calls home now, or right after the call in progress (one modem: one call at a time). */
  requestCall(): void {
    if (!this.callHomeTo || this.closed) return;
    if (this.calling) {
      this.callAgain = true;
      return;
    }
    this.calling = this.dialWithRetries().finally(() => {
      this.calling = null;
      if (this.callAgain) {
        this.callAgain = false;
        this.requestCall();
      }
    });
  }

  /** A call that does not connect is placed again, as the unit's modem retries. */
  private async dialWithRetries(): Promise<CallResult> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.callHome();
      if (r.connected || attempt >= this.callRetries || this.closed) return r;
      await new Promise((resolve) => setTimeout(resolve, this.callRetryMs).unref());
    }
  }

  /** Resolves when no call is in progress or due. */
  async callsDone(): Promise<void> {
    while (this.calling) await this.calling;
  }

  /** @internal */
  _forget(c: Connection): void {
    this.connections.delete(c);
  }

  /** The sessions open now. */
  get sessions(): UnitSession[] {
    return [...this.connections].map((c) => c.session);
  }

  get stats(): SimulatorStats {
    return this.recorder.snapshot();
  }

  resetStats(): void {
    this.recorder.reset();
  }

  // --- faults ------------------------------------------------------------------------------------

  dropAfterBytes(n: number): void {
    this.faults.dropAfterBytes(n);
  }
  /** Corrupts the next reply — or, given a request SUB, the next reply to that SUB. */
  corruptNextFrame(requestSub?: number): void {
    this.faults.corruptNextFrame(requestSub);
  }
  stall(ms: number | 'forever'): void {
    this.faults.stall(ms);
  }
  garbleNext(n: number): void {
    this.faults.garbleNext(n);
  }
  modemTextNext(): void {
    this.faults.modemTextNext();
  }
  /** The unit reboots now: every connection gets "Operating System" and loses its session state. */
  rebootNow(): void {
    this.rebootedSinceCall = true;
    for (const c of this.connections) c.reboot();
  }
  clearFaults(): void {
    this.faults.clear();
  }

  /** Applies a fault as the control API describes it. */
  injectFault(spec: FaultSpec): FaultState {
    switch (spec.kind) {
      case 'drop':
        this.dropAfterBytes(spec.after_bytes);
        break;
      case 'corrupt':
        this.corruptNextFrame();
        break;
      case 'stall':
        this.stall(spec.ms);
        break;
      case 'garble':
        this.garbleNext(spec.bytes);
        break;
      case 'reboot':
        this.rebootNow();
        break;
      case 'modem-text':
        this.modemTextNext();
        break;
      case 'clear':
        this.clearFaults();
        break;
      default:
        throw new RangeError(`unknown fault kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
    }
    return this.faults.state;
  }

  /** Stops listening and ends every session. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    for (const c of [...this.connections]) c.destroy();
    for (const s of this.silent) s.destroy();
    await Promise.all(
      this.listeners.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
  }
}
