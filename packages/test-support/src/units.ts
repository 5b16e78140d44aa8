/** Emulated units reachable over TCP or over a pseudo-terminal pair, for the client suites. */
import { MiniMateClient, type ClientOptions } from '@sfm/core/client';
import { type Transport } from '@sfm/core/transport';
import type { Event } from '@sfm/core';
import { startSimulator, type RunningSimulator, type StartSimulatorOptions } from '@sfm/simulator';
import { TcpTransport } from '@sfm/transport-tcp';
import { SerialTransport, createPtyPair } from '@sfm/transport-serial';

export interface UnitFixture {
  name: string;
  sim: RunningSimulator;
  transport: Transport;
  close(): Promise<void>;
}

/** Fast timeouts: the emulated unit answers at once (and is awake at once: no wake-up window). */
export const FAST: ClientOptions = { frameTimeoutMs: 2000, chunkTimeoutMs: 2000, wakeWindowMs: 0, monitorPollMs: 10, monitorStartTimeoutMs: 2000 };

export const UNIT_DEFAULTS: StartSimulatorOptions = { events: 3, recordTimeS: 1, monitorSettleMs: 50, baud: 0, forwardDelayMs: 0 };

export async function tcpUnit(opts: StartSimulatorOptions = {}): Promise<UnitFixture> {
  const sim = await startSimulator({ ...UNIT_DEFAULTS, ...opts, host: '127.0.0.1', port: 0 });
  const transport = new TcpTransport({ kind: 'tcp', host: sim.address.host, port: sim.address.port });
  return { name: 'tcp', sim, transport, close: () => sim.close() };
}

/** The unit on one end of a pty pair (opened like a serial device), the client on the other. */
export async function serialUnit(opts: StartSimulatorOptions = {}): Promise<UnitFixture> {
  const pair = await createPtyPair();
  const sim = await startSimulator({ ...UNIT_DEFAULTS, ...opts, host: '127.0.0.1', port: 0 });
  const deviceSide = await new SerialTransport({ kind: 'serial', path: pair.b, baud: 38400 }).openStream();
  const handle = sim.server.serveStream(deviceSide);
  const transport = new SerialTransport({ kind: 'serial', path: pair.a, baud: 38400 });
  return {
    name: 'serial',
    sim,
    transport,
    close: async () => {
      handle.close();
      deviceSide.destroy();
      await sim.close();
      await pair.close();
    },
  };
}

export async function session<T>(u: UnitFixture, fn: (c: MiniMateClient) => Promise<T>, opts: ClientOptions = FAST): Promise<T> {
  const c = await MiniMateClient.connect(u.transport, opts);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/**
 * What a headers-first list shows of `events` before their project text is read: the same
 * events, their text null and `project_pending` true (monitor-log records have no text to read).
 */
export function headersOnly<E extends Event>(events: readonly E[]): E[] {
  return events.map((e) => (e.record_type === 'monitor_log' ? e : { ...e, project: { project: null, client: null, operator: null, sensor_location: null, notes: null }, project_pending: true }));
}
