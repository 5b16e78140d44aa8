/**
 * One behaviour suite, run on the mock binding and on a real serial device node (a socat pty
 * pair), the node-serialport way: what passes on the mock must hold on a real port.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { DeviceUnreachable } from '@sfm/core/client';
import { DEFAULT_BAUD, type Link } from '@sfm/core/transport';
import { SerialTransport, createPtyPair, type BindingInterface, type PtyPair } from './index.js';
import { ByteSink, mockCable, receive } from './support.test-helpers.js';

interface Rig {
  /** The host end: what SerialTransport opens. */
  path: string;
  /** A path where no port is. */
  missingPath: string;
  /** undefined: the real binding (the default). */
  binding: BindingInterface | undefined;
  /** The device end. */
  deviceWrite(bytes: Uint8Array): Promise<void>;
  toDevice: ByteSink;
  /** Takes the device away mid-session (pulls the adapter / kills the cable). */
  unplug(): Promise<void>;
  teardown(): Promise<void>;
}

function serialBehaviour(name: string, setup: () => Promise<Rig>): void {
  describe(name, () => {
    let rig: Rig | undefined;
    let setupError: unknown;
    const links: Link[] = [];
    // A rig that cannot be set up (no socat) fails every test with its reason: nothing is skipped.
    const r = (): Rig => {
      if (setupError) throw setupError;
      if (!rig) throw new Error('the rig did not set up');
      return rig;
    };
    const transport = (): SerialTransport => {
      const { path, binding } = r();
      return new SerialTransport({ kind: 'serial', path, baud: DEFAULT_BAUD }, binding ? { binding } : {});
    };
    const open = async (): Promise<Link> => {
      r();
      const link = await transport().open({ timeoutMs: 5_000 });
      links.push(link);
      return link;
    };

    beforeAll(async () => {
      try {
        rig = await setup();
      } catch (e) {
        setupError = e;
      }
    });
    afterAll(async () => {
      await rig?.teardown();
    });
    afterEach(async () => {
      await Promise.all(links.splice(0).map((l) => l.close()));
      rig?.toDevice.clear();
    });

    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    const blob = (() => {
      const b = new Uint8Array(64 * 1024);
      let x = 0x2545f491;
      for (let i = 0; i < b.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        b[i] = x & 0xff;
      }
      return b;
    })();

    it('passes all 256 byte values both ways, unmodified', async () => {
      const link = await open();
      const rx = receive(link);
      await link.write(every);
      expect(new Uint8Array(await r().toDevice.waitFor(256))).toEqual(every);
      await r().deviceWrite(every);
      expect(new Uint8Array(await rx.sink.waitFor(256))).toEqual(every);
      expect(r().toDevice.bytes().length).toBe(256);
      expect(rx.sink.bytes().length).toBe(256);
    });

    it('passes a 64 KiB blob both ways, unmodified', async () => {
      const link = await open();
      const rx = receive(link);
      await link.write(blob);
      expect(new Uint8Array(await r().toDevice.waitFor(blob.length))).toEqual(blob);
      await r().deviceWrite(blob);
      expect(new Uint8Array(await rx.sink.waitFor(blob.length))).toEqual(blob);
      expect(rx.sink.bytes().length).toBe(blob.length);
    });

    it('closes cleanly and re-opens the same path', async () => {
      for (let round = 0; round < 3; round++) {
        const link = await open();
        const rx = receive(link);
        await link.write(Uint8Array.of(0x10, 0x02, round));
        expect([...(await r().toDevice.waitFor(3))]).toEqual([0x10, 0x02, round]);
        await r().deviceWrite(Uint8Array.of(0x41, round));
        expect([...(await rx.sink.waitFor(2))]).toEqual([0x41, round]);
        await link.close();
        expect(link.isOpen).toBe(false);
        expect(await rx.closed).toBeUndefined();
        r().toDevice.clear();
      }
    });

    it('close() is idempotent, and a write after close fails with DeviceUnreachable', async () => {
      const link = await open();
      const rx = receive(link);
      await link.close();
      await link.close();
      await Promise.all([link.close(), link.close()]);
      expect(await rx.closed).toBeUndefined();
      const err = await link.write(Uint8Array.of(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceUnreachable);
      expect((err as Error).message).toMatch(/^serial:.*: the link is closed$/);
      // ...and the port was released: it opens again.
      await (await open()).close();
    });

    it('a second open while the port is open fails with DeviceUnreachable (exclusive lock)', async () => {
      const first = await open();
      const rx = receive(first);
      const err = await transport().open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceUnreachable);
      expect((err as Error).message).toContain(`serial:${r().path}:${DEFAULT_BAUD}: port is locked or busy`);
      // The first session is unharmed.
      await first.write(Uint8Array.of(0xaa));
      expect([...(await r().toDevice.waitFor(1))]).toEqual([0xaa]);
      await r().deviceWrite(Uint8Array.of(0x55));
      expect([...(await rx.sink.waitFor(1))]).toEqual([0x55]);
      await first.close();
      await (await open()).close();
    });

    it('a missing port fails with DeviceUnreachable naming the path', async () => {
      const { missingPath, binding } = r();
      const t = new SerialTransport({ kind: 'serial', path: missingPath, baud: DEFAULT_BAUD }, binding ? { binding } : {});
      const err = await t.open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceUnreachable);
      expect((err as Error).message).toContain(`serial:${missingPath}:${DEFAULT_BAUD}: no such port`);
    });

    // Last: the device is gone afterwards.
    it('the device going away mid-session ends the link with closed(DeviceUnreachable)', async () => {
      const link = await open();
      const rx = receive(link);
      await link.write(Uint8Array.of(1, 2));
      await r().toDevice.waitFor(2);
      await r().unplug();
      const err = await rx.closed;
      expect(err).toBeInstanceOf(DeviceUnreachable);
      expect(err!.message).toMatch(new RegExp(`^serial:${r().path}:${DEFAULT_BAUD}: the device went away`));
      expect(link.isOpen).toBe(false);
      await expect(link.write(Uint8Array.of(3))).rejects.toBeInstanceOf(DeviceUnreachable);
      await link.close();
    });
  });
}

serialBehaviour('SerialTransport behaviour — mock binding', async () => {
  const path = '/dev/ttyMOCK0';
  const cable = mockCable(path);
  return {
    path,
    missingPath: '/dev/ttyMOCK-missing',
    binding: cable.binding,
    deviceWrite: async (bytes) => cable.deviceWrite(bytes),
    toDevice: cable.toDevice,
    unplug: async () => cable.unplug(),
    teardown: async () => {},
  };
});

serialBehaviour('SerialTransport behaviour — real serial device node (socat pty pair)', async () => {
  // Fails (does not skip) without socat: createPtyPair says to install it.
  const pair: PtyPair = await createPtyPair();
  const toDevice = new ByteSink();
  const device = await new Promise<SerialPort>((resolve, reject) => {
    const p = new SerialPort({ path: pair.b, baudRate: DEFAULT_BAUD, autoOpen: false });
    p.open((err) => (err ? reject(err) : resolve(p)));
  });
  device.on('data', (chunk: Buffer) => toDevice.push(chunk));
  device.on('error', () => {});
  return {
    path: pair.a,
    missingPath: `${pair.a}-missing`,
    binding: undefined,
    deviceWrite: (bytes) => new Promise<void>((resolve, reject) => void device.write(Buffer.from(bytes), (e) => (e ? reject(e) : device.drain(() => resolve())))),
    toDevice,
    unplug: () => pair.close(),
    teardown: async () => {
      if (device.isOpen) await new Promise<void>((resolve) => device.close(() => resolve()));
      await pair.close();
    },
  };
});
