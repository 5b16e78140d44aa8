/**
 * The convention checker on hand-made 5A reads: a unit that follows sfm's conventions agrees with
 * all of them; units that differ where a real one might (the first chunk's place, what the probe
 * carries, the footer) are named, with what they sent.
 */
import { describe, expect, it } from 'vitest';
import { encodeWaveformBody } from './waveform-body.js';
import { bulkChunkFrame, bulkPageFrame, bulkPlan, bulkProbeFrame, bulkTermFrame, encodeEventMemory, encodeTextPage, encodeUnitPage, type BulkPlan } from './bulk-stream.js';
import { buildDeviceFrame, buildReadFrame, echoHeader, tokenParams } from './frames.js';
import { parseCapture } from './frame-parser.js';
import { ConventionChecker, type ConventionReport } from './convention-check.js';
import { SUB } from './sub-codes.js';
import { encodeEventKeyReply } from './event-key.js';
import { encodePollReply } from './poll.js';
import { concatBytes } from './bytes.js';
import { CALL_HOME } from './conventions.js';
import { encodeCallHome } from './call-home.js';

const KEY = 0x01110000;
const STRT = { sample_rate: 1024, total_samples: 1024, record_time_s: 1, pretrigger_samples: 256 };

function memory(): Uint8Array {
  const ramp = Array.from({ length: 1024 }, (_, i) => (i * 13) % 700 - 350);
  return encodeEventMemory(KEY, STRT, encodeWaveformBody({ Tran: ramp, Vert: ramp, Long: ramp, MicL: ramp }));
}

/** A device reply to a request: response SUB, echo of its offset low byte and first 10 params, content. */
function reply(sub: number, offset: number, params: Uint8Array, content: Uint8Array, page = 0): Uint8Array {
  return buildDeviceFrame(0xff - sub, concatBytes([echoHeader(offset, params), content]), { leadingAck: true, page });
}
const bulkParams = (frame: Uint8Array) => (parseCapture(frame, 'host-to-device')[0] as { frame: { params: Uint8Array } }).frame.params;

interface UnitLike {
  /** The probe's reply content. */
  probe(mem: Uint8Array, plan: BulkPlan): Uint8Array;
  /** The counters the host asks chunks at. */
  chunks(plan: BulkPlan): number[];
  /** What the unit sends after the last chunk. */
  stray: Uint8Array;
}
const sfmLike: UnitLike = { probe: (mem, plan) => mem.subarray(0, plan.probeLength), chunks: (plan) => plan.chunkCounters, stray: Uint8Array.of(0x00) };

/** The wire of the vendor's per-event sequence from the 1F arm to TERM, both directions, as one raw dump. */
function session(unit: UnitLike, mem = memory()): Uint8Array {
  const plan = bulkPlan(KEY, (KEY & 0xffff) + mem.length);
  const out: Uint8Array[] = [];
  const read = (sub: number, offset: number, p: Uint8Array, content: Uint8Array) => out.push(buildReadFrame(sub, offset, p), reply(sub, offset, p, content));
  read(SUB.NEXT_EVENT_KEY, 8, tokenParams(), encodeEventKeyReply(0));
  for (let i = 0; i < 3; i++) out.push(buildReadFrame(SUB.POLL, 0), reply(SUB.POLL, 0, new Uint8Array(10), new Uint8Array(0)));
  const probe = bulkProbeFrame(KEY);
  out.push(probe, reply(SUB.BULK_WAVEFORM, 0x1004, bulkParams(probe), unit.probe(mem, plan), 0x1004));
  for (const [page, content] of [[0x1002, encodeTextPage({ project: 'P', client: 'C', operator: 'O', sensor_location: 'L', notes: '' })], [0x1004, encodeUnitPage({ serial: 'BE18189', firmware: 'S338.17' })]] as const) {
    const f = bulkPageFrame(KEY, page);
    out.push(f, reply(SUB.BULK_WAVEFORM, 0x1004, bulkParams(f), content, 0x1004));
  }
  unit.chunks(plan).forEach((counter, i, all) => {
    const f = bulkChunkFrame(KEY, counter);
    const from = plan.probeLength + i * 0x200;
    out.push(f, reply(SUB.BULK_WAVEFORM, 0x1004, bulkParams(f), mem.subarray(from, from + 0x200), 0x1004));
    if (i === all.length - 1) out.push(unit.stray);
  });
  const term = bulkTermFrame(KEY, plan.termCounter);
  out.push(term, reply(SUB.BULK_WAVEFORM, 0x5a, bulkParams(term), mem.subarray(plan.length - plan.residualLength), 0));
  return concatBytes(out);
}

function check(wire: Uint8Array): Record<string, ConventionReport> {
  const c = new ConventionChecker();
  for (const item of parseCapture(wire)) c.push({ item, direction: null, session: 0 });
  return Object.fromEntries(c.report().map((r) => [r.id, r]));
}

describe('the convention checker', () => {
  it('a unit that follows sfm\'s conventions agrees with every one the read exercises', () => {
    const r = check(session(sfmLike));
    const exercised = Object.values(r).filter((x) => x.verdict !== 'not-exercised');
    expect(exercised.map((x) => x.id).sort()).toEqual(['bulk-pages', 'bulk-reply-page', 'bulk-term', 'bulk-walk', 'event-footer', 'key-reply', 'poll-before-5a', 'probe-replies', 'segment-counter', 'stray-end-byte', 'strt-record']);
    expect(exercised.filter((x) => x.verdict !== 'agrees')).toEqual([]);
    expect(r['bulk-walk']!.frames).toBe(1 + bulkPlan(KEY, memory().length).chunkCounters.length + 1);
  });

  it('the walk sfm used before (chunks from start + 0x200): the 5A walk contradicted, with the counters sent', () => {
    const old: UnitLike = { ...sfmLike, chunks: (plan) => plan.chunkCounters.map((c) => c - 0x400) };
    const r = check(session(old));
    expect(r['bulk-walk']).toMatchObject({ verdict: 'contradicted', change: expect.stringContaining('BULK_FIRST_CHUNK, BULK_CHUNK_STEP, STRT.endOffset in packages/core/src/protocol/conventions.ts') });
    expect(r['bulk-walk']!.found[0]).toMatch(/^chunks of 0x01110000 \(end_offset 0x\w+\) go 0x0200, 0x0400, .*; sfm's walk is 0x0600, 0x0800/);
  });

  it('a probe that carries only the STRT record, a footer of another shape, no stray byte: each named', () => {
    const mem = memory();
    mem.set([0x0e, 0x08], mem.length - 26);
    const unit: UnitLike = { ...sfmLike, probe: (m) => m.subarray(0, 27), stray: new Uint8Array(0) };
    const r = check(session(unit, mem));
    expect(r['bulk-walk']!.found).toContain('the probe\'s reply for 0x01110000 carries 0x001B bytes, not the event\'s first 0x0600');
    expect(r['stray-end-byte']).toMatchObject({ verdict: 'contradicted', found: ['nothing comes after the last chunk'] });
    // With the probe short, the memory is not whole: the footer is judged on a whole read only.
    expect(r['event-footer']!.verdict).toBe('not-exercised');
    const footer = check(session(sfmLike, mem));
    expect(footer['event-footer']).toMatchObject({ verdict: 'contradicted', found: [expect.stringMatching(/^the event's last 26 bytes are 0E 08 /)] });
  });

  it('a POLL data exchange as sfm defines it (0x0A asked, "S3" and zeros) agrees', () => {
    const wire = concatBytes([buildReadFrame(SUB.POLL, 0x0a), reply(SUB.POLL, 0x0a, new Uint8Array(10), encodePollReply())]);
    expect(check(wire)['poll-reply']).toMatchObject({ verdict: 'agrees', frames: 2 });
  });

  it('a call-home block whose flag is not 0 or 1, an ack with content: named', () => {
    const block = encodeCallHome({ enabled: true, dial_string: 'ATDT5551234', after_event_recorded: false, at_specified_times: false, time1: { enabled: false, hour: 6, minute: 0 }, time2: { enabled: false, hour: 18, minute: 0 }, num_retries: 3, retry_interval_s: 60, wait_for_connection_s: 60, warm_up_time_s: 10 });
    block[CALL_HOME.atSpecifiedTimes] = 2;
    const p = new Uint8Array(10);
    const wire = concatBytes([
      buildReadFrame(SUB.CALL_HOME_CONFIG, 0x7c), reply(SUB.CALL_HOME_CONFIG, 0x7c, p, block),
      buildReadFrame(SUB.CALL_HOME_CONFIRM, 0), reply(SUB.CALL_HOME_CONFIRM, 0, p, Uint8Array.of(1)),
    ]);
    const r = check(wire);
    expect(r['call-home-layout']).toMatchObject({ verdict: 'contradicted', found: ['at_specified_times at 91 is 0x02, not 0 or 1'] });
    expect(r['write-acks']).toMatchObject({ verdict: 'contradicted', found: ['the ack to 0x7F carries 1 bytes after the echo: 01'] });
  });
});
