/**
 * The `ach` settings as a configuration gives them (defaults from one declaration, every bad
 * value named with its key), and a caller's budgets on its link.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sfm/core';
import { DeviceTimeout, ProtocolError } from '@sfm/core/client';
import { readSettings } from '@sfm/core/kernel';
import { SUB, buildDeviceFrame } from '@sfm/core/protocol';
import type { Link, LinkReceiver } from '@sfm/core/transport';
import { budgetedLink } from './budget.js';
import { AchSettings, CallHomeSettingsSchema, callHomeSettings } from './settings.js';

function fromFile(file: Record<string, unknown>): { problems: string[]; ach: ReturnType<typeof callHomeSettings> | null } {
  const problems: string[] = [];
  const v = readSettings(CallHomeSettingsSchema, { file, filePath: 'sfm.json', env: {}, flags: {} }, problems);
  try {
    return { problems, ach: problems.length ? null : callHomeSettings(v.ach) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { problems: [e.message], ach: null };
  }
}

describe('ach settings', () => {
  it('are off with no listen, and refuse every caller by default', () => {
    const { ach } = fromFile({});
    expect(ach).toMatchObject({ listen: null, accept: 'known', waveforms: 'all', eraseAfterDownload: false, restartMonitoring: false, keepCaptures: true });
    expect(ach!.allowPeers.has('127.0.0.1')).toBe(false);
    // Each default is the schema's own.
    for (const [key, prop] of Object.entries(AchSettings.properties)) {
      if ('default' in prop) expect(JSON.stringify(fromFile({ ach: { [key]: prop.default } }).ach)).toBe(JSON.stringify(ach));
    }
  });

  it('take addresses and CIDR ranges as peers, in any spelling of the address', () => {
    const { ach } = fromFile({ ach: { listen: '0.0.0.0:12345', allow_peers: ['10.20.0.0/16', '::1'] } });
    expect(ach!.listen).toEqual({ host: '0.0.0.0', port: 12345 });
    expect(['10.20.3.4', '::ffff:10.20.3.4', '::1'].map((h) => ach!.allowPeers.has(h))).toEqual([true, true, true]);
    expect(ach!.allowPeers.has('10.21.0.1')).toBe(false);
  });

  it('name the key and why for every bad value', () => {
    expect(fromFile({ ach: { listen: 'nowhere' } }).problems[0]).toMatch(/^ach\.listen: .*HOST:PORT.*\(file sfm\.json\)$/);
    expect(fromFile({ ach: { waveforms: 'some' } }).problems[0]).toMatch(/^ach\.waveforms: must be one of all, none, over_trigger/);
    expect(fromFile({ ach: { accept: 'everyone' } }).problems[0]).toMatch(/^ach\.accept: /);
    expect(fromFile({ ach: { erase: true } }).problems[0]).toMatch(/^ach\.erase: not a known field \(known: listen, allow_peers, /);
    expect(fromFile({ ach: { allow_peers: ['modems.example.net'] } }).problems[0]).toMatch(/ach\.allow_peers: not an address or range: "modems\.example\.net" \(give addresses or CIDR ranges\)/);
    expect(fromFile({ ach: { allow_peers: ['10.0.0.0/40'] } }).problems[0]).toMatch(/ach\.allow_peers: not an address range: "10\.0\.0\.0\/40"/);
    expect(fromFile({ ach: { listen: '127.0.0.1:70000' } }).problems[0]).toMatch(/ach\.listen: the port must be 0–65535, got 70000/);
  });
});

/** A link whose far end the test plays: `feed` delivers bytes, `closedWith` is how the near end was told it ended. */
function farEnd() {
  let r: LinkReceiver | undefined;
  const state = { closed: false };
  const link: Link = {
    get isOpen() {
      return !state.closed;
    },
    write: async () => undefined,
    setReceiver: (x) => void (r = x),
    close: async () => void (state.closed = true),
  };
  return { link, feed: (b: Uint8Array) => r!.data(b), state };
}

function watch(link: Link) {
  const seen = { bytes: 0, error: undefined as Error | undefined, closed: false };
  link.setReceiver({ data: (c) => void (seen.bytes += c.length), closed: (e) => Object.assign(seen, { closed: true, error: e }) });
  return seen;
}

describe('a caller\'s budgets', () => {
  const budget = { preambleBytes: 100, callBytes: 10_000, callMaxMs: 60_000, describe: 'call-home 10.0.0.9:4000' };

  it('let modem text and a banner through before the first frame, and drop a peer that sends more with no frame', () => {
    const far = farEnd();
    const seen = watch(budgetedLink(far.link, budget));
    far.feed(Buffer.from('\r\nRING\r\n\r\nCONNECT\r\nOperating System'));
    expect(seen).toMatchObject({ closed: false });
    far.feed(Buffer.alloc(80, 0x55));
    expect(seen.error).toBeInstanceOf(ProtocolError);
    expect(seen.error!.message).toMatch(/^call-home 10\.0\.0\.9:4000: 115 bytes and no frame .*garbage, dropped$/);
    expect(far.state.closed).toBe(true);
  });

  it('after a good frame, count only the call\'s bytes in all', () => {
    const far = farEnd();
    const seen = watch(budgetedLink(far.link, budget));
    far.feed(buildDeviceFrame(0xff - SUB.POLL, new Uint8Array(10)));
    far.feed(Buffer.alloc(9_000, 0x55));
    expect(seen.closed).toBe(false);
    far.feed(Buffer.alloc(2_000, 0x55));
    expect(seen.error!.message).toMatch(/more than 10000 bytes in one call: dropped/);
  });

  it('drop a call that lasts longer than its time', async () => {
    const far = farEnd();
    const seen = watch(budgetedLink(far.link, { ...budget, callMaxMs: 20 }));
    const end = Date.now() + 5000;
    while (!seen.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(seen.error).toBeInstanceOf(DeviceTimeout);
    expect(seen.error!.message).toMatch(/the call lasted longer than 0\.02 s: dropped/);
  });
});
