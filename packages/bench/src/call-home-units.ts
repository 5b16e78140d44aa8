/**
 * The call-home group's emulated units, in a worker thread of their own (their work is not sfm's):
 * `count` units that each, while running, record an event and call the office, again and again,
 * at the modem's pace (`baud`, and its hold of `forwardDelayMs` before each burst). The first
 * calls are spread over `staggerMs`. Messages in: 'start'; 'stop' — the units hang up (a call cut
 * there ends DEVICE_UNREACHABLE at the office) and the calls made since 'start' are answered;
 * 'close'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SimulatedUnit, SimulatorServer } from '@sfm/simulator';

interface Setup {
  host: string;
  port: number;
  count: number;
  baud: number;
  forwardDelayMs: number;
  staggerMs: number;
}

const { host, port, count, baud, forwardDelayMs, staggerMs } = workerData as Setup;
const units = Array.from({ length: count }, (_, i) => new SimulatorServer(new SimulatedUnit({ serial: `BE${30000 + i}`, events: 0, seed: i + 1, recordTimeS: 1, monitorSettleMs: 0 }), { baud, forwardDelayMs }));
let running = false;
let loops: Promise<void>[] = [];
const tally = { calls: 0, failed: 0 };

async function loop(u: SimulatorServer, i: number): Promise<void> {
  await new Promise((r) => setTimeout(r, (staggerMs * i) / count));
  while (running) {
    u.unit.recordEvent();
    const r = await u.callHome({ host, port });
    tally.calls++;
    if (!r.connected) tally.failed++;
  }
}

parentPort!.on('message', async (m: string) => {
  if (m === 'start') {
    running = true;
    tally.calls = tally.failed = 0;
    loops = units.map(loop);
  } else if (m === 'stop') {
    running = false;
    for (const u of units) u.hangUp();
    await Promise.all(loops);
    parentPort!.postMessage({ ...tally });
  } else if (m === 'close') {
    await Promise.all(units.map((u) => u.close()));
    parentPort!.close();
  }
});
parentPort!.postMessage('ready');
