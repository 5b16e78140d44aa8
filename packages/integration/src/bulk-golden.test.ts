/**
 * The 5A request sequence of a real 3-second event (protocol.md §24, seismo-relay's regression
 * capture): Blastware copying event 0 (key 01110000, STRT end_offset 0x21F2) sent 17 requests —
 * the probe (counter 0x0000), the two metadata pages (0x1002, 0x1004), 13 sample chunks at
 * 0x0600, 0x0800, … 0x1E00, then TERM for the residual from 0x2000. The client downloads that
 * event from an emulated unit holding one of exactly that size, over real TCP, and every 5A frame
 * it sends is compared: byte for byte where the golden vectors give bytes, counter for counter
 * otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniMateClient } from '@sfm/core/client';
import { BULK_OFFSET_STREAM, BULK_OFFSET_TERM, HostFrameParser, SUB, classifyBulkRequest, toHex, type HostFrame } from '@sfm/core/protocol';
import type { Link, Transport } from '@sfm/core/transport';
import { startSimulator, type RunningSimulator, type StoredEvent } from '@sfm/simulator';
import { TcpTransport } from '@sfm/transport-tcp';
import { FAST, loadGolden } from '@sfm/test-support';

const KEY = 0x01110000;
const END_OFFSET = 0x21f2;

/** A transport whose links hand every request frame (and its bytes on the wire) to `seen`. */
function recording(inner: Transport, seen: { frame: HostFrame; wire: Uint8Array }[]): Transport {
  return {
    target: inner.target,
    open: async (o) => {
      const link = await inner.open(o);
      const parser = new HostFrameParser();
      const out: Link = {
        get isOpen() {
          return link.isOpen;
        },
        setReceiver: (r) => link.setReceiver(r),
        close: () => link.close(),
        write: (bytes) => {
          // The client writes one whole request per call.
          for (const item of parser.push(bytes)) if (item.kind === 'frame' && item.frame.direction === 'host-to-device') seen.push({ frame: item.frame, wire: bytes });
          return link.write(bytes);
        },
      };
      return out;
    },
  };
}

describe('5A download of the captured 3-s event (key 01110000, end_offset 0x21F2)', () => {
  let sim: RunningSimulator;
  let stored: StoredEvent;
  beforeAll(async () => {
    sim = await startSimulator({ events: 0, recordTimeS: 3, baud: 0, forwardDelayMs: 0 });
    sim.unit.recordEvent({ endOffset: END_OFFSET });
    stored = sim.unit.record(KEY) as StoredEvent;
  });
  afterAll(() => sim.close());

  it('sends exactly the 17 requests of the capture, and the samples come back whole', async () => {
    expect(stored).toMatchObject({ key: KEY, endOffset: END_OFFSET });
    const seen: { frame: HostFrame; wire: Uint8Array }[] = [];
    const transport = recording(new TcpTransport({ kind: 'tcp', host: sim.address.host, port: sim.address.port }), seen);
    const c = await MiniMateClient.connect(transport, FAST);
    const w = await c.downloadWaveform(KEY).finally(() => c.close());

    const bulk = seen.filter((s) => s.frame.sub === SUB.BULK_WAVEFORM);
    expect(bulk).toHaveLength(17);
    const [probe, text, unit, ...rest] = bulk;
    const chunks = rest.slice(0, 13);
    const term = rest[13]!;

    // The probe, byte for byte: its counter is the event's start offset (0x0000).
    const golden = loadGolden().frames.find((f) => f.name === 'host bulk-waveform request: 5A probe, key 01110000')!;
    expect(toHex(probe!.wire)).toBe(golden.wire);
    // The two metadata pages (12-byte params), then the chunks (11), TERM (10).
    for (const [s, page] of [[text!, 0x1002], [unit!, 0x1004]] as const) {
      expect(s.frame).toMatchObject({ offset: BULK_OFFSET_STREAM, checksumOk: true });
      expect(s.frame.params).toHaveLength(12);
      expect(classifyBulkRequest(s.frame)).toEqual({ kind: 'page', keyHigh: 0x0111, page });
    }
    expect(chunks.map((s) => classifyBulkRequest(s.frame))).toEqual(
      Array.from({ length: 13 }, (_, i) => ({ kind: 'chunk', keyHigh: 0x0111, counter: 0x0600 + i * 0x0200 })),
    );
    for (const s of chunks) expect(s.frame).toMatchObject({ offset: BULK_OFFSET_STREAM, checksumOk: true, params: expect.objectContaining({ length: 11 }) });
    // Counter 0x1000 goes on the wire stuffed (protocol.md §12.3), the checksum by the 5A rule (§2.4).
    const at1000 = chunks[5]!;
    expect(toHex(at1000.wire)).toBe('41 02 10 10 00 5A 00 10 04 00 01 11 10 10 00 00 00 00 00 00 00 90 03');
    expect(term.frame).toMatchObject({ offset: BULK_OFFSET_TERM, checksumOk: true });
    expect(term.frame.params).toHaveLength(10);
    expect(classifyBulkRequest(term.frame)).toEqual({ kind: 'term', keyHigh: 0x0111, counter: 0x2000 });

    // The event's 0x21F2 bytes: the probe's 0x600, 13 × 0x200, TERM's residual 0x1F2.
    expect(w.dataBytes).toBe(END_OFFSET);
    for (const ch of ['Tran', 'Vert', 'Long', 'MicL'] as const) expect(Array.from(w.body.channels[ch])).toEqual(Array.from(stored.channels[ch]));
  });
});
