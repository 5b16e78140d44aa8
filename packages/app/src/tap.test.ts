/**
 * `sfm tap` as an operator runs it: the built executable as a real process between the CLI (another
 * real process, recording its own side with --capture) and the emulated unit over TCP — the bytes
 * at both ends identical, the capture decoding with direction and time, `decode --check` judging
 * every convention the session exercised; SIGTERM closes the capture, SIGKILL leaves one that
 * reads up to the cut. In-process: one session at a time, and a serial tap over two real
 * pseudo-terminal pairs.
 */
import { connect } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture, type CaptureRecord } from '@sfm/core/capture';
import { MiniMateClient } from '@sfm/core/client';
import { runCli, type CliIO } from '@sfm/adapter-cli';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { SerialTransport, createPtyPair } from '@sfm/transport-serial';
import { assertBuilt, killAll, sfm, until, type Running } from './processes.test-helpers.js';
import { startTap } from './tap.js';

const dir = mkdtempSync(join(tmpdir(), 'sfm-tap-'));
const config = join(dir, 'sfm.json');
writeFileSync(config, JSON.stringify({ plugins: ['transport-tcp', 'store-memory'], frame_timeout_s: 5, chunk_timeout_s: 5, log_level: 'warn' }));

let sim: RunningSimulator;
beforeAll(async () => {
  assertBuilt();
  sim = await startSimulator({ events: 2, recordTimeS: 2, baud: 0, forwardDelayMs: 0 });
});
afterAll(async () => {
  killAll();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

function memoryIO(): CliIO & { out: string; err: string } {
  const io = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}
const joined = (records: CaptureRecord[], type: 'host' | 'device') => Buffer.concat(records.flatMap((r) => (r.type === type ? [r.bytes] : [])));

/** `sfm tap` to the emulated unit; resolves once it listens, with its port. */
async function tap(out: string): Promise<Running & { port: number }> {
  const r = sfm(['tap', '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${sim.address.port}`, '--out', out]);
  await until(() => /tap listening on 127\.0\.0\.1:(\d+)/.test(r.err) || r.child.exitCode !== null, 'sfm tap to listen');
  const port = Number(/tap listening on 127\.0\.0\.1:(\d+)/.exec(r.err)?.[1]);
  if (!port) throw new Error(`sfm tap did not start: ${r.err}`);
  return Object.assign(r, { port });
}

describe('sfm tap between the CLI and a unit', () => {
  it('relays untouched, records both directions; decode and decode --check read the capture; SIGTERM closes it', async () => {
    const tapFile = join(dir, 'tap.sfmcap');
    const cliFile = join(dir, 'cli.sfmcap');
    const t = await tap(tapFile);
    sim.server.resetStats();
    const cli = await sfm(['waveform', '0', '--host', '127.0.0.1', '--tcp-port', String(t.port), '--config', config, '--store', 'memory', '--format', 'csv', '--out', join(dir, 'w.csv'), '--capture', cliFile]).done;
    expect(cli.code, cli.err).toBe(0);
    t.child.kill('SIGTERM');
    const ended = await t.done;
    expect(ended.code).toBe(0);
    expect(ended.err).toMatch(/session 1 ended by the host: [\d.]+ KB to the unit, [\d.]+ KB from it\n/);
    expect(ended.err).toMatch(/recorded 1 session in .*tap\.sfmcap\n$/);

    // The same bytes at both ends: what the CLI sent and got, what the tap relayed, what the unit saw.
    const atTap = readCapture(readFileSync(tapFile));
    const atCli = readCapture(readFileSync(cliFile));
    expect([atTap.cut, atCli.cut]).toEqual([null, null]);
    expect(joined(atTap.records, 'host')).toEqual(joined(atCli.records, 'host'));
    expect(joined(atTap.records, 'device')).toEqual(joined(atCli.records, 'device'));
    expect([joined(atTap.records, 'host').length, joined(atTap.records, 'device').length]).toEqual([sim.server.stats.bytesIn, sim.server.stats.bytesOut]);
    expect(atTap.records[0]).toMatchObject({ header: { recorder: expect.stringMatching(/^sfm \S+ tap$/), device_side: `tcp:127.0.0.1:${sim.address.port}` } });
    expect(atTap.records.at(-1)!.type).toBe('capture-end');

    // Each frame with its direction and time.
    const io = memoryIO();
    expect(await runCli(['decode', tapFile], io)).toBe(0);
    const frames = io.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => typeof l.sub === 'number');
    expect(frames.length).toBeGreaterThan(20);
    for (const f of frames) expect(f).toMatchObject({ direction: expect.stringMatching(/^(host-to-device|device-to-host)$/), time: expect.any(Number), checksum_ok: true });
    expect(frames.filter((f) => f.direction === 'host-to-device' && f.sub === 0x5a).length).toBeGreaterThan(4);

    // Every convention the session exercised, judged — the same from the tap's side and the CLI's.
    const check = async (file: string) => {
      const c = memoryIO();
      expect(await runCli(['decode', '--check', '--json', file], c)).toBe(0);
      return (JSON.parse(c.out) as { conventions: { id: string; verdict: string }[] }).conventions;
    };
    const fromTap = await check(tapFile);
    expect(fromTap.filter((c) => c.verdict === 'contradicted')).toEqual([]);
    const exercised = fromTap.filter((c) => c.verdict === 'agrees').map((c) => c.id);
    expect(exercised).toEqual(expect.arrayContaining(['poll-reply', 'probe-replies', 'key-reply', 'header-full', 'waveform-record', 'bulk-walk', 'bulk-pages', 'bulk-term', 'strt-record', 'event-footer', 'stray-end-byte', 'segment-counter', 'poll-before-5a']));
    expect(await check(cliFile)).toEqual(fromTap);
  });

  it('killed mid-session (SIGKILL): the capture reads up to the cut', async () => {
    const slow = await startSimulator({ events: 1, recordTimeS: 10, baud: 38_400, forwardDelayMs: 0 });
    const file = join(dir, 'killed.sfmcap');
    const r = sfm(['tap', '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${slow.address.port}`, '--out', file]);
    try {
      await until(() => /tap listening on 127\.0\.0\.1:(\d+)/.test(r.err), 'sfm tap to listen');
      const port = Number(/tap listening on 127\.0\.0\.1:(\d+)/.exec(r.err)![1]);
      const cli = sfm(['waveform', '0', '--host', '127.0.0.1', '--tcp-port', String(port), '--config', config, '--store', 'memory', '--json']);
      // Killed once a few 5A requests (41 02 10 10 00 5A 00 10 04 …) went through.
      const bulkRequests = () => joined(readCapture(readFileSync(file)).records, 'host').toString('latin1').split('\x00\x5a\x00\x10\x04').length - 1;
      await until(() => bulkRequests() >= 4, 'the download to be under way');
      r.child.kill('SIGKILL');
      await r.done;
      await cli.done;
    } finally {
      await slow.close();
    }
    const { records, cut } = readCapture(readFileSync(file));
    expect(cut).toBeNull(); // every record went to the file whole
    expect(records.map((x) => x.type)).toContain('device');
    expect(records.some((x) => x.type === 'session-end' || x.type === 'capture-end')).toBe(false);
    const io = memoryIO();
    const code = await runCli(['decode', file], io);
    // The last reply may have been cut by the kill: then the frame before it is the last line with a sub.
    expect([0, 2]).toContain(code);
    expect(io.out.split('\n').filter((l) => l.includes('"sub":90')).length).toBeGreaterThan(1);
  });
});

describe('the tap in process', () => {
  it('one session at a time: a connection while one is relayed is refused; the next session follows in the same file', async () => {
    const file = join(dir, 'two.sfmcap');
    const lines: string[] = [];
    const t = await startTap({ ends: { kind: 'tcp', listen: { host: '127.0.0.1', port: 0 }, to: { host: '127.0.0.1', port: sim.address.port } }, out: file, log: (l) => lines.push(l) });
    const open = async () => {
      const s = connect(t.address!.port, t.address!.host);
      await once(s, 'connect');
      return s;
    };
    const first = await open();
    await until(() => lines.some((l) => l.startsWith('session 1:')), 'the first session');
    const second = await open();
    await once(second, 'close');
    expect(lines.some((l) => /^refused tcp:127\.0\.0\.1:\d+: a session is being relayed/.test(l))).toBe(true);
    first.end();
    await until(() => lines.some((l) => l.startsWith('session 1 ended by the host')), 'the first session to end');
    const third = await open();
    await until(() => lines.some((l) => l.startsWith('session 2:')), 'the next session');
    await t.stop();
    third.destroy();
    const { records } = readCapture(readFileSync(file));
    expect(records.filter((r) => r.type === 'session-end').map((r) => r.type === 'session-end' && r.end.closed_by)).toEqual(['host', 'recorder']);
  });

  it('between two serial ports (pseudo-terminal pairs): the client reads the unit through it, every byte recorded', async () => {
    const vendorSide = await createPtyPair();
    const unitSide = await createPtyPair();
    const unit = await startSimulator({ events: 1, recordTimeS: 1, baud: 0, forwardDelayMs: 0 });
    const unitPort = await new SerialTransport({ kind: 'serial', path: unitSide.b, baud: 38400 }).openStream();
    const handle = unit.server.serveStream(unitPort);
    const file = join(dir, 'serial.sfmcap');
    const t = await startTap({ ends: { kind: 'serial', a: vendorSide.b, b: unitSide.a, baud: 38400 }, out: file, log: () => undefined });
    try {
      const c = await MiniMateClient.connect(new SerialTransport({ kind: 'serial', path: vendorSide.a, baud: 38400 }), { frameTimeoutMs: 3000, wakeWindowMs: 0 });
      const serial = await c.readSerialNumber().finally(() => c.close());
      expect(serial.serial).toBe('BE18189');
    } finally {
      await t.stop();
      handle.close();
      unitPort.destroy();
      await unit.close();
      await vendorSide.close();
      await unitSide.close();
    }
    const { records } = readCapture(readFileSync(file));
    expect(records[1]).toMatchObject({ session: { host: `serial:${vendorSide.b}:38400`, device: `serial:${unitSide.a}:38400` } });
    expect(joined(records, 'host').length).toBe(unit.server.stats.bytesIn);
    expect(joined(records, 'device').length).toBe(unit.server.stats.bytesOut);
  });
});
