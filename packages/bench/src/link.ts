/** Wire costs measured on the emulated unit: exact bytes and round trips, and the modelled link time. */
import type { SimulatorServer } from '@sfm/simulator';

export const LINK_BYTES_PER_S = 3840; // 38400 baud, 8N1
export const ROUND_TRIP_S = 1.0; // the modem holds each burst ~1 s

export interface WireCost {
  bytes_to_unit: number;
  bytes_from_unit: number;
  round_trips: number;
  modelled_link_s: number;
}

export async function measure<T>(server: SimulatorServer, fn: () => Promise<T>): Promise<{ cost: WireCost; result: T }> {
  server.resetStats();
  const result = await fn();
  const s = server.stats;
  const bytes = s.bytesIn + s.bytesOut;
  return {
    result,
    cost: {
      bytes_to_unit: s.bytesIn,
      bytes_from_unit: s.bytesOut,
      round_trips: s.roundTrips,
      modelled_link_s: +(bytes / LINK_BYTES_PER_S + s.roundTrips * ROUND_TRIP_S).toFixed(2),
    },
  };
}
