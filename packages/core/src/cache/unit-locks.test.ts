/** UnitLocks over a lease table: exclusive in-process and across processes, with the stale-lease rules. */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DeviceBusy } from '../client/errors.js';
import { systemClock } from '../clock.js';
import { ProcessLeases } from './process-leases.js';
import type { LeaseHolder } from './store.js';
import { UnitLocks } from './unit-locks.js';

/** Who holds `key` now (a probe that takes a free lease gives it back at once). */
async function holderOf(leases: ProcessLeases, key: string): Promise<LeaseHolder | undefined> {
  const probe: LeaseHolder = { owner: 'probe', host: 'probe', pid: 0, expiresAt: 1 };
  const r = await leases.tryAcquire(key, probe, { now: 0 });
  if (!r.acquired) return r.heldBy;
  await leases.release(key, 'probe');
  return undefined;
}

/** Another process holds `key` until `expiresAt`. */
async function plant(leases: ProcessLeases, key: string, h: LeaseHolder): Promise<void> {
  expect((await leases.tryAcquire(key, h, { now: 0, takeOverFrom: (await holderOf(leases, key))?.owner })).acquired).toBe(true);
}

const other = (pid: number, expiresAt: number, host = 'other-host'): LeaseHolder => ({ owner: `${host}:${pid}:x#1`, host, pid, expiresAt });

/** Polls until `cond` holds (or fails the test after ~2.5 s). */
async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 5));
  expect(await cond()).toBe(true);
}

describe('UnitLocks', () => {
  it('a holder learns that someone waits: a waiter here, or another process that failed to take the lease', async () => {
    const table = new ProcessLeases(() => undefined);
    const locks = new UnitLocks(table, { clock: systemClock });
    const a = await locks.acquire('unit:BE1', 1000);
    expect(await a.wanted()).toBe(false);
    const b = locks.acquire('unit:BE1', 1000);
    expect(await a.wanted()).toBe(true);
    await a.release();
    const held = await b;
    expect(await held.wanted()).toBe(false);
    // another process polls for it
    expect((await table.tryAcquire('unit:BE1', other(9, Date.now() + 60_000), { now: Date.now() })).acquired).toBe(false);
    expect(await held.wanted()).toBe(true);
    await held.release();
  });

  it('one holder at a time in this process; the next gets it when the first releases', async () => {
    const table = new ProcessLeases(() => undefined);
    const locks = new UnitLocks(table, { clock: systemClock });
    const a = await locks.acquire('unit:BE1', 1000);
    let second = false;
    const b = locks.acquire('unit:BE1', 1000).then((l) => ((second = true), l));
    // The second waits on the first's release, not on time: a turn of the event loop changes nothing.
    await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    expect((await holderOf(table, 'unit:BE1'))?.pid).toBe(process.pid);
    await a.release();
    const held = await b;
    expect(second).toBe(true);
    await held.release();
    expect(await holderOf(table, 'unit:BE1')).toBeUndefined();
  });

  it('different keys do not wait for each other', async () => {
    const locks = new UnitLocks(new ProcessLeases(() => undefined), { clock: systemClock });
    const a = await locks.acquire('unit:BE1', 1000);
    const b = await locks.acquire('unit:BE2', 10);
    await Promise.all([a.release(), b.release()]);
  });

  it('a wait longer than allowed is DEVICE_BUSY, locally and behind another process', async () => {
    const table = new ProcessLeases(() => undefined);
    const locks = new UnitLocks(table, { clock: systemClock });
    const a = await locks.acquire('addr:x', 1000);
    await expect(locks.acquire('addr:x', 30)).rejects.toBeInstanceOf(DeviceBusy);
    await a.release();
    await plant(table, 'addr:y', other(4242, Date.now() + 60_000));
    await expect(locks.acquire('addr:y', 60, 'tcp:10.0.0.1:12345')).rejects.toThrow(/another sfm process \(pid 4242 on other-host\)/);
    // the local lane was given back: the key is free for the next caller once the lease is
    await table.release('addr:y', other(4242, 0).owner);
    await (await locks.acquire('addr:y', 100)).release();
  });

  it("another process's lease is taken once it expires", async () => {
    const table = new ProcessLeases(() => undefined);
    const locks = new UnitLocks(table, { clock: systemClock });
    await plant(table, 'unit:BE1', other(4242, Date.now() + 80));
    const held = await locks.acquire('unit:BE1', 5000);
    expect((await holderOf(table, 'unit:BE1'))?.pid).toBe(process.pid);
    await held.release();
  });

  it('a lease of a dead process on this host is taken at once; a live one is not', async () => {
    const table = new ProcessLeases(() => undefined);
    const alive = new Set([777]);
    const locks = new UnitLocks(table, { clock: systemClock, isAlive: (pid) => alive.has(pid) });
    await plant(table, 'unit:BE1', other(999, Date.now() + 60_000, hostname()));
    const held = await locks.acquire('unit:BE1', 50);
    await held.release();
    await plant(table, 'unit:BE2', other(777, Date.now() + 60_000, hostname()));
    await expect(locks.acquire('unit:BE2', 50)).rejects.toBeInstanceOf(DeviceBusy);
  });

  it('renews while held; says so when the lease was lost', async () => {
    const table = new ProcessLeases(() => undefined);
    const lost: string[] = [];
    const locks = new UnitLocks(table, { clock: systemClock, ttlMs: 300, renewMs: 10, onLost: (k) => lost.push(k) });
    const held = await locks.acquire('unit:BE1', 100);
    const first = (await holderOf(table, 'unit:BE1'))!.expiresAt;
    await until(async () => (await holderOf(table, 'unit:BE1'))!.expiresAt > first);
    await plant(table, 'unit:BE1', other(1, Date.now() + 60_000));
    await until(() => lost.length > 0);
    expect(lost[0]).toBe('unit:BE1');
    await held.release();
    // a release does not free what another holder took
    expect((await holderOf(table, 'unit:BE1'))?.pid).toBe(1);
  });
});
