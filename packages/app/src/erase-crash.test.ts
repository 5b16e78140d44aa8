/**
 * Durability before destruction: `sfm erase` killed with SIGKILL at every stage of its session
 * (the list read, the project text, the archive's durable commit, the erase itself) never loses an
 * event that was on the unit — each is on the unit still, or in the archive of the SQLite file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedUnit, startSimulator, type RunningSimulator } from '@sfm/simulator';
import { SqliteStore } from '@sfm/store-sqlite';
import { assertBuilt, killAll, sfm, until } from './processes.test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sfm-erase-crash-'));
let sim: RunningSimulator;
beforeAll(async () => {
  assertBuilt();
  // A little modem hold per reply spreads the session out, so kills land at every stage.
  sim = await startSimulator({ events: 5, recordTimeS: 1, baud: 0, forwardDelayMs: 4, monitorSettleMs: 0, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  killAll();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function config(db: string): string {
  const file = join(dir, `sfm-${++n}.json`);
  writeFileSync(file, JSON.stringify({ plugins: ['transport-tcp', 'store-sqlite'], store: `sqlite:${db}`, devices: { unit: { host: '127.0.0.1', tcp_port: sim.address.port } }, frame_timeout_s: 5, log_level: 'silent' }));
  return file;
}

const identity = (e: { key: string; timestamp: string | null }) => `${e.key}@${e.timestamp}`;

async function archivedOf(db: string, serial: string): Promise<string[]> {
  const store = new SqliteStore(db);
  try {
    const out: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.archive.events({ serial, limit: 500, cursor });
      out.push(...page.items.map(identity));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  } finally {
    await store.close();
  }
}

describe('sfm erase killed at any point', () => {
  it('never loses an event: each is on the unit or in the archive', async () => {
    // One whole erase first: how many frames its session takes.
    const whole = join(dir, 'whole.db');
    let before = sim.server.stats.framesReceived;
    const done = await sfm(['erase', '--yes', '--device', 'unit', '--config', config(whole)]).done;
    expect(done.code, done.err).toBe(0);
    const frames = sim.server.stats.framesReceived - before;
    expect(frames).toBeGreaterThan(20);

    for (let cut = 1; cut <= 9; cut++) {
      sim.server.replaceUnit(new SimulatedUnit({ events: 5, recordTimeS: 1, seed: cut }));
      const onUnit = sim.unit.events.map(identity);
      const db = join(dir, `cut-${cut}.db`);
      before = sim.server.stats.framesReceived;
      const at = Math.max(1, Math.round((frames * cut) / 10));
      const run = sfm(['erase', '--yes', '--device', 'unit', '--config', config(db)]);
      let ended = false;
      void run.done.then(() => (ended = true));
      await until(() => ended || sim.server.stats.framesReceived - before >= at, `frame ${at} of the erase`);
      run.child.kill('SIGKILL');
      await run.done;
      const left = sim.unit.events.map(identity);
      const kept = await archivedOf(db, sim.unit.serial);
      for (const e of onUnit) expect(left.includes(e) || kept.includes(e), `cut at frame ${at} of ${frames}: ${e} is lost`).toBe(true);
    }
  }, 120_000);
});
