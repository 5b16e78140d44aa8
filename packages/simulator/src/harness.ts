/**
 * A wire-level harness for tests: drives a UnitSession with real request frames and parses what
 * it sends back with the client's own DeviceFrameParser. No sockets, no timers.
 */
import { DeviceFrameParser, buildReadFrame, params as makeParams, responseContent, type DeviceFrame, type ParsedItem } from '@sfm/core/protocol';
import type { FaultInjector } from './faults.js';
import { UnitSession } from './session.js';
import { StatsRecorder } from './stats.js';
import type { SimulatedUnit } from './unit.js';

export class SessionHarness {
  readonly session: UnitSession;
  readonly stats: StatsRecorder;
  /** Every byte the session sent, in order. */
  readonly wire: Uint8Array[] = [];
  private parser = new DeviceFrameParser();

  constructor(
    readonly unit: SimulatedUnit,
    env: { faults?: FaultInjector; stats?: StatsRecorder } = {},
  ) {
    this.stats = env.stats ?? new StatsRecorder();
    this.session = new UnitSession(unit, (b) => this.wire.push(b), { stats: this.stats, faults: env.faults });
  }

  /** Sends raw bytes; returns the raw reply bytes and what the device parser made of them. */
  exchange(bytes: Uint8Array): { raw: Uint8Array; items: ParsedItem[] } {
    const before = this.wire.length;
    this.session.receive(bytes);
    const parts = this.wire.slice(before);
    const raw = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      raw.set(p, o);
      o += p.length;
    }
    return { raw, items: this.parser.push(raw) };
  }

  /** Sends a request that must be answered with exactly one good frame; returns it. */
  request(bytes: Uint8Array): DeviceFrame {
    const { items, raw } = this.exchange(bytes);
    const frames = items.filter((i) => i.kind === 'frame').map((i) => (i as { frame: DeviceFrame }).frame);
    if (frames.length !== 1) throw new Error(`expected one reply frame, got ${frames.length} (${raw.length} bytes)`);
    const f = frames[0]!;
    if (!f.checksumOk) throw new Error('reply frame has a bad checksum');
    return f;
  }

  /** Sends a request the unit must not answer; returns true when nothing came back. */
  silent(bytes: Uint8Array): boolean {
    return this.exchange(bytes).raw.length === 0;
  }

  /** Probe + data request of a two-step read; returns the data reply's content. */
  read(sub: number, dataLength: number, p: Uint8Array = makeParams()): Uint8Array {
    this.request(buildReadFrame(sub, 0, p));
    return responseContent(this.request(buildReadFrame(sub, dataLength, p)));
  }
}
