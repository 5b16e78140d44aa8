/**
 * Waking a unit (protocol.md §24 "Wake-up"): it hears nothing for 5–10 s after the line wakes it,
 * so the client sends the first POLL again until it answers, within its wake window — over real
 * TCP, against an emulated unit that sleeps after each connection opens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MiniMateClient, type ClientOptions } from '@sfm/core/client';
import { tcpUnit, type UnitFixture } from '@sfm/test-support';

let u: UnitFixture | undefined;
afterEach(async () => {
  await u?.close();
  u = undefined;
});

async function serialOf(fixture: UnitFixture, opts: ClientOptions) {
  const c = await MiniMateClient.connect(fixture.transport, opts);
  try {
    return { serial: (await c.readSerialNumber()).serial, stats: { ...c.stats } };
  } finally {
    await c.close();
  }
}

describe('the first POLL of a session', () => {
  it('is sent again while the unit wakes up, and the session goes on once it answers', async () => {
    u = await tcpUnit({ wakeMs: 600 });
    const { serial } = await serialOf(u, { frameTimeoutMs: 300, wakeWindowMs: 3000, wakeRetryMs: 150 });
    expect(serial).toBe('BE18189');
    const s = u.sim.server.stats;
    expect(s.bytesWhileAsleep).toBeGreaterThan(0); // the POLLs it slept through
    expect(s.framesBySub['5B']).toBeGreaterThanOrEqual(2); // the one it heard, and the POLL data
  });

  it('gives up after the window with a DEVICE_TIMEOUT that says how often it asked', async () => {
    u = await tcpUnit({ wakeMs: 60_000 });
    const started = performance.now();
    const err = await serialOf(u, { frameTimeoutMs: 100, wakeWindowMs: 500, wakeRetryMs: 100 }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'DEVICE_TIMEOUT', message: expect.stringMatching(/POLL: no reply within 0\.5 s \(sent [4-6] times;/) });
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('without a window, a sleeping unit fails at the first frame timeout', async () => {
    u = await tcpUnit({ wakeMs: 60_000 });
    const err = await serialOf(u, { frameTimeoutMs: 150, wakeWindowMs: 0 }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'DEVICE_TIMEOUT', message: expect.stringContaining('sent 1 time;') });
  });

  it('a slow unit that answers every POLL sent: the late answers are skipped, not taken for later replies', async () => {
    // At 2400 baud a POLL reply takes ~0.13 s on the line, so POLLs repeated every 50 ms are all answered, late.
    u = await tcpUnit({ baud: 2400 });
    const { serial, stats } = await serialOf(u, { frameTimeoutMs: 2000, wakeWindowMs: 2000, wakeRetryMs: 50 });
    expect(serial).toBe('BE18189');
    expect(stats.lateReplies).toBeGreaterThan(0);
  });
});
