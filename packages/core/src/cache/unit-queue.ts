/**
 * One queue per unit: the hardware takes one session at a time. Bounded (a full queue answers
 * DeviceBusy at once) with a wait limit (a request that waited too long gives DeviceBusy);
 * identical concurrent requests share one device transaction (single-flight); different units
 * run in parallel.
 */
import { DeviceBusy } from '../client/errors.js';

export interface QueueOptions {
  /** Requests waiting per unit, beyond the one running (default 32). */
  maxQueued?: number;
  /** How long a request may wait for its turn (default 120 s). */
  maxWaitMs?: number;
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

class Lane {
  running = false;
  readonly waiting: Waiter[] = [];
}

export class UnitQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly flights = new Map<string, Promise<unknown>>();
  private readonly maxQueued: number;
  private readonly maxWaitMs: number;

  constructor(opts: QueueOptions = {}) {
    this.maxQueued = opts.maxQueued ?? 32;
    this.maxWaitMs = opts.maxWaitMs ?? 120_000;
  }

  /**
   * Runs `task` when the unit is free. Requests with the same `flightKey` that arrive while one
   * is queued or running get that one's result instead of a transaction of their own.
   */
  run<T>(unitKey: string, flightKey: string, task: () => Promise<T>): Promise<T> {
    const shared = this.flights.get(flightKey);
    if (shared) return shared as Promise<T>;
    const p = this.enqueue(unitKey, task).finally(() => {
      if (this.flights.get(flightKey) === p) this.flights.delete(flightKey);
    });
    this.flights.set(flightKey, p);
    return p;
  }

  private enqueue<T>(unitKey: string, task: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(unitKey);
    if (!lane) {
      lane = new Lane();
      this.lanes.set(unitKey, lane);
    }
    const l = lane;
    const exec = async (): Promise<T> => {
      try {
        return await task();
      } finally {
        this.next(unitKey, l);
      }
    };
    if (!l.running) {
      l.running = true;
      return exec();
    }
    if (l.waiting.length >= this.maxQueued) {
      return Promise.reject(new DeviceBusy(`${unitKey}: ${l.waiting.length} requests are already waiting for this unit`));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          exec().then(resolve, reject);
        },
        timer: setTimeout(() => {
          const i = l.waiting.indexOf(waiter);
          if (i >= 0) l.waiting.splice(i, 1);
          reject(new DeviceBusy(`${unitKey}: the unit stayed busy for ${Math.round(this.maxWaitMs / 1000)} s`));
        }, this.maxWaitMs),
      };
      l.waiting.push(waiter);
    });
  }

  private next(unitKey: string, lane: Lane): void {
    const w = lane.waiting.shift();
    if (w) {
      w.start();
      return;
    }
    lane.running = false;
    this.lanes.delete(unitKey);
  }

  /** Requests running or waiting, per unit (for stats and graceful shutdown). */
  get pending(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += (l.running ? 1 : 0) + l.waiting.length;
    return n;
  }

  /** Resolves when nothing is running or waiting. */
  async idle(): Promise<void> {
    while (this.flights.size > 0) await Promise.allSettled([...this.flights.values()]);
  }
}
