/**
 * Per-unit locks that hold within this process and across every process sharing the store: the
 * hardware takes one session at a time, and two processes (`sfm serve` and the CLI, or several
 * relays) must never open two.
 *
 * In-process waiters queue on a local mutex (no polling); the holder then takes the store's lease,
 * renews it while it works and releases it at the end. A process that dies stops renewing: its
 * lease expires after `ttlMs`, or at once when it ran on this host and its pid is gone.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { DeviceBusy } from '../client/errors.js';
import type { Clock } from '../clock.js';
import { StoreUnavailable, type LeaseHolder, type LeaseStore } from './store.js';

export interface UnitLocksOptions {
  clock: Clock;
  /** How long a lease lasts without renewal (default 30 s). */
  ttlMs?: number;
  /** Renewal period (default ttl / 3). */
  renewMs?: number;
  /** Is a process on this host alive? (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  /** Called when a renewal found the lease taken (the work in progress is no longer exclusive). */
  onLost?: (key: string) => void;
  /** Called when the store could not keep the lease: the work goes ahead under the local lock only. */
  onUnshared?: (key: string, e: Error) => void;
}

export interface HeldLock {
  readonly key: string;
  release(): Promise<void>;
  /** Whether someone else waits for it now: in this process, or another (when the store can say). */
  wanted(): Promise<boolean>;
}

const HOST = hostname();
const PROCESS_ID = `${HOST}:${process.pid}:${randomBytes(4).toString('hex')}`;
/** Numbers every acquisition in this process: owners stay unique across UnitLocks instances. */
let acquisitions = 0;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LocalLane {
  held: boolean;
  waiters: (() => void)[];
}

export class UnitLocks {
  private readonly lanes = new Map<string, LocalLane>();
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly isAlive: (pid: number) => boolean;

  constructor(
    private readonly leases: LeaseStore,
    private readonly opts: UnitLocksOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.renewMs = opts.renewMs ?? Math.max(10, Math.floor(this.ttlMs / 3));
    this.isAlive = opts.isAlive ?? processAlive;
  }

  /** Waits until this caller holds `key` everywhere, or `waitMs` passes (DeviceBusy). */
  async acquire(key: string, waitMs: number, what = key): Promise<HeldLock> {
    const deadline = this.opts.clock.now() + waitMs;
    await this.localTurn(key, waitMs, what);
    try {
      const owner = `${PROCESS_ID}#${++acquisitions}`;
      const shared = await this.takeLease(key, owner, deadline, waitMs, what);
      return this.held(key, owner, shared);
    } catch (e) {
      this.localNext(key);
      throw e;
    }
  }

  private localTurn(key: string, waitMs: number, what: string): Promise<void> {
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { held: false, waiters: [] }));
    if (!lane.held) {
      lane.held = true;
      return Promise.resolve();
    }
    const l = lane;
    return new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = l.waiters.indexOf(turn);
        if (i >= 0) l.waiters.splice(i, 1);
        reject(new DeviceBusy(`${what}: the unit stayed busy for ${Math.round(waitMs / 1000)} s`));
      }, Math.max(0, waitMs));
      l.waiters.push(turn);
    });
  }

  private localNext(key: string): void {
    const lane = this.lanes.get(key);
    if (!lane) return;
    const next = lane.waiters.shift();
    if (next) next();
    else this.lanes.delete(key);
  }

  /**
   * Takes the store's lease; false when the store cannot keep leases now (read-only, down): the
   * work then goes ahead under the local lock alone — the store failing must not stop device work,
   * and other processes cannot use that store either.
   */
  private async takeLease(key: string, owner: string, deadline: number, waitMs: number, what: string): Promise<boolean> {
    let pause = 20;
    for (;;) {
      const now = this.opts.clock.now();
      const holder: LeaseHolder = { owner, host: HOST, pid: process.pid, expiresAt: now + this.ttlMs };
      let r;
      try {
        r = await this.leases.tryAcquire(key, holder, { now });
        if (!r.acquired && r.heldBy.host === HOST && r.heldBy.pid !== process.pid && !this.isAlive(r.heldBy.pid)) {
          // Its process is gone: the lease is stale now, not only when it expires.
          r = await this.leases.tryAcquire(key, holder, { now, takeOverFrom: r.heldBy.owner });
        }
      } catch (e) {
        if (!(e instanceof StoreUnavailable)) throw e;
        this.opts.onUnshared?.(key, e);
        return false;
      }
      if (r.acquired) return true;
      const left = deadline - this.opts.clock.now();
      if (left <= 0) {
        const h = r.heldBy;
        throw new DeviceBusy(`${what}: another sfm process (pid ${h.pid} on ${h.host}) is talking to this unit; waited ${Math.round(waitMs / 1000)} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
      pause = Math.min(pause * 2, 250);
    }
  }

  private held(key: string, owner: string, shared: boolean): HeldLock {
    let released = false;
    const timer = !shared ? undefined : setInterval(() => {
      this.leases.renew(key, owner, this.opts.clock.now() + this.ttlMs).then(
        (ok) => {
          if (!ok && !released) this.opts.onLost?.(key);
        },
        () => undefined, // a failed renewal is retried at the next tick; the lease lasts ttl
      );
    }, this.renewMs);
    timer?.unref();
    return {
      key,
      wanted: async () => (this.lanes.get(key)?.waiters.length ?? 0) > 0 || (shared && (await this.leases.wanted(key, owner).catch(() => false))),
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        try {
          if (shared) await this.leases.release(key, owner);
        } catch {
          // The store is unreachable: the lease expires by itself.
        } finally {
          this.localNext(key);
        }
      },
    };
  }
}

export const LOCK_PROCESS_ID = PROCESS_ID;
