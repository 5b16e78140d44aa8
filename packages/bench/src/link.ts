/** Wire costs measured on the emulated unit: exact bytes and round trips, and the modelled link time. */
import type { SimulatorServer, SimulatorStats } from '@sfm/simulator';

export const LINK_BYTES_PER_S = 3840; // 38400 baud, 8N1
export const ROUND_TRIP_S = 1.0; // the modem holds each burst ~1 s

export interface WireCost {
  bytes_to_unit: number;
  bytes_from_unit: number;
  round_trips: number;
  modelled_link_s: number;
}

function cost(bytesIn: number, bytesOut: number, roundTrips: number): WireCost {
  return {
    bytes_to_unit: bytesIn,
    bytes_from_unit: bytesOut,
    round_trips: roundTrips,
    modelled_link_s: +((bytesIn + bytesOut) / LINK_BYTES_PER_S + roundTrips * ROUND_TRIP_S).toFixed(2),
  };
}

/** Waits until no session is open on the unit (the relay's work after an answer, if any, is over). */
export async function idle(server: SimulatorServer, timeoutMs = 120_000): Promise<SimulatorStats> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = server.stats;
    if (s.sessionsActive === 0) return s;
    if (Date.now() > until) throw new Error(`the unit still had ${s.sessionsActive} session(s) open ${timeoutMs} ms after the answer`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * `cost`: what crossed the link until `fn` answered; `after`: what crossed it after the answer
 * until the unit's last session closed (work the relay does once nobody waits, e.g. reading
 * pending project text). The split at the answer is as exact as the event loop allows.
 */
export async function measure<T>(server: SimulatorServer, fn: () => Promise<T>): Promise<{ cost: WireCost; after: WireCost; result: T }> {
  server.resetStats();
  const result = await fn();
  const a = server.stats;
  const z = await idle(server);
  return {
    result,
    cost: cost(a.bytesIn, a.bytesOut, a.roundTrips),
    after: cost(z.bytesIn - a.bytesIn, z.bytesOut - a.bytesOut, z.roundTrips - a.roundTrips),
  };
}
