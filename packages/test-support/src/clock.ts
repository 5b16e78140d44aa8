/** The one test clock: TTLs, identity windows and polling move by hand instead of by sleeping. */
import { systemClock, type Clock } from '@sfm/core';

export class TestClock implements Clock {
  private offset = 0;

  private constructor(private readonly frozenAt: number | undefined) {}

  /** Time stands still until advanced; a sleep advances it at once (polling loops run instantly). */
  static frozen(at = Date.UTC(2026, 10, 24, 12, 0, 0)): TestClock {
    return new TestClock(at);
  }

  /** Real time plus what the test advanced: real timers and sockets keep working. */
  static shifted(): TestClock {
    return new TestClock(undefined);
  }

  now(): number {
    return (this.frozenAt ?? Date.now()) + this.offset;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.frozenAt === undefined) return systemClock.sleep(ms, signal);
    this.offset += ms;
    return Promise.resolve();
  }

  advance(ms: number): void {
    this.offset += ms;
  }
}
