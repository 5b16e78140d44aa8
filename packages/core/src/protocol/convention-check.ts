/**
 * Judging sfm's own conventions (conventions.ts, CONVENTIONS) against what a real unit did: fed
 * the frames of a capture in order, the checker pairs each request with its reply and, for every
 * convention, counts the frames that exercise it and says whether the unit agreed — and where it
 * did not, what it sent instead. One judge per convention; the type makes sure none is missing.
 */
import { bytesEqual, readAscii, toHex, u16be } from './bytes.js';
import { decodeComplianceConfig, SAMPLE_RATES } from './compliance-config.js';
import {
  BULK_CHUNK_STEP, BULK_TERM_PAGE, CALL_HOME, CALL_HOME_WRITE_TRAILER, COMPLIANCE_LAYOUT, COMPLIANCE_PAGES, CONVENTIONS, EVENT_FILE_FOOTER_LENGTH, EVENT_FILE_FOOTER_MAGIC,
  FULL_CONFIG, FULL_HEADER, HEADER_LENGTH_FULL, HEADER_LENGTH_PARTIAL, MONITOR_COMMAND_TOKEN_INDEX, PARTIAL_HEADER, POLL_DATA_LENGTH,
  RECORD_TYPE_CODE, SEGMENT_COUNTER, STRT, STRT_PREAMBLE, TEXT_FIELDS, TRIGGER_BLOCK, UNIT_PAGE, WAVEFORM_RECORD, BULK_STRAY_END_BYTE,
  type ConventionId,
} from './conventions.js';
import { BULK_PAGE_TEXT, BULK_PAGE_UNIT, bulkPlan, decodeProbeReply, type BulkPlan, type StrtRecord } from './bulk-stream.js';
import { decodeTextFields } from './text-fields.js';
import { decodeTimestamp } from './timestamp.js';
import { ACK, ECHO_LENGTH, TOKEN_FE, BULK_OFFSET_STREAM, BULK_OFFSET_TERM, responseContent, unescapeDeviceBytes, type DeviceFrame, type HostFrame } from './frames.js';
import { encodePollReply } from './poll.js';
import { frameStyleOf, subInfoForRequest, SUB } from './sub-codes.js';
import { decodeWaveformBody } from './waveform-body.js';
import type { ParsedItem } from './frame-parser.js';

/** One item of a capture, in order: `direction` null where a raw dump does not say (noise). */
export interface ObservedItem {
  item: ParsedItem;
  direction: 'host-to-device' | 'device-to-host' | null;
  /** Requests and replies pair only within a session. */
  session: number;
}

export type Verdict = 'agrees' | 'contradicted' | 'not-exercised';

export interface ConventionReport {
  id: ConventionId;
  title: string;
  /** What sfm assumes (conventions.ts). */
  sfm: string;
  verdict: Verdict;
  /** Frames that exercised it. */
  frames: number;
  /** Where the unit disagreed, first ones first (at most MAX_FOUND). */
  found: string[];
  /** What to change when contradicted: the constants that hold the convention. */
  change: string | null;
}

const MAX_FOUND = 5;
const CONVENTIONS_FILE = 'packages/core/src/protocol/conventions.ts';

/** A request and what the unit sent back before the next request. */
interface Exchange {
  request: HostFrame;
  reply: DeviceFrame | null;
  /** Bytes outside frames the unit sent after its reply, before the next reply (the stray end byte of a 5A stream). */
  after: Uint8Array[];
  session: number;
  /** Host requests since the session started, this one included. */
  index: number;
}

/** One event read over 5A: the probe, its pages and chunks, TERM. */
interface BulkRead {
  key: number;
  probe: Exchange;
  strt: StrtRecord | null;
  plan: BulkPlan | null;
  pages: Exchange[];
  chunks: Exchange[];
  term: Exchange | null;
}

class Tally {
  frames = 0;
  found: string[] = [];
  seen(n = 1): void {
    this.frames += n;
  }
  disagree(what: string): void {
    if (this.found.length < MAX_FOUND && !this.found.includes(what)) this.found.push(what);
  }
}

type Judge = (x: Exchange[], bulk: BulkRead[], t: Tally) => void;

export class ConventionChecker {
  private readonly exchanges: Exchange[] = [];
  private pending: Exchange | null = null;
  /** The last request that got its reply: the unit's bytes outside frames belong after it. */
  private lastAnswered: Exchange | null = null;
  /** The unit's last noise, until the next item says whether its final 41 leads a reply. */
  private held: { bytes: Uint8Array; session: number } | null = null;
  private perSession = new Map<number, number>();

  push(o: ObservedItem): void {
    const { item } = o;
    this.placeHeldNoise(item.kind === 'frame' && item.frame.direction === 'device-to-host');
    if (item.kind === 'frame') {
      const f = item.frame;
      if (f.direction === 'host-to-device') {
        const index = (this.perSession.get(o.session) ?? 0) + 1;
        this.perSession.set(o.session, index);
        this.pending = { request: f, reply: null, after: [], session: o.session, index };
        this.exchanges.push(this.pending);
      } else if (this.pending && this.pending.session === o.session && !this.pending.reply) {
        this.pending.reply = f;
        this.lastAnswered = this.pending;
      }
    } else if (item.kind === 'noise' && o.direction !== 'host-to-device') {
      // Noise is reported when the next frame starts, which may be after the next request went out.
      this.held = { bytes: item.bytes, session: o.session };
    }
  }

  /** The held noise goes after the last answered request; a 41 right before a reply is that reply's lead byte (protocol.md §2.2). */
  private placeHeldNoise(beforeReply: boolean): void {
    if (!this.held) return;
    const { bytes, session } = this.held;
    this.held = null;
    const lead = beforeReply && bytes.at(-1) === ACK ? 1 : 0;
    if (bytes.length > lead && this.lastAnswered?.session === session) this.lastAnswered.after.push(bytes.subarray(0, bytes.length - lead));
  }

  /** Every convention with its verdict, in the order conventions.ts lists them. */
  report(): ConventionReport[] {
    this.placeHeldNoise(false);
    const bulk = bulkReads(this.exchanges);
    return (Object.keys(CONVENTIONS) as ConventionId[]).map((id) => {
      const t = new Tally();
      JUDGES[id](this.exchanges, bulk, t);
      const c = CONVENTIONS[id];
      const verdict: Verdict = t.frames === 0 ? 'not-exercised' : t.found.length ? 'contradicted' : 'agrees';
      return {
        id, title: c.title, sfm: c.sfm, verdict, frames: t.frames, found: t.found,
        change: verdict === 'contradicted' ? changeFor(id) : null,
      };
    });
  }
}

function changeFor(id: ConventionId): string {
  const c = CONVENTIONS[id];
  const inFile = c.constants.filter((k) => !k.includes('('));
  const elsewhere = c.constants.filter((k) => k.includes('('));
  const parts = [
    inFile.length ? `${inFile.join(', ')} in ${CONVENTIONS_FILE}` : '',
    elsewhere.join(', '),
  ].filter(Boolean);
  return `make ${parts.join('; ')} follow the unit, and its row in docs/protocol-conventions.md ("${c.title}")`;
}

// --- helpers -------------------------------------------------------------------------------------

const hex = (n: number, width = 4): string => `0x${n.toString(16).toUpperCase().padStart(width, '0')}`;
const isPrintableSlot = (b: Uint8Array, at: number, width: number): boolean => {
  let i = at;
  for (; i < at + width && b[i] !== 0; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false;
  for (; i < at + width; i++) if (b[i] !== 0) return false;
  return true;
};
const content = (f: DeviceFrame): Uint8Array => responseContent(f);
const short = (b: Uint8Array, n = 16): string => toHex(b.subarray(0, n)) + (b.length > n ? ' …' : '');
function tokenOnly(p: Uint8Array): boolean {
  for (let i = 0; i < p.length; i++) if (p[i] !== (i === MONITOR_COMMAND_TOKEN_INDEX ? TOKEN_FE : 0)) return false;
  return true;
}
const answered = (x: Exchange[]) => x.filter((e): e is Exchange & { reply: DeviceFrame } => e.reply !== null && e.reply.checksumOk && e.request.checksumOk);

/** Groups each event read's 5A exchanges: a probe is the 5A request whose reply starts "STRT". */
function bulkReads(x: Exchange[]): BulkRead[] {
  const out: BulkRead[] = [];
  let cur: BulkRead | null = null;
  for (const e of x) {
    if (e.request.sub !== SUB.BULK_WAVEFORM) {
      if (cur && e.request.sub !== SUB.POLL) cur = null;
      continue;
    }
    const p = e.request.params;
    const c = e.reply ? content(e.reply) : null;
    if (e.request.offset === BULK_OFFSET_STREAM && p.length === 11 && c && readAscii(c, 0, 4) === 'STRT') {
      const key = ((p[1]! << 24) | (p[2]! << 16) | (p[3]! << 8) | p[4]!) >>> 0;
      let strt: StrtRecord | null = null;
      let plan: BulkPlan | null = null;
      try {
        strt = decodeProbeReply(c);
        plan = bulkPlan(key, strt.end_offset);
      } catch {
        // a probe reply sfm cannot read: the STRT judge says so
      }
      cur = { key, probe: e, strt, plan, pages: [], chunks: [], term: null };
      out.push(cur);
    } else if (cur) {
      if (e.request.offset === BULK_OFFSET_TERM) {
        cur.term = e;
        cur = null;
      } else if (p.length === 12) cur.pages.push(e);
      else cur.chunks.push(e);
    }
  }
  return out;
}

const counterOf = (e: Exchange): number => (e.request.params[3]! << 8) | e.request.params[4]!;

/** The event's whole memory, when the capture holds every reply of its read. */
function wholeMemory(b: BulkRead): Uint8Array | null {
  const plan = b.plan;
  if (!plan || !b.term?.reply || b.chunks.length !== plan.chunkCounters.length) return null;
  if (!b.chunks.every((e, i) => counterOf(e) === plan.chunkCounters[i] && e.reply && content(e.reply).length === BULK_CHUNK_STEP)) return null;
  const parts = [content(b.probe.reply!), ...b.chunks.map((e) => content(e.reply!)), content(b.term.reply)];
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total !== plan.length) return null;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// --- the judges ----------------------------------------------------------------------------------

const JUDGES: Record<ConventionId, Judge> = {
  'poll-reply': (x, _b, t) => {
    for (const e of answered(x)) {
      if (e.request.sub !== SUB.POLL || e.request.offset === 0) continue;
      t.seen(2);
      if (e.request.offset !== POLL_DATA_LENGTH) t.disagree(`a POLL data request asks for ${hex(e.request.offset, 2)} bytes, not ${hex(POLL_DATA_LENGTH, 2)}`);
      const c = content(e.reply);
      if (!bytesEqual(c, encodePollReply())) t.disagree(`the POLL reply carries ${short(c)} (${c.length} bytes)`);
    }
  },

  'full-config': (x, _b, t) => {
    for (const e of answered(x)) {
      if (e.request.sub !== SUB.FULL_CONFIG || e.request.offset === 0) continue;
      const c = content(e.reply);
      if (c.length < 0x98) continue;
      t.seen();
      const f = FULL_CONFIG;
      if (!isPrintableSlot(c, f.firmware.offset, f.firmware.width)) t.disagree(`no NUL-padded text at firmware's place: ${short(c.subarray(f.firmware.offset))}`);
      if (!isPrintableSlot(c, f.dspVersion.offset, f.dspVersion.width)) t.disagree(`no NUL-padded text at the DSP version's place: ${short(c.subarray(f.dspVersion.offset))}`);
      if (decodeTimestamp(c, f.calibrationDate.offset) === null) t.disagree(`no calendar date at ${f.calibrationDate.offset}: ${short(c.subarray(f.calibrationDate.offset), 8)}`);
    }
  },

  'monitor-commands': (x, _b, t) => {
    for (const e of answered(x)) {
      if (e.request.sub !== SUB.START_MONITORING && e.request.sub !== SUB.STOP_MONITORING) continue;
      t.seen(2);
      const name = hex(e.request.sub, 2);
      if (e.request.offset !== 0 || !tokenOnly(e.request.params)) t.disagree(`${name} goes out with offset ${hex(e.request.offset)} and params ${toHex(e.request.params)}`);
      if (e.reply.data.length !== ECHO_LENGTH) t.disagree(`the ${name} ack carries ${e.reply.data.length - ECHO_LENGTH} bytes after the echo: ${short(content(e.reply))}`);
    }
  },

  'write-acks': (x, _b, t) => {
    for (const e of answered(x)) {
      if (frameStyleOf(e.request.sub) !== 'write') continue;
      t.seen();
      if (e.reply.data.length !== ECHO_LENGTH) t.disagree(`the ack to ${hex(e.request.sub, 2)} carries ${e.reply.data.length - ECHO_LENGTH} bytes after the echo: ${short(content(e.reply))}`);
    }
  },

  'write-offset': (x, _b, t) => {
    for (const e of x) {
      if (e.request.style !== 'write') continue;
      t.seen();
      if (!e.request.checksumOk) t.disagree(`a ${hex(e.request.sub, 2)} write with offset ${hex(e.request.offset)} does not end where offset + 1 data bytes put its checksum`);
    }
  },

  'key-reply': (x, _b, t) => {
    for (const e of answered(x)) {
      if ((e.request.sub !== SUB.FIRST_EVENT_KEY && e.request.sub !== SUB.NEXT_EVENT_KEY) || e.request.offset === 0) continue;
      const c = content(e.reply);
      if (c.length < 8) continue;
      t.seen();
      if (c.subarray(4, 8).some((b) => b !== 0)) t.disagree(`a ${hex(e.reply.sub, 2)} reply has ${toHex(c.subarray(4, 8))} after the key`);
    }
  },

  'probe-replies': (x, _b, t) => {
    for (const e of answered(x)) {
      const info = subInfoForRequest(e.request.sub);
      if (e.request.offset !== 0 || info?.style !== 'read' || typeof info.dataLength !== 'number') continue;
      t.seen();
      if (e.reply.data.length !== ECHO_LENGTH) t.disagree(`the ${info.name} probe's reply carries ${e.reply.data.length - ECHO_LENGTH} bytes after the echo: ${short(content(e.reply))}`);
    }
  },

  'header-full': (x, _b, t) => {
    for (const e of answered(x)) {
      if (e.request.sub !== SUB.WAVEFORM_HEADER || e.request.offset !== HEADER_LENGTH_FULL) continue;
      const c = content(e.reply);
      if (c.length < HEADER_LENGTH_FULL) continue;
      t.seen();
      const h = FULL_HEADER;
      if (decodeTimestamp(c, h.timestamp) === null) t.disagree(`no calendar time at ${h.timestamp}: ${short(c.subarray(h.timestamp), 8)}`);
      if (!Object.values(RECORD_TYPE_CODE).includes(c[h.recordType] as 1 | 2)) t.disagree(`record type byte ${hex(c[h.recordType]!, 2)} at ${h.recordType}`);
      if (!(SAMPLE_RATES as readonly number[]).includes(u16be(c, h.sampleRate))) t.disagree(`no sample rate at ${h.sampleRate}: ${u16be(c, h.sampleRate)}`);
      if (c[h.geoRange]! > 1) t.disagree(`geo range byte ${hex(c[h.geoRange]!, 2)} at ${h.geoRange}`);
      if (!isPrintableSlot(c, h.serial, 8)) t.disagree(`no NUL-padded serial at ${h.serial}: ${short(c.subarray(h.serial), 8)}`);
    }
  },

  'header-monitor-log': (x, _b, t) => {
    for (const e of answered(x)) {
      if (e.request.sub !== SUB.WAVEFORM_HEADER || e.request.offset !== HEADER_LENGTH_PARTIAL) continue;
      const c = content(e.reply);
      if (c.length < HEADER_LENGTH_PARTIAL) continue;
      t.seen();
      const p = PARTIAL_HEADER;
      if (decodeTimestamp(c, p.startTime) === null) t.disagree(`no start time at ${p.startTime}: ${short(c, 8)}`);
      if (decodeTimestamp(c, p.stopTime) === null && decodeTimestamp(c, p.stopTimeAfterGap) === null) t.disagree(`no stop time at ${p.stopTime} or ${p.stopTimeAfterGap}: ${short(c.subarray(p.stopTime), 9)}`);
      const text = Array.from(c, (b) => (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '\0')).join('');
      if (!text.includes(p.serialMark)) t.disagree(`no "${p.serialMark}" serial in ${short(c, 44)}`);
      if (!new RegExp(`${p.geoLabel}[0-9.]+ ${p.geoUnit.replace('/', '\\/')}`).test(text)) t.disagree(`no "${p.geoLabel}<level> ${p.geoUnit}" in ${JSON.stringify(text.replace(/\0+/g, ' ').trim())}`);
    }
  },

  'waveform-record': (x, _b, t) => {
    for (const e of answered(x)) {
      if (e.request.sub !== SUB.WAVEFORM_RECORD || e.request.offset === 0) continue;
      const c = content(e.reply);
      if (c.length < 0xd2) continue;
      t.seen();
      const r = WAVEFORM_RECORD;
      if (decodeTimestamp(c, r.timestamp) === null) t.disagree(`no calendar time at ${r.timestamp}: ${short(c, 8)}`);
      if (!Object.values(RECORD_TYPE_CODE).includes(c[r.recordType] as 1 | 2)) t.disagree(`record type byte ${hex(c[r.recordType]!, 2)} at ${r.recordType}`);
      for (const [label, at] of Object.entries(r.labels)) {
        if (readAscii(c, at, 4) !== label) {
          const found = Array.from(c).findIndex((_, i) => readAscii(c, i, 4) === label);
          t.disagree(`"${label}" is at ${found < 0 ? 'no place' : found}, not ${at}`);
        }
      }
    }
  },

  'compliance-layout': (x, _b, t) => {
    // One read: the three data requests of pages 00, 04, 08 in a row.
    const reads = answered(x).filter((e) => e.request.sub === SUB.COMPLIANCE_CONFIG && e.request.offset !== 0);
    for (let i = 0; i + COMPLIANCE_PAGES.length <= reads.length; i++) {
      const run = reads.slice(i, i + COMPLIANCE_PAGES.length);
      if (!run.every((e, k) => e.request.params[2] === COMPLIANCE_PAGES[k]!.page && content(e.reply).length >= COMPLIANCE_PAGES[k]!.length)) continue;
      const block = new Uint8Array(COMPLIANCE_PAGES.at(-1)!.start + COMPLIANCE_PAGES.at(-1)!.length);
      run.forEach((e, k) => block.set(content(e.reply).subarray(0, COMPLIANCE_PAGES[k]!.length), COMPLIANCE_PAGES[k]!.start));
      t.seen(run.length);
      i += run.length - 1;
      const first = TEXT_FIELDS[0].key;
      if (readAscii(block, COMPLIANCE_LAYOUT.text, first.length) !== first) t.disagree(`the text does not start at ${hex(COMPLIANCE_LAYOUT.text)} ("${first}" is ${describeAt(block, first)})`);
      const cfg = decodeComplianceConfig(block);
      const missing = Object.entries(cfg).filter(([, v]) => v === null).map(([k]) => k);
      if (missing.length) t.disagree(`settings not found: ${missing.join(', ')}`);
    }
  },

  'compliance-write': (x, _b, t) => {
    const expected = [SUB.EVENT_INDEX_WRITE, SUB.WRITE_CONFIRM_B, SUB.COMPLIANCE_WRITE, SUB.COMPLIANCE_WRITE, SUB.COMPLIANCE_WRITE, SUB.WRITE_CONFIRM_A, SUB.TRIGGER_CONFIG_WRITE, SUB.TRIGGER_CONFIG_CONFIRM, SUB.WAVEFORM_DATA_WRITE, SUB.WRITE_CONFIRM_C, SUB.WRITE_CONFIRM_A];
    const sessions = new Map<number, Exchange[]>();
    for (const e of x) {
      if (e.request.style !== 'write' || e.request.sub === SUB.CALL_HOME_WRITE || e.request.sub === SUB.CALL_HOME_CONFIRM) continue;
      sessions.set(e.session, [...(sessions.get(e.session) ?? []), e]);
    }
    for (const writes of sessions.values()) {
      t.seen(writes.length);
      const subs = writes.map((e) => e.request.sub);
      if (subs.join() !== expected.join()) t.disagree(`the writes go ${subs.map((s) => hex(s, 2).slice(2)).join('→')}, not ${expected.map((s) => hex(s, 2).slice(2)).join('→')}`);
      const pages = writes.filter((e) => e.request.sub === SUB.COMPLIANCE_WRITE).map((e) => [e.request.params[2]!, unescapeDeviceBytes(e.request.data).length]);
      const want = COMPLIANCE_PAGES.map((p) => [p.page, p.length]);
      if (JSON.stringify(pages) !== JSON.stringify(want)) t.disagree(`71 pages (params[2], bytes) are ${JSON.stringify(pages)}, not ${JSON.stringify(want)}`);
    }
  },

  'trigger-block': (x, _b, t) => {
    for (const e of x) {
      if (e.request.sub !== SUB.TRIGGER_CONFIG_WRITE) continue;
      t.seen();
      const n = unescapeDeviceBytes(e.request.data).length;
      if (n !== TRIGGER_BLOCK.length) t.disagree(`an 82 write carries ${n} bytes, not ${TRIGGER_BLOCK.length}`);
    }
  },

  'bulk-walk': (_x, bulk, t) => {
    for (const b of bulk) {
      if (!b.plan) continue;
      const plan = b.plan;
      t.seen(1 + b.chunks.length + (b.term ? 1 : 0));
      const probeLength = content(b.probe.reply!).length;
      if (probeLength !== plan.probeLength) t.disagree(`the probe's reply for ${hex(b.key, 8)} carries ${hex(probeLength)} bytes, not the event's first ${hex(plan.probeLength)}`);
      const sent = b.chunks.map(counterOf);
      const prefix = plan.chunkCounters.slice(0, sent.length);
      if (sent.join() !== prefix.join()) t.disagree(`chunks of ${hex(b.key, 8)} (end_offset ${hex(plan.end)}) go ${list(sent)}; sfm's walk is ${list(plan.chunkCounters)}`);
      for (const e of b.chunks) if (e.reply && content(e.reply).length !== BULK_CHUNK_STEP) t.disagree(`the chunk at ${hex(counterOf(e))} carries ${hex(content(e.reply).length)} bytes, not ${hex(BULK_CHUNK_STEP)}`);
      if (b.term) {
        if (counterOf(b.term) !== plan.termCounter) t.disagree(`TERM of ${hex(b.key, 8)} names ${hex(counterOf(b.term))}; sfm's residual starts at ${hex(plan.termCounter)}`);
        // A read without chunks (sfm's text read) asks for the residual all the same.
        if (b.term.reply && content(b.term.reply).length !== plan.residualLength) t.disagree(`TERM's reply carries ${hex(content(b.term.reply).length)} bytes, not the residual ${hex(plan.residualLength)}`);
      }
    }
  },

  'bulk-pages': (_x, bulk, t) => {
    for (const b of bulk) {
      for (const e of b.pages) {
        if (!e.reply) continue;
        const page = counterOf(e);
        const c = content(e.reply);
        t.seen();
        if (page === BULK_PAGE_TEXT) {
          const text = decodeTextFields(c);
          if (text.project === null) t.disagree(`page ${hex(page)} has no "${TEXT_FIELDS[0].key}": ${short(c)}`);
        } else if (page === BULK_PAGE_UNIT) {
          if (!isPrintableSlot(c, UNIT_PAGE.serial, 8) || readAscii(c, UNIT_PAGE.serial, 8) === '' || !isPrintableSlot(c, UNIT_PAGE.firmware, 16)) t.disagree(`page ${hex(page)} holds ${short(c, 24)}`);
        } else {
          t.disagree(`a page request for ${hex(page)}`);
        }
      }
    }
  },

  'bulk-term': (_x, bulk, t) => {
    for (const b of bulk) {
      if (!b.term) continue;
      t.seen(b.term.reply ? 2 : 1);
      const p = b.term.request.params;
      if (p.length !== 10 || p[0] !== 0 || ((p[1]! << 8) | p[2]!) !== b.key >>> 16 || p.subarray(5).some((v) => v !== 0)) t.disagree(`TERM goes out with params ${toHex(p)}`);
      if (b.term.reply && b.term.reply.page !== BULK_TERM_PAGE) t.disagree(`TERM's reply has page ${hex(b.term.reply.page)}`);
    }
  },

  'bulk-reply-page': (_x, bulk, t) => {
    for (const b of bulk) {
      for (const e of [b.probe, ...b.pages, ...b.chunks]) {
        if (!e.reply) continue;
        t.seen();
        if (e.reply.page !== e.request.offset) t.disagree(`an A5 reply has page ${hex(e.reply.page)} to a request with offset ${hex(e.request.offset)}`);
      }
    }
  },

  'strt-record': (_x, bulk, t) => {
    for (const b of bulk) {
      t.seen();
      const c = content(b.probe.reply!);
      if (c.length < STRT.length + STRT_PREAMBLE.length) {
        t.disagree(`a probe reply of ${c.length} bytes: ${short(c)}`);
        continue;
      }
      const s = decodeProbeReply(c);
      if (c[STRT.marker] !== 0x46) t.disagree(`byte ${STRT.marker} of STRT is ${hex(c[STRT.marker]!, 2)}`);
      if (!(SAMPLE_RATES as readonly number[]).includes(s.sample_rate)) t.disagree(`no sample rate at ${STRT.sampleRate}: ${s.sample_rate}`);
      else if (s.record_time_s * s.sample_rate !== s.total_samples) t.disagree(`record time ${s.record_time_s} s at ${STRT.recordTime} × ${s.sample_rate} Sa/s is not the ${s.total_samples} samples at ${STRT.totalSamples}`);
      if (!b.plan) t.disagree(`end_offset ${hex(s.end_offset, 8)} at ${STRT.endOffset} leaves no room for the event at ${hex(b.key, 8)}`);
      if (!bytesEqual(c.subarray(STRT.length, STRT.length + STRT_PREAMBLE.length), Uint8Array.from(STRT_PREAMBLE))) t.disagree(`STRT is followed by ${toHex(c.subarray(STRT.length, STRT.length + STRT_PREAMBLE.length))}`);
    }
  },

  'event-footer': (_x, bulk, t) => {
    for (const b of bulk) {
      const memory = wholeMemory(b);
      if (!memory) continue;
      t.seen();
      const footer = memory.subarray(memory.length - EVENT_FILE_FOOTER_LENGTH);
      if (!EVENT_FILE_FOOTER_MAGIC.every((v, i) => footer[i] === v)) t.disagree(`the event's last ${EVENT_FILE_FOOTER_LENGTH} bytes are ${toHex(footer)}`);
    }
  },

  'stray-end-byte': (_x, bulk, t) => {
    for (const b of bulk) {
      const last = b.chunks.at(-1);
      if (!b.plan || !last?.reply || b.chunks.length !== b.plan.chunkCounters.length) continue;
      t.seen();
      const after = Uint8Array.from(last.after.flatMap((a) => [...a]));
      if (after.length !== 1 || after[0] !== BULK_STRAY_END_BYTE) t.disagree(after.length === 0 ? 'nothing comes after the last chunk' : `after the last chunk: ${short(after)}`);
    }
  },

  'segment-counter': (_x, bulk, t) => {
    for (const b of bulk) {
      const memory = wholeMemory(b);
      if (!memory) continue;
      let first: number | null;
      try {
        first = decodeWaveformBody(memory.subarray(STRT.length + STRT_PREAMBLE.length, memory.length - EVENT_FILE_FOOTER_LENGTH)).firstSegmentCounter;
      } catch {
        continue; // a body sfm cannot read says nothing about where its counter starts
      }
      if (first === null) continue;
      t.seen();
      if (first !== SEGMENT_COUNTER.first) t.disagree(`the first segment header of ${hex(b.key, 8)} carries ${first}`);
    }
  },

  'call-home-layout': (x, _b, t) => {
    const c = CALL_HOME;
    for (const e of answered(x)) {
      if (e.request.sub !== SUB.CALL_HOME_CONFIG || e.request.offset === 0) continue;
      const b = content(e.reply);
      if (b.length < c.length) continue;
      t.seen();
      const flags = { enabled: c.enabled, after_event_recorded: c.afterEventRecorded, at_specified_times: c.atSpecifiedTimes, time1: c.time1Enabled, time2: c.time2Enabled };
      for (const [name, at] of Object.entries(flags)) if (b[at]! > 1) t.disagree(`${name} at ${at} is ${hex(b[at]!, 2)}, not 0 or 1`);
      if (!isPrintableSlot(b, c.dialString, c.dialStringWidth)) t.disagree(`no NUL-padded dial string at ${c.dialString}: ${short(b.subarray(c.dialString))}`);
      for (const [h, m] of [[c.time1Hour, c.time1Minute], [c.time2Hour, c.time2Minute]] as const) {
        if (b[h]! > 23 || b[m]! > 59) t.disagree(`no time of day at ${h}/${m}: ${b[h]}:${b[m]}`);
      }
    }
    for (const e of x) {
      if (e.request.sub !== SUB.CALL_HOME_WRITE) continue;
      t.seen();
      const d = unescapeDeviceBytes(e.request.data);
      const trailer = d.subarray(c.length);
      if (d.length !== c.length + CALL_HOME_WRITE_TRAILER.length || !CALL_HOME_WRITE_TRAILER.every((v, i) => trailer[i] === v)) t.disagree(`a 7E write carries ${d.length} bytes ending ${toHex(d.subarray(-4))}`);
    }
  },

  'poll-before-5a': (x, bulk, t) => {
    const isArm = (r: HostFrame) => r.sub === SUB.NEXT_EVENT_KEY && r.params[MONITOR_COMMAND_TOKEN_INDEX] === TOKEN_FE;
    for (const b of bulk) {
      const between: Exchange[] = [];
      let i = x.indexOf(b.probe) - 1;
      for (; i >= 0 && x[i]!.session === b.probe.session && !isArm(x[i]!.request); i--) between.unshift(x[i]!);
      if (i < 0 || x[i]!.session !== b.probe.session) continue; // no 1F arm before this probe in its session
      t.seen(between.length + 1);
      const polls = between.filter((e) => e.request.sub === SUB.POLL && e.request.offset === 0).length;
      if (polls !== 3 || between.length !== 3) t.disagree(`between the 1F arm and the probe of ${hex(b.key, 8)}: ${between.map((e) => hex(e.request.sub, 2).slice(2)).join(', ') || 'nothing'}`);
    }
  },
};

function list(counters: number[]): string {
  if (counters.length === 0) return 'none';
  const shown = counters.length > 6 ? [...counters.slice(0, 3), null, ...counters.slice(-2)] : counters;
  return shown.map((c) => (c === null ? '…' : hex(c))).join(', ');
}

function describeAt(block: Uint8Array, text: string): string {
  const at = Array.from(block).findIndex((_, i) => readAscii(block, i, text.length) === text);
  return at < 0 ? 'nowhere' : `at ${hex(at)}`;
}
