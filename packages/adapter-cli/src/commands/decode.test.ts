import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeviceFrame, buildReadFrame, parseHex, SUB } from '@sfm/core/protocol';
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
