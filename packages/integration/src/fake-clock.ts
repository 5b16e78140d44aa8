/** A clock the test moves by hand: TTLs and polling without sleeping. */
import type { Clock } from '@sfm/core';

export class FakeClock implements Clock {
  constructor(public ms = Date.UTC(2026, 10, 24, 12, 0, 0)) {}
  now(): number {
    return this.ms;
  }
  async sleep(ms: number): Promise<void> {
    this.ms += ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
