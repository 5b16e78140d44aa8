import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeviceFrame, buildReadFrame, parseHex, SUB, toHex } from '@sfm/core/protocol';
import { CaptureWriter, captureLink } from '@sfm/core/capture';
import { MiniMateClient } from '@sfm/core/client';
import { StreamLink } from '@sfm/core/transport';
import { SimulatedUnit, SimulatorServer, duplexPair } from '@sfm/simulator';
import { loadGolden } from '@sfm/test-support';
import { runCli } from '../cli.js';
import type { CliIO } from '../io.js';

function capture(): CliIO & { out: string; err: string } {
  const io = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}
const lines = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const golden = loadGolden();
const serialFrame = golden.frames.find((f) => f.provenance.startsWith('captured'))!;

describe('sfm decode', () => {
  it('decodes the captured serial-number frame to BE18189', async () => {
    const io = capture();
    expect(await runCli(['decode', '--hex', serialFrame.wire], io)).toBe(0);
    const [line] = lines(io.out);
    expect(line).toMatchObject({ direction: 'device-to-host', cmd: 0, sub: 0xea, checksum: 0x20, checksum_ok: true, data_hex: serialFrame.expect.data_hex, decoded: { serial: 'BE18189', firmware_minor: 17 } });
  });

  it('reports noise between frames as noise_hex lines, in order', async () => {
    const io = capture();
    expect(await runCli(['decode', '--hex', golden.stream_example.wire], io)).toBe(0);
    expect(lines(io.out).map((l) => Object.keys(l)[0])).toEqual(['noise_hex', 'direction']);
    expect(lines(io.out)[0]).toEqual({ noise_hex: `${golden.line_noise.modem_connect_text} 41` });
  });

  it('streams a raw capture file with frames from both sides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-decode-'));
    const file = join(dir, 'capture.bin');
    const status = new Uint8Array(55);
    writeFileSync(file, Uint8Array.from([0x41, 0x03, ...buildReadFrame(SUB.MONITOR_STATUS, 0x2c), ...buildDeviceFrame(0xe3, status)]));
    const io = capture();
    expect(await runCli(['decode', file], io)).toBe(0);
    const out = lines(io.out);
    expect(out.map((l) => l.direction ?? (l.session_reset ? 'reset' : 'noise'))).toEqual(['reset', 'host-to-device', 'device-to-host']);
    expect(out[1]).toMatchObject({ sub: 0x1c, offset: 0x2c, params_hex: '00 00 00 00 00 00 00 00 00 00' });
    expect(out[2]!.decoded).toMatchObject({ is_monitoring: false, battery_v: 0 });
  });

  it('marks a corrupted frame checksum_ok false and still exits 0', async () => {
    const bad = parseHex(serialFrame.wire);
    bad[bad.length - 2] ^= 0x01;
    const io = capture();
    expect(await runCli(['decode', '--hex', Buffer.from(bad).toString('hex')], io)).toBe(0);
    expect(lines(io.out)[0]).toMatchObject({ checksum_ok: false });
    expect(lines(io.out)[0]!.decoded).toBeUndefined();
  });

  it('bad input: a clear message on stderr and exit code 2', async () => {
    for (const args of [['decode', '--hex', '10 0'], ['decode', '--hex', 'zz'], ['decode', '/no/such/capture.bin'], ['decode'], ['decode', '--hex', '10', 'file.bin'], ['nonsense']]) {
      const io = capture();
      expect(await runCli(args, io), args.join(' ')).toBe(2);
      expect(io.err).toMatch(/^sfm: \S/);
      expect(io.out).toBe('');
    }
  });
});

// --- the contract's fields, truncated input, captures, --check ------------------------------------

const tmp = () => mkdtempSync(join(tmpdir(), 'sfm-decode-'));
const FIELDS = ['direction', 'cmd', 'sub', 'offset', 'params_hex', 'data_hex', 'checksum', 'checksum_ok'];

/** A capture of a real client session with the emulated unit (in-process pipes), into `path`. */
async function clientCapture(path: string, work: (c: MiniMateClient) => Promise<unknown>, unit = new SimulatedUnit({ events: 2, recordTimeS: 2 })): Promise<void> {
  const server = new SimulatorServer(unit, { baud: 0 });
  const [hostEnd, unitEnd] = duplexPair();
  server.serveStream(unitEnd);
  const writer = CaptureWriter.create(path, { recorder: 'sfm test' });
  const link = captureLink(new StreamLink(hostEnd, 'unit'), writer.startSession({ host: 'sfm', device: 'emulated' }));
  const c = new MiniMateClient(link, { frameTimeoutMs: 2000, chunkTimeoutMs: 2000 });
  await c.start();
  await work(c);
  await c.close();
  writer.close();
  await server.close();
}

describe('sfm decode keeps to the contract', () => {
  it('every frame line carries every field; a device reply has no offset or params (null) and gives its page', async () => {
    const io = capture();
    const bytes = [...buildReadFrame(SUB.SERIAL_NUMBER, 0x0a), ...parseHex(serialFrame.wire)];
    expect(await runCli(['decode', '--hex', toHex(bytes)], io)).toBe(0);
    const [host, device] = lines(io.out);
    for (const l of [host!, device!]) expect(Object.keys(l)).toEqual(expect.arrayContaining(FIELDS));
    expect(host).toMatchObject({ direction: 'host-to-device', offset: 0x0a, params_hex: '00 00 00 00 00 00 00 00 00 00' });
    expect(device).toMatchObject({ direction: 'device-to-host', offset: null, params_hex: null, page: 0 });
  });

  it('input that ends inside a frame: what could be read, an error line, exit status 2', async () => {
    const io = capture();
    const cut = parseHex(serialFrame.wire).subarray(0, 12);
    expect(await runCli(['decode', '--hex', toHex([...buildReadFrame(SUB.SERIAL_NUMBER, 0x0a), ...cut])], io)).toBe(2);
    const out = lines(io.out);
    expect(out[0]).toMatchObject({ direction: 'host-to-device', sub: 0x15 });
    expect(out[1]).toMatchObject({ error: { reason: 'truncated' } });
    expect(io.err).toMatch(/^sfm: the input ends inside a frame \(stream ended inside a frame after 12 bytes\); printed what could be read\n$/);
  });
});

describe('sfm decode of a capture', () => {
  it('tells it from a raw dump; prints its header, its session and each frame with direction and time', async () => {
    const file = join(tmp(), 'c.sfmcap');
    await clientCapture(file, (c) => c.readSerialNumber());
    const io = capture();
    expect(await runCli(['decode', file], io)).toBe(0);
    const out = lines(io.out);
    expect(out[0]).toMatchObject({ capture: { format: 'sfm-capture', version: 1, recorder: 'sfm test' } });
    expect(out[1]).toMatchObject({ session: { session: 1, host: 'sfm', device: 'emulated' }, time: expect.any(Number) });
    const frames = out.filter((l) => 'direction' in l && 'sub' in l);
    // 41 03 first, then POLL ×2 and the serial number, each answered.
    expect(out[2]).toMatchObject({ noise_hex: '41 03', session_reset: true, direction: 'host-to-device' });
    expect(frames.map((f) => [f.direction, f.sub])).toEqual([
      ['host-to-device', 0x5b], ['device-to-host', 0xa4], ['host-to-device', 0x5b], ['device-to-host', 0xa4],
      ['host-to-device', 0x15], ['device-to-host', 0xea],
    ]);
    const times = frames.map((f) => f.time as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(frames.at(-1)).toMatchObject({ decoded: { serial: 'BE18189' } });
    expect(out.at(-2)).toMatchObject({ session_end: { session: 1, closed_by: 'host' } });
    expect(out.at(-1)).toMatchObject({ capture_end: { sessions: 1 } });
  });

  it('a capture cut short (a crash): every frame before the cut, then an error line; exit status 2', async () => {
    const dir = tmp();
    const file = join(dir, 'c.sfmcap');
    await clientCapture(file, (c) => c.readSerialNumber());
    const whole = readFileSync(file);
    const cutFile = join(dir, 'cut.sfmcap');
    writeFileSync(cutFile, whole.subarray(0, whole.length - 60)); // inside the last records
    const io = capture();
    expect(await runCli(['decode', cutFile], io)).toBe(2);
    const out = lines(io.out);
    expect(out.filter((l) => l.sub === 0xea)).toHaveLength(1);
    expect(out.at(-1)).toMatchObject({ error: { reason: 'truncated', message: expect.stringMatching(/^the capture is cut at byte \d+/) } });
    expect(io.err).toMatch(/^sfm: the capture is cut at byte/);
  });

  it('--direction is for raw dumps; --json goes with --check; a file that is neither is read as raw bytes', async () => {
    const file = join(tmp(), 'c.sfmcap');
    await clientCapture(file, async () => undefined);
    for (const args of [['decode', '--direction', 'host', file], ['decode', '--json', file]]) {
      const io = capture();
      expect(await runCli(args, io)).toBe(2);
      expect(io.err).toMatch(/--direction is for raw dumps|--json goes with --check/);
    }
    const io = capture();
    expect(await runCli(['decode', '--hex', '53 46 4D'], io)).toBe(0); // "SFM", too short to be a capture
    expect(lines(io.out)).toEqual([{ noise_hex: '53 46 4D' }]);
  });
});

describe('sfm decode --check', () => {
  it('a session with the emulated unit: every convention it exercises agrees (all of them, here); exit status 0', async () => {
    const file = join(tmp(), 'c.sfmcap');
    await clientCapture(file, async (c) => {
      await c.readDeviceInfo();
      const keys = await c.listKeys(); // five events and a monitor log
      await c.downloadWaveform(keys[0]!.key);
      await c.readEventText(keys[1]!.key);
      await c.writeCompliance({ project: 'Checked' });
      await c.writeCallHome({ retry_interval_s: 30 });
      await c.stopMonitoring();
    }, new SimulatedUnit({ events: 5, recordTimeS: 1, includeMonitorLog: true }));
    const io = capture();
    expect(await runCli(['decode', '--check', '--json', file], io)).toBe(0);
    const report = JSON.parse(io.out) as { conventions: { id: string; verdict: string; frames: number }[]; summary: Record<string, number> };
    const exercised = report.conventions.filter((c) => c.verdict !== 'not-exercised').map((c) => c.id);
    expect(exercised).toEqual(report.conventions.map((c) => c.id));
    expect(report.conventions.filter((c) => c.verdict === 'contradicted')).toEqual([]);
    expect(report.summary).toMatchObject({ contradicted: 0, agrees: exercised.length });

    const human = capture();
    expect(await runCli(['decode', '--check', file], human)).toBe(0);
    expect(human.out).toMatch(/^.*c\.sfmcap: a capture by sfm test, started \S+, 1 session, \d+ frames\n/);
    expect(human.out).toMatch(/\nagrees {8}5A walk +\d+ frames\n/);
    expect(human.out).toMatch(new RegExp(`\\n${exercised.length} of ${report.conventions.length} conventions exercised: ${exercised.length} agree, 0 contradicted\\n$`));
  });

  it('a unit that differs: each contradiction with what the unit sent and what to change; exit status 1', async () => {
    // A raw dump of a unit whose POLL reply is "S4…" and whose 1E reply has bytes after the key.
    const poll = buildDeviceFrame(0xa4, Uint8Array.from([0x0a, ...new Array(10).fill(0), 0x53, 0x34, ...new Array(8).fill(0)]));
    const key = buildDeviceFrame(0xe1, Uint8Array.from([0x08, ...new Array(10).fill(0), 0x01, 0x11, 0x00, 0x00, 0xde, 0xad, 0x00, 0x00]));
    const bytes = [...buildReadFrame(SUB.POLL, 0x0a), ...poll, ...buildReadFrame(SUB.FIRST_EVENT_KEY, 8), ...key];
    const file = join(tmp(), 'dump.bin');
    writeFileSync(file, Uint8Array.from(bytes));
    const io = capture();
    expect(await runCli(['decode', '--check', file], io)).toBe(1);
    expect(io.out).toContain('CONTRADICTED  POLL (5B → A4)');
    expect(io.out).toContain('    the unit: the POLL reply carries 53 34 00 00 00 00 00 00 00 00 (10 bytes)');
    expect(io.out).toContain('    change:   make POLL_DATA_LENGTH, POLL_REPLY_MAGIC in packages/core/src/protocol/conventions.ts follow the unit');
    expect(io.out).toContain('    the unit: a E1 reply has DE AD 00 00 after the key'.replace('a E1', 'a 0xE1'));
    expect(io.err).toBe('sfm: the unit contradicted 2 conventions (see above)\n');
    const json = capture();
    expect(await runCli(['decode', '--check', '--json', file], json)).toBe(1);
    expect(JSON.parse(json.out).conventions.find((c: { id: string }) => c.id === 'poll-reply')).toMatchObject({ verdict: 'contradicted', frames: 2, change: expect.stringContaining('POLL_REPLY_MAGIC') });
  });
});
