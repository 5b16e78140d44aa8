import { describe, expect, it } from 'vitest';
import { loadGolden } from '@sfm/test-support';
import { parseHex, toHex } from './bytes.js';
import { parseCapture, DeviceFrameParser, HostFrameParser } from './frame-parser.js';
import { buildBulkFrame, buildReadFrame, type DeviceFrame, type HostFrame } from './frames.js';
import { requestSubFor } from './sub-codes.js';
import { sum8 } from './checksum.js';

const golden = loadGolden();

describe('golden vectors: wire → frame', () => {
  for (const g of golden.frames) {
    it(`${g.name} (${g.provenance.startsWith('captured') ? 'captured' : 'derived'})`, () => {
      const items = parseCapture(parseHex(g.wire), g.direction);
      const frames = items.filter((x) => x.kind === 'frame');
      expect(items.filter((x) => x.kind === 'error')).toEqual([]);
      expect(frames).toHaveLength(1);
      const f = (frames[0] as { frame: HostFrame | DeviceFrame }).frame;
      const e = g.expect;
      expect(f.direction).toBe(g.direction);
      expect(f.cmd).toBe(e.cmd);
      if ('flags' in e) expect(f.flags).toBe(e.flags);
      expect(f.sub).toBe(e.sub);
      expect(f.checksum).toBe(g.checksum);
      expect(f.checksumOk).toBe(e.checksum_ok);
      if (f.direction === 'host-to-device') {
        expect(f.offset).toBe(e.offset);
        expect(toHex(f.params)).toBe(e.params_hex);
      } else {
        expect(requestSubFor(f.sub)).toBe(e.request_sub);
        expect(toHex(f.data)).toBe(e.data_hex);
      }
      if (g.logical_payload) {
        const logical = parseHex(g.logical_payload);
        expect(sum8(logical)).toBe(g.checksum);
      }
    });
  }
});

describe('golden vectors: fields → wire (host frames are byte-identical)', () => {
  for (const g of golden.frames.filter((x) => x.direction === 'host-to-device')) {
    it(g.name, () => {
      const e = g.expect as { sub: number; offset: number; params_hex: string };
      const p = parseHex(e.params_hex);
      const wire = e.sub === 0x5a ? buildBulkFrame(e.offset, p) : buildReadFrame(e.sub, e.offset, p);
      expect(toHex(wire)).toBe(g.wire);
    });
  }
});

describe('golden stream example and line noise', () => {
  it('modem text, a stray 0x41, then one frame', () => {
    const items = parseCapture(parseHex(golden.stream_example.wire), 'device-to-host');
    expect(items.filter((x) => x.kind === 'frame')).toHaveLength(golden.stream_example.frames);
    const noise = items.filter((x) => x.kind === 'noise').map((x) => toHex((x as { bytes: Uint8Array }).bytes));
    expect(noise).toEqual([golden.line_noise.modem_connect_text + ' 41']);
  });

  it('the same stream fed one byte at a time yields the same frame', () => {
    const wire = parseHex(golden.stream_example.wire);
    const p = new DeviceFrameParser();
    const items = [];
    for (const b of wire) items.push(...p.push(Uint8Array.of(b)));
    items.push(...p.end());
    expect(items.filter((x) => x.kind === 'frame')).toHaveLength(1);
  });

  it('boot banner and session resets are noise to the client and events to the emulator', () => {
    const banner = parseHex(golden.line_noise.boot_banner);
    const reset = parseHex(golden.line_noise.session_reset);
    const serialProbe = golden.frames.find((x) => x.name === 'host read: serial probe')!;
    const hostItems = parseCapture(Uint8Array.from([...reset, ...reset, ...parseHex(serialProbe.wire)]), 'host-to-device');
    expect(hostItems.map((x) => x.kind)).toEqual(['session-reset', 'session-reset', 'frame']);

    const serialReply = golden.frames.find((x) => x.provenance.startsWith('captured'))!;
    const devItems = parseCapture(Uint8Array.from([...banner, ...reset, ...parseHex(serialReply.wire)]), 'device-to-host');
    expect(devItems.map((x) => x.kind)).toEqual(['noise', 'frame']);
    expect(toHex((devItems[0] as { bytes: Uint8Array }).bytes)).toBe(golden.line_noise.boot_banner + ' 41 03');
  });

  it('host parser ignores device frames and vice versa', () => {
    const serialReply = golden.frames.find((x) => x.provenance.startsWith('captured'))!;
    const p = new HostFrameParser();
    const items = [...p.push(parseHex(serialReply.wire)), ...p.end()];
    expect(items.every((x) => x.kind === 'noise')).toBe(true);
  });
});

describe('the SUB table', () => {
  it('pairs every request with 0xFF − request and says which way the content flows', async () => {
    const { SUB_TABLE, subInfoForResponse } = await import('./sub-codes.js');
    for (const r of SUB_TABLE) {
      expect(r.response).toBe(0xff - r.request);
      expect(subInfoForResponse(r.response)).toBe(r);
    }
    const flow = (name: string) => SUB_TABLE.find((r) => r.name === name)!.dataFlow;
    expect([flow('serial-number'), flow('compliance-write'), flow('write-confirm-a'), flow('erase-begin'), flow('bulk-waveform')]).toEqual(['device-to-host', 'host-to-device', 'none', 'none', 'device-to-host']);
  });
});
