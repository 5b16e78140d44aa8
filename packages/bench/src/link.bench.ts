/**
 * L1–L5 (shared/bench/WORKLOADS.md): what the relay costs on the device link, counted exactly on
 * the emulated unit (bytes both ways, round trips) and modelled at 38400 baud with a 1 s modem
 * hold: bytes / 3840 + round trips × 1.0 s. Counts are machine-independent.
 *
 * Each row counts what crossed the link until the answer, and separately what crossed it after the
 * answer until the unit's session closed (the relay's work once nobody waits: pending project text).
 * Checks (on the answer; L5 on both): L1 ≤ 5 round trips per event on a cold list; L2 ≤ 5 round
 * trips whatever the number of events; L3 grows only with the new events; L5 moves no byte. L4 is reported against the physical
 * limit — the waveform's encoded bytes ÷ 3840 B/s — with its round trips beside it (no verdict:
 * a floor that adds the measured round trips back would pass any count).
 */
import { MemoryStore } from '@sfm/store-memory';
import { RelayService } from '@sfm/core/cache';
import { TransportRegistry, type DeviceTarget } from '@sfm/core/transport';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { LINK_BYTES_PER_S, ROUND_TRIP_S, measure, type WireCost } from './link.js';
import { report } from './report.js';

const transports = new TransportRegistry().register(tcpTransportFactory);

async function unit(events: number, recordTimeS: number): Promise<{ sim: RunningSimulator; target: DeviceTarget; relay: RelayService }> {
  const sim = await startSimulator({ events, recordTimeS, baud: 0, forwardDelayMs: 0, memoryTotal: 256 * 1024 * 1024, host: '127.0.0.1', port: 0 });
  return { sim, target: { kind: 'tcp', host: '127.0.0.1', port: sim.address.port }, relay: new RelayService(transports, new MemoryStore()) };
}

export async function runLinkBench(): Promise<{ ok: boolean }> {
  interface Row extends WireCost {
    id: string;
    note: string;
    events?: number;
    round_trips_per_event?: number;
    /** After the answer, until the unit's session closed. */
    after_answer: WireCost;
  }
  const rows: Row[] = [];
  const add = (id: string, m: { cost: WireCost; after: WireCost }, note = '', events?: number): WireCost => {
    rows.push({ id, ...m.cost, note, ...(events ? { events, round_trips_per_event: +(m.cost.round_trips / events).toFixed(2) } : {}), after_answer: m.after });
    return m.cost;
  };

  // L1–L3 on a unit holding 100 events.
  {
    const { sim, target, relay } = await unit(100, 1);
    try {
      add('L1_cold_sync_100', await measure(sim.server, () => relay.events(target)), 'first /device/events, 100 events', 100);
      add('L2_resync_0_new (100 events)', await measure(sim.server, () => relay.events(target)), 'same call again');
      for (let i = 0; i < 5; i++) sim.unit.recordEvent();
      add('L3_resync_5_new', await measure(sim.server, () => relay.events(target)), '5 new events since', 5);
      for (let i = 0; i < 5; i++) sim.unit.recordEvent();
      add('L3_resync_5_new (again)', await measure(sim.server, () => relay.events(target)), 'grows only with the new events', 5);
    } finally {
      relay.store.close();
      await sim.close();
    }
  }
  // L2 with 1000 events: the probe must not grow.
  {
    const { sim, target, relay } = await unit(1000, 0.25);
    try {
      await measure(sim.server, () => relay.events(target));
      add('L2_resync_0_new (1000 events)', await measure(sim.server, () => relay.events(target)), 'same probe at 10× the events');
    } finally {
      relay.store.close();
      await sim.close();
    }
  }
  // L4 and L5 on a unit with one 10-s event at 1024 Sa/s.
  let l4: Record<string, number> | undefined;
  {
    const { sim, target, relay } = await unit(1, 10);
    try {
      await measure(sim.server, () => relay.events(target));
      const m = await measure(sim.server, () => relay.waveform(target, 0));
      const { cost } = m;
      const stored = sim.unit.record(parseInt(sim.unit.events[0]!.key, 16)) as { memory: Uint8Array };
      // The physical limit: the encoded event crossing the line once at 3840 B/s, nothing else.
      const encoded = stored.memory.length;
      const limitS = encoded / LINK_BYTES_PER_S;
      const wire = cost.bytes_to_unit + cost.bytes_from_unit;
      l4 = {
        encoded_bytes: encoded,
        physical_limit_s: +limitS.toFixed(2),
        modelled_link_s: cost.modelled_link_s,
        ratio_to_physical_limit: +(cost.modelled_link_s / limitS).toFixed(2),
        wire_bytes: wire,
        wire_bytes_per_encoded_byte: +(wire / encoded).toFixed(3),
        bytes_s: +(wire / LINK_BYTES_PER_S).toFixed(2),
        round_trips: cost.round_trips,
        round_trip_s: +(cost.round_trips * ROUND_TRIP_S).toFixed(2),
      };
      add('L4_waveform_10s', m, `encoded ${encoded} B; physical limit ${limitS.toFixed(1)} s; ${l4.ratio_to_physical_limit}× the limit (${cost.round_trips} round trips = ${l4.round_trip_s} s of it)`);
      await measure(sim.server, () => relay.info(target));
      await measure(sim.server, () => relay.status(target));
      add('L5_hits', await measure(sim.server, async () => {
        await relay.info(target);
        await relay.waveform(target, 0);
        await relay.status(target);
      }), 'info, waveform and status hits');
    } finally {
      relay.store.close();
      await sim.close();
    }
  }
  const row = (id: string) => rows.find((r) => r.id === id)!;
  const rt = (id: string) => row(id).round_trips;
  const l5 = row('L5_hits');
  const l1PerEvent = row('L1_cold_sync_100').round_trips_per_event!;
  const checks = {
    // Headers first: a cold list of 100 events answered in ≤ 5 round trips per event.
    L1_max_5_round_trips_per_event: l1PerEvent <= 5,
    // The probe: session start (2), serial, storage range, lifetime counter.
    L2_max_5_round_trips: rt('L2_resync_0_new (100 events)') <= 5 && rt('L2_resync_0_new (1000 events)') <= 5,
    L3_grows_only_with_new: rt('L3_resync_5_new') === rt('L3_resync_5_new (again)'),
    L5_zero_bytes: l5.bytes_to_unit + l5.bytes_from_unit + l5.after_answer.bytes_to_unit + l5.after_answer.bytes_from_unit === 0,
  };
  const ok = Object.values(checks).every(Boolean);
  report({ group: 'link', model: 'bytes / 3840 + round_trips × 1.0 s', rows, L4: l4, checks, ok }, [
    ['workload', 'bytes→unit', 'bytes←unit', 'round trips', 'rt/event', 'link s', 'after answer: rt', 'link s', 'note'],
    ...rows.map((r) => [
      r.id, String(r.bytes_to_unit), String(r.bytes_from_unit), String(r.round_trips), r.round_trips_per_event?.toFixed(2) ?? '', r.modelled_link_s.toFixed(1),
      String(r.after_answer.round_trips), r.after_answer.modelled_link_s.toFixed(1), r.note,
    ]),
    ['L4 vs physical limit', '', '', String(l4?.round_trips ?? '—'), '', `${l4?.ratio_to_physical_limit ?? '—'}×`, '', '', `limit ${l4?.physical_limit_s} s (encoded bytes ÷ 3840); wire bytes ${l4?.wire_bytes_per_encoded_byte}× encoded; reported, no target`],
    ...Object.entries(checks).map(([k, v]) => [k, '', '', '', k.startsWith('L1') ? `${l1PerEvent.toFixed(2)}` : '', v ? 'met' : 'NOT MET', '', '', '']),
  ]);
  return { ok };
}
