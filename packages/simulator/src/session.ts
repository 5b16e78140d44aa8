/**
 * One host connection to the simulated unit: bytes in, reply frames out. Each good request gets
 * exactly one device frame (`41 10 02 … 03`, response SUB 0xFF − SUB, data = 11-byte echo +
 * content) or, like the real unit, silence: unknown or out-of-sequence requests, bad checksums
 * and `41 03` session resets are never answered.
 *
 * Session state (what a reboot or a new connection loses): the 0A/0C context key, the 1E/1F arm
 * flags, the open 5A bulk session, the erase arm and the pending (unconfirmed) writes.
 */
import { BULK_CHUNK_STEP, BULK_OFFSET_STREAM, BULK_PAGE_TEXT, BULK_PAGE_UNIT, CALL_HOME_LENGTH, COMPLIANCE_LENGTH, EVENT_INDEX_LENGTH, HEADER_LENGTH_FULL, HEADER_LENGTH_PARTIAL, HostFrameParser, NULL_KEY, SUB, TOKEN_FE, WAVEFORM_RECORD_LENGTH, EVENT_KEY_REPLY_LENGTH, buildDeviceFrame, bulkPlan, classifyBulkRequest, concatBytes, conventions, echoHeader, encodeEventKeyReply, encodePollReply, encodeTextPage, encodeUnitPage, encodeWaveformHeader, encodeWaveformRecord, keyFromBytes, responseSubFor, subInfoForRequest, unescapeDeviceBytes, type BulkPlan, type HostFrame, type ParsedItem } from '@sfm/core/protocol';
import type { FaultInjector } from './faults.js';
import type { StatsRecorder } from './stats.js';
import { BLOCK_LENGTHS, type SimulatedUnit, type StoredEvent } from './unit.js';

/** The 1A compliance reads carry this at params[7]. */
export const COMPLIANCE_READ_MARKER = 0x64;
export interface BulkSessionState {
  key: number;
  endOffset: number;
  chunkCount: number;
  /** The last chunk served, from 1 (0 = only the probe so far). */
  lastChunk: number;
}

/** A read-only view of a session's state (for tests and the control API). */
export interface SessionState {
  contextKey: number | null;
  armed1E: boolean;
  armed5A: boolean;
  eraseArmed: boolean;
  bulk: BulkSessionState | null;
  pendingCompliancePages: number[];
  pendingCallHome: boolean;
}

export interface SessionEnv {
  stats?: StatsRecorder;
  faults?: FaultInjector;
}

/** What answering a request produced: a reply frame and, rarely, raw bytes after it. */
interface Reply {
  frame: Uint8Array;
  after?: Uint8Array;
}

function allZero(p: Uint8Array): boolean {
  for (const b of p) if (b !== 0) return false;
  return true;
}
/** params are all zero except the token 0xFE at [7]. */
function isTokenOnly(p: Uint8Array): boolean {
  for (let i = 0; i < p.length; i++) if (p[i] !== (i === 7 ? TOKEN_FE : 0)) return false;
  return true;
}

export class UnitSession {
  private readonly parser = new HostFrameParser();
  private contextKey: number | null = null;
  private armed1E = false;
  private armed5A = false;
  private eraseArmed = false;
  private bulk: (BulkSessionState & { record: StoredEvent; plan: BulkPlan }) | null = null;
  private pendingCompliance = new Map<number, Uint8Array>();
  private pendingCallHome: Uint8Array | null = null;
  private readonly stats: StatsRecorder | undefined;
  private readonly faults: FaultInjector | undefined;

  constructor(
    readonly unit: SimulatedUnit,
    private readonly send: (bytes: Uint8Array) => void,
    env: SessionEnv = {},
  ) {
    this.stats = env.stats;
    this.faults = env.faults;
  }

  /** Feeds bytes from the host; replies go to `send`, in order, before this returns. */
  receive(chunk: Uint8Array): void {
    this.stats?.bytesIn(chunk.length);
    for (const item of this.parser.push(chunk)) this.onItem(item);
  }

  /** Drops every piece of session state (a reboot; a new connection starts like this). */
  reset(): void {
    this.parser.reset();
    this.contextKey = null;
    this.armed1E = false;
    this.armed5A = false;
    this.eraseArmed = false;
    this.bulk = null;
    this.pendingCompliance.clear();
    this.pendingCallHome = null;
  }

  get state(): SessionState {
    const b = this.bulk;
    return {
      contextKey: this.contextKey,
      armed1E: this.armed1E,
      armed5A: this.armed5A,
      eraseArmed: this.eraseArmed,
      bulk: b ? { key: b.key, endOffset: b.endOffset, chunkCount: b.chunkCount, lastChunk: b.lastChunk } : null,
      pendingCompliancePages: [...this.pendingCompliance.keys()].sort((x, y) => x - y),
      pendingCallHome: this.pendingCallHome !== null,
    };
  }

  private onItem(item: ParsedItem): void {
    switch (item.kind) {
      case 'frame':
        if (item.frame.direction === 'host-to-device') this.onFrame(item.frame);
        return;
      case 'session-reset':
        this.stats?.sessionReset();
        return;
      case 'noise':
        this.stats?.noise(item.bytes.length);
        return;
      case 'error':
        this.stats?.parseError();
        return;
    }
  }

  private onFrame(f: HostFrame): void {
    if (!f.checksumOk) {
      this.stats?.badChecksum();
      return;
    }
    this.stats?.frame(f.sub);
    if (this.faults?.isStalled()) {
      this.stats?.unanswered();
      return;
    }
    let reply: Reply | null;
    try {
      reply = this.answer(f);
    } catch {
      // A block the unit cannot produce (e.g. after a garbage write) must not take the server down:
      // like a confused unit, it stays silent.
      this.stats?.internalError();
      reply = null;
    }
    if (!reply) {
      this.stats?.unanswered();
      return;
    }
    const { before, frame } = this.faults ? this.faults.applyToReply(reply.frame, f.sub) : { before: [], frame: reply.frame };
    for (const b of before) this.send(b);
    this.send(frame);
    if (reply.after) this.send(reply.after);
    this.stats?.answered();
  }

  private answer(f: HostFrame): Reply | null {
    if (f.style === 'bulk') return this.answerBulk(f);
    if (f.style === 'write') return this.answerWrite(f);
    return this.answerRead(f);
  }

  // --- frame builders ----------------------------------------------------------------------------

  private reply(f: HostFrame, content?: Uint8Array, page = 0): Reply {
    const echo = echoHeader(f.offset, f.params);
    const data = content ? concatBytes([echo, content]) : echo;
    return { frame: buildDeviceFrame(responseSubFor(f.sub), data, { leadingAck: true, page }) };
  }

  /** The generic two-step read: offset 0 → echo only; offset = DATA_LEN → echo + content. */
  private twoStep(f: HostFrame, content: () => Uint8Array): Reply | null {
    const len = subInfoForRequest(f.sub)?.dataLength;
    if (typeof len !== 'number') return null;
    if (f.offset === 0) return this.reply(f);
    if (f.offset !== len) return null;
    const c = content();
    if (c.length !== len) throw new Error(`internal: SUB ${f.sub.toString(16)} content is ${c.length} bytes, not ${len}`);
    return this.reply(f, c);
  }

  private setContext(key: number): void {
    this.contextKey = key;
    this.armed5A = false;
  }

  // --- reads -------------------------------------------------------------------------------------

  private answerRead(f: HostFrame): Reply | null {
    const p = f.params;
    const u = this.unit;
    switch (f.sub) {
      case SUB.POLL:
        return this.twoStep(f, () => encodePollReply());
      case SUB.SERIAL_NUMBER:
        return this.twoStep(f, () => u.serialBlock());
      case SUB.FULL_CONFIG:
        return this.twoStep(f, () => u.fullConfigBlock());
      case SUB.EVENT_INDEX:
        return this.twoStep(f, () => u.eventIndexBlock());
      case SUB.WAVEFORM_DATA_BLOCK:
        return this.twoStep(f, () => u.block09);
      case SUB.MONITOR_STATUS:
        return this.twoStep(f, () => u.monitorStatusBlock());
      case SUB.STORAGE_RANGE:
        return p[7] === TOKEN_FE ? this.twoStep(f, () => u.storageRangeBlock()) : null;
      case SUB.CALL_HOME_CONFIG:
        return this.twoStep(f, () => u.callHomeBlock);
      case SUB.COMPLIANCE_CONFIG:
        return this.readCompliance(f);
      case SUB.FIRST_EVENT_KEY:
        return this.readFirstKey(f);
      case SUB.NEXT_EVENT_KEY:
        return this.readNextKey(f);
      case SUB.WAVEFORM_HEADER:
        return this.readHeader(f);
      case SUB.WAVEFORM_RECORD:
        return this.readRecord(f);
      case SUB.START_MONITORING:
      case SUB.STOP_MONITORING:
        if (f.offset !== 0 || !isTokenOnly(p)) return null;
        if (f.sub === SUB.START_MONITORING) u.startMonitoring();
        else u.stopMonitoring();
        return this.reply(f);
      case SUB.ERASE_BEGIN:
        if (f.offset !== 0 || !isTokenOnly(p)) return null;
        this.eraseArmed = true;
        return this.reply(f);
      case SUB.ERASE_CONFIRM:
        if (f.offset !== 0 || !isTokenOnly(p) || !this.eraseArmed) return null;
        u.erase();
        this.eraseArmed = false;
        this.contextKey = null;
        this.armed1E = false;
        this.armed5A = false;
        this.bulk = null;
        return this.reply(f);
      default:
        return null;
    }
  }

  /** 1A: params[2] = page (start address high byte), params[7] = 0x64, offset = bytes asked. */
  private readCompliance(f: HostFrame): Reply | null {
    const p = f.params;
    if (p[7] !== COMPLIANCE_READ_MARKER) return null;
    if (f.offset === 0) return this.reply(f);
    const start = p[2]! * 0x100;
    const end = start + f.offset;
    if (end > COMPLIANCE_LENGTH) return null;
    return this.reply(f, this.unit.complianceBlock.subarray(start, end));
  }

  /** 1E: all-zero params → the first key (null when empty); token FE ("arm") → the context key. */
  private readFirstKey(f: HostFrame): Reply | null {
    const p = f.params;
    const first = allZero(p);
    if (!first && !isTokenOnly(p)) return null;
    if (f.offset === 0) return this.reply(f);
    if (f.offset !== EVENT_KEY_REPLY_LENGTH) return null;
    if (first) return this.reply(f, encodeEventKeyReply(this.unit.firstKey));
    if (this.contextKey === null) return this.reply(f, encodeEventKeyReply(NULL_KEY));
    this.armed1E = true;
    return this.reply(f, encodeEventKeyReply(this.contextKey));
  }

  /**
   * 1F: the key after the context key (set by 0A/0C), null at the end and without context.
   * All-zero params (browse) use the context up; token FE (arm) keeps it and arms 5A.
   */
  private readNextKey(f: HostFrame): Reply | null {
    const p = f.params;
    const browse = allZero(p);
    if (!browse && !isTokenOnly(p)) return null;
    if (f.offset === 0) return this.reply(f);
    if (f.offset !== EVENT_KEY_REPLY_LENGTH) return null;
    if (this.contextKey === null) return this.reply(f, encodeEventKeyReply(NULL_KEY));
    const next = this.unit.keyAfter(this.contextKey);
    if (browse) this.contextKey = null;
    else this.armed5A = true;
    return this.reply(f, encodeEventKeyReply(next));
  }

  /** 0A: key at params[4..7]; the probe's data[4] is the header length (0x46 full, 0x2C monitor log). */
  private readHeader(f: HostFrame): Reply | null {
    const key = keyFromBytes(f.params, 4);
    const rec = this.unit.record(key);
    if (!rec) return null;
    const len = rec.kind === 'full' ? HEADER_LENGTH_FULL : HEADER_LENGTH_PARTIAL;
    if (f.offset === 0) {
      const echo = echoHeader(f.offset, f.params);
      echo[4] = len;
      return { frame: buildDeviceFrame(responseSubFor(f.sub), echo, { leadingAck: true }) };
    }
    if (f.offset !== len) return null;
    const u = this.unit;
    const content =
      rec.kind === 'full'
        ? encodeWaveformHeader({
            kind: 'full', timestamp: rec.timestamp, record_type: 'waveform', sample_rate: rec.sampleRate,
            total_samples: rec.totalSamples, pretrigger_samples: rec.pretriggerSamples, record_time_s: rec.recordTimeS,
            geo_range: rec.geoRange, serial: u.serial,
          })
        : encodeWaveformHeader({
            // The record's serial is found by its "BE"; a unit named otherwise leaves it out.
            kind: 'monitor_log', start_time: rec.startTime, stop_time: rec.stopTime,
            serial: u.serial.startsWith(conventions.PARTIAL_HEADER.serialMark) ? u.serial : null, trigger_level_ips: rec.triggerLevelIps,
          });
    this.setContext(key);
    return this.reply(f, content);
  }

  /** 0C: key at params[4..7]; full events only. */
  private readRecord(f: HostFrame): Reply | null {
    const key = keyFromBytes(f.params, 4);
    const rec = this.unit.record(key);
    if (!rec || rec.kind !== 'full') return null;
    if (f.offset === 0) return this.reply(f);
    if (f.offset !== WAVEFORM_RECORD_LENGTH) return null;
    this.setContext(key);
    return this.reply(f, encodeWaveformRecord({ timestamp: rec.timestamp, record_type: 'waveform', peaks: { ...rec.peaks } }));
  }

  // --- 5A bulk stream ----------------------------------------------------------------------------

  private answerBulk(f: HostFrame): Reply | null {
    const r = classifyBulkRequest(f);
    const b = this.bulk;
    if (r.kind === 'term') {
      // TERM names where the residual starts; it ends the stream and carries the residual.
      if (f.params.length !== 10 || !b || r.keyHigh !== b.key >>> 16 || r.counter !== b.plan.termCounter) return null;
      this.bulk = null;
      this.armed5A = false;
      const from = b.plan.length - b.plan.residualLength;
      return this.reply(f, b.record.memory.subarray(from, b.plan.length), conventions.BULK_TERM_PAGE);
    }
    if (f.offset !== BULK_OFFSET_STREAM) return null;
    if (r.kind === 'page') {
      if (!b || r.keyHigh !== b.key >>> 16) return null;
      if (r.page === BULK_PAGE_TEXT) return this.reply(f, encodeTextPage({ ...b.record.project }), f.offset);
      if (r.page === BULK_PAGE_UNIT) return this.reply(f, encodeUnitPage({ serial: this.unit.serial, firmware: this.unit.firmware }), f.offset);
      return null;
    }
    if (f.params.length !== 11) return null;
    // A probe and a chunk look alike: inside a bulk session a counter of the plan names a chunk.
    if (b && r.keyHigh === b.key >>> 16) {
      const n = this.chunkNumber(b, r.counter);
      if (n !== null) {
        b.lastChunk = n;
        const from = b.plan.probeLength + (n - 1) * BULK_CHUNK_STEP;
        const reply = this.reply(f, b.record.memory.subarray(from, from + BULK_CHUNK_STEP), f.offset);
        if (n === b.chunkCount) reply.after = Uint8Array.of(conventions.BULK_STRAY_END_BYTE);
        return reply;
      }
      if (r.counter !== (b.key & 0xffff)) return null; // neither a chunk of this event nor its probe
    }
    return this.bulkProbe(f);
  }

  /**
   * The chunk (from 1) a counter names, or null. Counters wrap every 128 chunks (0x10000 / 0x200)
   * and one of a long event's equals the probe's: of the places with that counter (the probe at
   * 0, chunks from 1), the one closest to the chunk after the last one served; null for the probe.
   */
  private chunkNumber(b: BulkSessionState & { plan: BulkPlan }, counter: number): number | null {
    const want = b.lastChunk + 1;
    let best: number | null = counter === (b.key & 0xffff) ? 0 : null;
    b.plan.chunkCounters.forEach((c, i) => {
      if (c === counter && (best === null || Math.abs(i + 1 - want) < Math.abs(best - want))) best = i + 1;
    });
    return best === 0 ? null : best;
  }

  /** The 5A probe: params[1:5] = the context key, armed by a 1F(FE) since the last 0A/0C. */
  private bulkProbe(f: HostFrame): Reply | null {
    const key = keyFromBytes(f.params, 1);
    if (!this.armed5A || this.contextKey === null || key !== this.contextKey) return null;
    const rec = this.unit.record(key);
    if (!rec || rec.kind !== 'full') return null;
    const plan = bulkPlan(key, rec.endOffset);
    this.bulk = { key, endOffset: rec.endOffset, chunkCount: plan.chunkCounters.length, lastChunk: 0, record: rec, plan };
    return this.reply(f, rec.memory.subarray(0, plan.probeLength), BULK_OFFSET_STREAM);
  }

  // --- writes ------------------------------------------------------------------------------------

  private answerWrite(f: HostFrame): Reply | null {
    const data = unescapeDeviceBytes(f.data);
    const u = this.unit;
    switch (f.sub) {
      case SUB.EVENT_INDEX_WRITE:
        if (data.length !== EVENT_INDEX_LENGTH) return null;
        u.writeEventIndexBlock(data);
        return this.reply(f);
      case SUB.WAVEFORM_DATA_WRITE:
        if (data.length !== BLOCK_LENGTHS.block09) return null;
        u.writeBlock09(data);
        return this.reply(f);
      case SUB.TRIGGER_CONFIG_WRITE:
        if (data.length !== BLOCK_LENGTHS.triggerBlock) return null;
        u.writeTriggerBlock(data);
        return this.reply(f);
      case SUB.COMPLIANCE_WRITE: {
        const page = conventions.COMPLIANCE_PAGES.find((pg) => pg.page === f.params[2]);
        if (!page || data.length !== page.length) return null;
        this.pendingCompliance.set(page.page, data);
        return this.reply(f);
      }
      case SUB.WRITE_CONFIRM_A: {
        if (data.length !== 0) return null;
        const pages = conventions.COMPLIANCE_PAGES;
        if (pages.every((pg) => this.pendingCompliance.has(pg.page))) {
          const block = new Uint8Array(COMPLIANCE_LENGTH);
          for (const pg of pages) block.set(this.pendingCompliance.get(pg.page)!, pg.start);
          u.writeComplianceBlock(block);
        }
        this.pendingCompliance.clear();
        return this.reply(f);
      }
      case SUB.WRITE_CONFIRM_B:
      case SUB.WRITE_CONFIRM_C:
      case SUB.TRIGGER_CONFIG_CONFIRM:
        return data.length === 0 ? this.reply(f) : null;
      case SUB.CALL_HOME_WRITE: {
        const trailer = conventions.CALL_HOME_WRITE_TRAILER;
        if (data.length !== CALL_HOME_LENGTH + trailer.length) return null;
        if (!trailer.every((t, i) => data[CALL_HOME_LENGTH + i] === t)) return null;
        this.pendingCallHome = data.slice(0, CALL_HOME_LENGTH);
        return this.reply(f);
      }
      case SUB.CALL_HOME_CONFIRM:
        if (data.length !== 0) return null;
        if (this.pendingCallHome) u.writeCallHomeBlock(this.pendingCallHome);
        this.pendingCallHome = null;
        return this.reply(f);
      default:
        return null;
    }
  }
}
