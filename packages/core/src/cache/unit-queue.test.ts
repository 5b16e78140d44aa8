/** UnitQueue: one task per unit at a time, single-flight, and answers given before a task ends. */
import { describe, expect, it } from 'vitest';
import { DeviceBusy } from '../client/errors.js';
import { UnitQueue } from './unit-queue.js';

function gate(): { open: () => void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { open, wait };
}

describe('UnitQueue', () => {
  it('answers a request early while the task holds the unit; the next task starts only when it ends', async () => {
    const q = new UnitQueue();
    const after = gate();
    const order: string[] = [];
    let seenWaiting = -1;
    const first = q.run('unit', 'a', async (turn) => {
      turn.answer('early');
      await after.wait;
      seenWaiting = turn.waiting;
      order.push('first ends');
      return 'late';
    });
    expect(await first).toBe('early');
    const second = q.run('unit', 'b', async () => {
      order.push('second runs');
      return 2;
    });
    expect(q.pending).toBe(2);
    after.open();
    expect(await second).toBe(2);
    expect(order).toEqual(['first ends', 'second runs']);
    expect(seenWaiting).toBe(1);
  });

  it('a request for the same flight after the answer is a new request, not the answered one', async () => {
    const q = new UnitQueue();
    const after = gate();
    let runs = 0;
    const task = async (turn: { answer(v: number): void }) => {
      const n = ++runs;
      turn.answer(n);
      if (n === 1) await after.wait;
      return n;
    };
    expect(await q.run('unit', 'same', task)).toBe(1);
    const again = q.run('unit', 'same', task);
    after.open();
    expect(await again).toBe(2);
  });

  it('an error after the answer does not reach the request; idle waits for the work after the answer', async () => {
    const q = new UnitQueue();
    const after = gate();
    let done = false;
    const r = q.run('unit', 'a', async (turn) => {
      turn.answer('ok');
      await after.wait;
      done = true;
      throw new Error('after the answer');
    });
    expect(await r).toBe('ok');
    const idle = q.idle().then(() => done);
    after.open();
    expect(await idle).toBe(true);
    expect(q.pending).toBe(0);
  });

  it('tells each change of a unit\'s depth: running, waiting, done', async () => {
    const depths: string[] = [];
    const q = new UnitQueue({ onDepth: (unit, depth) => depths.push(`${unit}=${depth}`) });
    const first = gate();
    const a = q.run('u', 'a', () => first.wait.then(() => 1));
    const b = q.run('u', 'b', async () => 2);
    const c = q.run('v', 'c', async () => 3);
    first.open();
    await Promise.all([a, b, c]);
    await q.idle();
    expect(depths).toEqual(['u=1', 'u=2', 'v=1', 'v=0', 'u=1', 'u=0']);
  });

  it('a full queue still answers DEVICE_BUSY while a task works after its answer', async () => {
    const q = new UnitQueue({ maxQueued: 0 });
    const after = gate();
    await q.run('unit', 'a', async (turn) => {
      turn.answer(1);
      await after.wait;
      return 1;
    });
    await expect(q.run('unit', 'b', async () => 2)).rejects.toBeInstanceOf(DeviceBusy);
    after.open();
    await q.idle();
  });

  it('DEVICE_BUSY says how many requests wait, in words that fit the number', async () => {
    for (const [maxQueued, said] of [[0, 'unit: the unit is busy and no request may wait for it'], [1, 'unit: 1 request is already waiting for this unit'], [2, 'unit: 2 requests are already waiting for this unit']] as const) {
      const q = new UnitQueue({ maxQueued });
      const after = gate();
      const running = q.run('unit', 'a', async () => after.wait);
      const waiting = Array.from({ length: maxQueued }, (_, i) => q.run('unit', `w${i}`, async () => undefined));
      await expect(q.run('unit', 'over', async () => undefined)).rejects.toThrow(said);
      after.open();
      await Promise.all([running, ...waiting]);
    }
  });
});
