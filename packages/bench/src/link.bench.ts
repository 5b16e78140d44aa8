/**
 * L1–L5 (shared/bench/WORKLOADS.md): what the relay costs on the device link, counted exactly on
 * the emulated unit (bytes both ways, round trips) and modelled at 38400 baud with a 1 s modem
 * hold: bytes / 3840 + round trips × 1.0 s. Counts are machine-independent.
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
  const rows: (WireCost & { id: string; note: string })[] = [];
  const add = (id: string, cost: WireCost, note = '') => rows.push({ id, ...cost, note });

  // L1–L3 on a unit holding 100 events.
  {
    const { sim, target, relay } = await unit(100, 1);
    try {
      add('L1_cold_sync_100', (await measure(sim.server, () => relay.events(target))).cost, 'first /device/events, 100 events');
      add('L2_resync_0_new (100 events)', (await measure(sim.server, () => relay.events(target))).cost, 'same call again');
      for (let i = 0; i < 5; i++) sim.unit.recordEvent();
      add('L3_resync_5_new', (await measure(sim.server, () => relay.events(target))).cost, '5 new events since');
      for (let i = 0; i < 5; i++) sim.unit.recordEvent();
      add('L3_resync_5_new (again)', (await measure(sim.server, () => relay.events(target))).cost, 'grows only with the new events');
    } finally {
      relay.store.close();
      await sim.close();
    }
  }
  // L2 with 1000 events: the probe must not grow.
  {
    const { sim, target, relay } = await unit(1000, 0.25);
    try {
      await relay.events(target);
      add('L2_resync_0_new (1000 events)', (await measure(sim.server, () => relay.events(target))).cost, 'same probe at 10× the events');
    } finally {
      relay.store.close();
      await sim.close();
    }
  }
  // L4 and L5 on a unit with one 10-s event at 1024 Sa/s.
  let l4Ratio = 0;
  {
    const { sim, target, relay } = await unit(1, 10);
    try {
      await relay.events(target);
      const { cost } = await measure(sim.server, () => relay.waveform(target, 0));
      const stored = sim.unit.record(parseInt(sim.unit.events[0]!.key, 16)) as { fileData: Uint8Array };
      // The floor: the encoded event crossing the line once, and one round trip per request the protocol needs.
      const limit = stored.fileData.length / LINK_BYTES_PER_S + cost.round_trips * ROUND_TRIP_S;
      l4Ratio = cost.modelled_link_s / limit;
      add('L4_waveform_10s', cost, `encoded ${stored.fileData.length} B; link limit + round-trip floor ${limit.toFixed(1)} s; ratio ${l4Ratio.toFixed(3)}`);
      await relay.info(target);
      await relay.status(target);
      add('L5_hits', (await measure(sim.server, async () => {
        await relay.info(target);
        await relay.waveform(target, 0);
        await relay.status(target);
      })).cost, 'info, waveform and status hits');
    } finally {
      relay.store.close();
      await sim.close();
    }
  }
  const rt = (id: string) => rows.find((r) => r.id === id)!.round_trips;
  const l5 = rows.find((r) => r.id === 'L5_hits')!;
  const checks = {
    // The probe: session start (2), serial, storage range, lifetime counter — one more than before the counter.
    L2_max_5_round_trips: rt('L2_resync_0_new (100 events)') <= 5 && rt('L2_resync_0_new (1000 events)') <= 5,
    L3_grows_only_with_new: rt('L3_resync_5_new') === rt('L3_resync_5_new (again)'),
    L4_within_1_1x: l4Ratio <= 1.1,
    L5_zero_bytes: l5.bytes_to_unit + l5.bytes_from_unit === 0,
  };
  const ok = Object.values(checks).every(Boolean);
  report({ group: 'link', model: 'bytes / 3840 + round_trips × 1.0 s', rows, checks, ok }, [
    ['workload', 'bytes→unit', 'bytes←unit', 'round trips', 'link s', 'note'],
    ...rows.map((r) => [r.id, String(r.bytes_to_unit), String(r.bytes_from_unit), String(r.round_trips), r.modelled_link_s.toFixed(1), r.note]),
    ...Object.entries(checks).map(([k, v]) => [k, '', '', '', v ? 'met' : 'NOT MET', '']),
  ]);
  return { ok };
}
