/**
 * Each fault the emulator can inject gives the client the right typed error within its timeout
 * (or is absorbed by the one retry a read gets), and the next session works.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceTimeout, DeviceUnreachable, ProtocolError } from '@sfm/core/client';
import { session, tcpUnit, FAST, type UnitFixture } from '@sfm/test-support';

const QUICK = { ...FAST, frameTimeoutMs: 300, chunkTimeoutMs: 300 };

describe('link faults', () => {
  let u: UnitFixture;
  beforeEach(async () => {
    u = await tcpUnit({ events: 2, recordTimeS: 2 });
  });
  afterEach(async () => {
    await u.close();
  });
  const firstKey = () => parseInt(u.sim.unit.events[0]!.key, 16);
  const nextSessionWorks = async () => {
    u.sim.server.clearFaults();
    expect((await session(u, (c) => c.readSerialNumber(), QUICK)).serial).toBe('BE18189');
  };

  it('the link dropped mid-waveform → DeviceUnreachable; the next session downloads it', async () => {
    u.sim.server.dropAfterBytes(2500);
    const err = await session(u, (c) => c.downloadWaveform(firstKey()), QUICK).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect(err.message).toMatch(/tcp:127\.0\.0\.1:\d+/);
    await nextSessionWorks();
    const w = await session(u, (c) => c.downloadWaveform(firstKey()), QUICK);
    expect(w.body.channels.Tran.length).toBe(w.header.total_samples);
  });

  it('a corrupt reply to a read is retried once and the read succeeds', async () => {
    const serial = await session(u, async (c) => {
      u.sim.server.corruptNextFrame();
      return c.readSerialNumber();
    }, QUICK);
    expect(serial.serial).toBe('BE18189');
    expect(u.sim.server.stats.framesBySub['15']).toBe(2);
  });

  // Regression: the unit uses its 0A context up answering 1F (browse), so a bare retry of a
  // corrupt "next event key" answered "no more events" and the walk ended early — and the relay
  // then recorded a complete sync of a truncated list.
  it('a corrupt reply to "next event key" is retried with the context set again: every event is read', async () => {
    let first = true;
    const events = await session(u, (c) => c.readEvents({
      onEvent: () => {
        if (first) u.sim.server.corruptNextFrame(0x1f); // the walk's 1F after the first event
        first = false;
      },
    }), QUICK);
    expect(events.map((e) => e.timestamp)).toEqual(u.sim.unit.events.map((e) => e.timestamp));
    u.sim.server.corruptNextFrame(0x1f);
    const keys = await session(u, (c) => c.listKeys(), QUICK);
    expect(keys.map((k) => k.key)).toEqual(u.sim.unit.events.map((e) => parseInt(e.key, 16)));
  });

  it('a corrupt ack of a write is a ProtocolError and the write is not sent again', async () => {
    u.sim.server.corruptNextFrame(0x7e);
    const err = await session(u, (c) => c.writeCallHome({ enabled: true }), QUICK).catch((e) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toMatch(/call-home write/);
    expect(u.sim.server.stats.framesBySub['7E']).toBe(1);
    await nextSessionWorks();
  });

  it('a stalled unit → DeviceTimeout within the step timeout', async () => {
    const t0 = Date.now();
    const err = await session(u, async (c) => {
      u.sim.server.stall(5000);
      return c.readMonitorStatus();
    }, QUICK).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceTimeout);
    expect(err.message).toMatch(/monitor status: no reply within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
    await nextSessionWorks();
  });

  it('garbage before a reply is skipped or retried; the read succeeds', async () => {
    for (let i = 0; i < 5; i++) {
      const status = await session(u, async (c) => {
        u.sim.server.garbleNext(40);
        return c.readMonitorStatus();
      }, QUICK);
      expect(status.memory_total).toBe(983026);
    }
  });

  it('modem text in the middle of a session is noise', async () => {
    const events = await session(u, async (c) => {
      u.sim.server.modemTextNext();
      return c.readEvents();
    }, QUICK);
    expect(events).toHaveLength(2);
  });

  it('a unit that reboots mid-download (boot banner, state lost) → DeviceTimeout; the next session works', async () => {
    const err = await session(u, async (c) => {
      const p = c.downloadWaveform(firstKey(), {
        onProgress: ({ chunksDone }) => {
          if (chunksDone === 1) u.sim.server.rebootNow();
        },
      });
      return p;
    }, QUICK).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceTimeout);
    await nextSessionWorks();
  });

  it('nothing listening → DeviceUnreachable at connect', async () => {
    const addr = u.sim.address;
    await u.close();
    const err = await session(u, (c) => c.readSerialNumber(), QUICK).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceUnreachable);
    expect(err.message).toMatch(new RegExp(`tcp:127\\.0\\.0\\.1:${addr.port}.*refused`));
    u = await tcpUnit();
  });
});
