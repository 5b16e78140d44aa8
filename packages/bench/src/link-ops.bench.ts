/**
 * What each device operation costs on the wire, without a cache (from the emulator's stats):
 * a unit holding 10 events (3 s at 1024 Sa/s) and one monitor-log record.
 */
import { MiniMateClient, withSession, type ClientOptions } from '@sfm/core/client';
import { startSimulator } from '@sfm/simulator';
import { TcpTransport } from '@sfm/transport-tcp';
import { measure, type WireCost } from './link.js';
import { report } from './report.js';

export async function runLinkOpsBench(): Promise<{ ok: boolean }> {
  const sim = await startSimulator({ events: 10, recordTimeS: 3, includeMonitorLog: true, monitorSettleMs: 0, baud: 0, forwardDelayMs: 0 });
  const transport = new TcpTransport({ kind: 'tcp', host: sim.address.host, port: sim.address.port });
  const opts: ClientOptions = { monitorPollMs: 1 };
  const key0 = parseInt(sim.unit.events[0]!.key, 16);
  const last = parseInt(sim.unit.events.at(-1)!.key, 16);
  const ops: [string, (c: MiniMateClient) => Promise<unknown>][] = [
    ['session start (reset + POLL)', async () => undefined],
    ['serial number', (c) => c.readSerialNumber()],
    ['storage range', (c) => c.readStorageRange()],
    ['monitor status', (c) => c.readMonitorStatus()],
    ['device info (15, 01, 1A×3, 08)', (c) => c.readDeviceInfo()],
    ['list keys (11 records)', (c) => c.listKeys()],
    ['read events (11 records)', (c) => c.readEvents()],
    ['read events after the last key', (c) => c.readEvents({ afterKey: last })],
    ['download waveform (3 s)', (c) => c.downloadWaveform(key0)],
    ['start monitoring', (c) => c.startMonitoring()],
    ['stop monitoring', (c) => c.stopMonitoring()],
    ['config write (partial)', (c) => c.writeCompliance({ trigger_level_ips: 0.3 })],
    ['call-home read', (c) => c.readCallHome()],
    ['call-home write', (c) => c.writeCallHome({ enabled: true })],
    ['erase all', (c) => c.eraseAll()],
  ];
  const rows: (WireCost & { operation: string })[] = [];
  try {
    for (const [operation, op] of ops) {
      const { cost } = await measure(sim.server, () => withSession(transport, opts, op));
      rows.push({ operation, ...cost });
    }
  } finally {
    await sim.close();
  }
  report({ group: 'link_ops', note: 'each row is one whole session, including its start (3 requests)', rows }, [
    ['operation', 'bytes→unit', 'bytes←unit', 'round trips', 'link s'],
    ...rows.map((r) => [r.operation, String(r.bytes_to_unit), String(r.bytes_from_unit), String(r.round_trips), r.modelled_link_s.toFixed(1)]),
  ]);
  return { ok: true };
}
