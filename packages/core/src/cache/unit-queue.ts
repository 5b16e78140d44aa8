/**
 * One queue per unit: the hardware takes one session at a time. Bounded (a full queue answers
 * DeviceBusy at once) with a wait limit (a request that waited too long gives DeviceBusy);
 * identical concurrent requests share one device transaction (single-flight); different units
 * run in parallel. A task may answer its request before it ends (`turn.answer`) and go on with
 * work the answer does not need while it still holds the unit, watching `turn.waiting` to yield.
 */
import { DeviceBusy } from '../client/errors.js';

export interface QueueOptions {
  /** Requests waiting per unit, beyond the one running (default 32). */
  maxQueued?: number;
  /** How long a request may wait for its turn (default 120 s). */
  maxWaitMs?: number;
  /** Told a unit's depth (running + waiting) whenever it changes. */
  onDepth?: (unitKey: string, depth: number) => void;
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

/** What a running task knows of its turn. */
export interface Turn<T> {
  /** Gives the request (and every request sharing its flight) its answer now; the unit stays held until the task returns. */
  answer(value: T): void;
  /** Requests waiting for this unit now: work after the answer should stop when there are any. */
  readonly waiting: number;
}

class Lane {
  running = false;
  readonly waiting: Waiter[] = [];
}

export class UnitQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly flights = new Map<string, Promise<unknown>>();
  /** Every task running now, answered or not (graceful shutdown waits for them). */
  private readonly running = new Set<Promise<void>>();
  private readonly maxQueued: number;
  private readonly maxWaitMs: number;
  private readonly onDepth: (unitKey: string, depth: number) => void;

  constructor(opts: QueueOptions = {}) {
    this.maxQueued = opts.maxQueued ?? 32;
    this.maxWaitMs = opts.maxWaitMs ?? 120_000;
    this.onDepth = opts.onDepth ?? (() => undefined);
  }

  /**
   * Runs `task` when the unit is free. Requests with the same `flightKey` that arrive while one
   * is queued or running get that one's result instead of a transaction of their own.
   */
  run<T>(unitKey: string, flightKey: string, task: (turn: Turn<T>) => Promise<T>): Promise<T> {
    const shared = this.flights.get(flightKey);
    if (shared) return shared as Promise<T>;
    const p = this.enqueue(unitKey, task).finally(() => {
      if (this.flights.get(flightKey) === p) this.flights.delete(flightKey);
    });
    this.flights.set(flightKey, p);
    return p;
  }

  private enqueue<T>(unitKey: string, task: (turn: Turn<T>) => Promise<T>): Promise<T> {
    let lane = this.lanes.get(unitKey);
    if (!lane) {
      lane = new Lane();
      this.lanes.set(unitKey, lane);
    }
    const l = lane;
    const exec = (): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        // The first of answer(), return or throw settles the request; later ones change nothing.
        const turn: Turn<T> = { answer: resolve, get waiting() { return l.waiting.length; } };
        const done = task(turn).then(resolve, reject).finally(() => {
          this.running.delete(done);
          this.next(unitKey, l);
        });
        this.running.add(done);
      });
    if (!l.running) {
      l.running = true;
      this.onDepth(unitKey, 1);
      return exec();
    }
    if (l.waiting.length >= this.maxQueued) {
      const n = l.waiting.length;
      const why = n === 0 ? 'the unit is busy and no request may wait for it' : `${n} request${n === 1 ? ' is' : 's are'} already waiting for this unit`;
      return Promise.reject(new DeviceBusy(`${unitKey}: ${why}`));
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
          this.onDepth(unitKey, this.depthOf(unitKey));
          reject(new DeviceBusy(`${unitKey}: the unit stayed busy for ${Math.round(this.maxWaitMs / 1000)} s`));
        }, this.maxWaitMs),
      };
      l.waiting.push(waiter);
      this.onDepth(unitKey, this.depthOf(unitKey));
    });
  }

  private next(unitKey: string, lane: Lane): void {
    const w = lane.waiting.shift();
    if (w) {
      this.onDepth(unitKey, this.depthOf(unitKey));
      w.start();
      return;
    }
    lane.running = false;
    this.lanes.delete(unitKey);
    this.onDepth(unitKey, 0);
  }

  /** Requests running or waiting for one unit. */
  depthOf(unitKey: string): number {
    const l = this.lanes.get(unitKey);
    return l ? (l.running ? 1 : 0) + l.waiting.length : 0;
  }

  /** Requests running or waiting, per unit (for stats and graceful shutdown). */
  get pending(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += (l.running ? 1 : 0) + l.waiting.length;
    return n;
  }

  /** Resolves when nothing is running or waiting (work after an answer included). */
  async idle(): Promise<void> {
    while (this.flights.size > 0 || this.running.size > 0) await Promise.allSettled([...this.flights.values(), ...this.running]);
  }
}
