/**
 * The device client: one session with one unit over a Link, speaking the request sequences of
 * protocol.md (§6 start-up, §4 reads, §10 event walk, §12 5A stream, §14–§17 commands and writes).
 *
 * Reads are retried once after a protocol error (a corrupt frame, a stale reply); writes and
 * commands never are — a unit must not get the same write twice. Reads of fixed-length SUBs are
 * single-step by default ([sfm]: the probe's reply carries nothing for them, and each round trip
 * costs ~1 s over a cellular modem); `twoStepReads` restores the vendor's probe-then-data pattern.
 */
import { concatBytes } from '../protocol/bytes.js';
import { callHomeWriteData, decodeCallHome, encodeCallHome, CALL_HOME_LENGTH } from '../protocol/call-home.js';
import { decodeComplianceConfig, patchComplianceConfig, type ComplianceChanges } from '../protocol/compliance-config.js';
import { checkCallHome, checkCallHomeChanges, checkComplianceChanges, checkComplianceWrite } from '../schema/requests.js';
import { COMPLIANCE_LENGTH, COMPLIANCE_PAGES } from '../protocol/conventions.js';
import { decodeEventIndex, EVENT_INDEX_LENGTH, type EventIndex } from '../protocol/event-index.js';
import { decodeEventKeyReply, EVENT_KEY_REPLY_LENGTH, keyToHex } from '../protocol/event-key.js';
import {
  buildReadFrame, buildWriteFrame, complianceParams, escapeDeviceBytes, keyParams, params, responseContent, tokenParams, type DeviceFrame,
} from '../protocol/frames.js';
import { decodeFullConfig, FULL_CONFIG_LENGTH, type FullConfig } from '../protocol/full-config.js';
import { decodeMonitorStatus, MONITOR_STATUS_LENGTH } from '../protocol/monitor-status.js';
import { POLL_DATA_LENGTH } from '../protocol/poll.js';
import { decodeSerialNumber, SERIAL_BLOCK_LENGTH, type SerialNumberBlock } from '../protocol/serial-number.js';
import { decodeStorageRange, isEmptyRange, STORAGE_RANGE_LENGTH, type StorageRangeKeys } from '../protocol/storage-range.js';
import { SUB } from '../protocol/sub-codes.js';
import { decodeWaveformHeader, headerLengthFromProbe, type FullEventHeader, type MonitorLogHeader, type WaveformHeader } from '../protocol/waveform-header.js';
import { decodeWaveformRecord, WAVEFORM_RECORD_LENGTH, type WaveformRecord } from '../protocol/waveform-record.js';
import {
  BULK_PAGE_TEXT, BULK_PAGE_UNIT, bodyFromEventMemory, bulkChunkFrame, bulkPageFrame, bulkPlan, bulkProbeFrame, bulkTermFrame,
  decodeProbeReply, decodeTextPage, type BulkPlan, type StrtRecord,
} from '../protocol/bulk-stream.js';
import { decodeWaveformBody, type DecodedBody } from '../protocol/waveform-body.js';
import { encodeTriggerBlock } from '../protocol/trigger-block.js';
import { PayloadError } from '../protocol/errors.js';
import { BULK_CHUNK_STEP } from '../protocol/conventions.js';
import { systemClock, type Clock } from '../clock.js';
import type { CallHomeChanges, CallHomeConfig, ComplianceConfig, DeviceInfo, MonitorStatus, ProjectText } from '../model.js';
import { connectionKey, type Link, type OpenOptions, type Transport } from '../transport/transport.js';
import { DeviceTimeout, EventListChanged, ProtocolError } from './errors.js';
import { RequestChannel, type ChannelStats } from './request-channel.js';
import { NO_PEAKS, NO_TEXT, type DeviceEvent } from './device-event.js';

export interface ClientOptions {
  /** Wait for one reply frame (default 15 s). */
  frameTimeoutMs?: number;
  /** Wait for one 5A reply (default 10 s; the unit answers in ~1 s). */
  chunkTimeoutMs?: number;
  /** Probe before every data read, as the vendor's software does (default false). */
  twoStepReads?: boolean;
  /**
   * A unit wakes from the line being asserted and answers POLL only after 5–10 s (protocol.md §24):
   * the first POLL of a session is sent again every `wakeRetryMs` (default 2.5 s) until it is
   * answered or max(frameTimeoutMs, wakeWindowMs) has passed (default 10 s).
   */
  wakeWindowMs?: number;
  wakeRetryMs?: number;
  /** Status polling while monitoring starts (default every 5 s, for up to 60 s). */
  monitorPollMs?: number;
  monitorStartTimeoutMs?: number;
  clock?: Clock;
  /** Names the unit in messages (default: the connection key). */
  describe?: string;
}

export interface ConnectOptions extends ClientOptions, OpenOptions {}

export interface DownloadProgress {
  /** Sample chunks read so far and in all (the probe and TERM's residual are not counted). */
  chunksDone: number;
  chunksTotal: number;
  /** Bytes of the event's memory received so far, and in all (the probe says how many). */
  bytesDone: number;
  bytesTotal: number;
}

export interface DownloadedWaveform {
  key: number;
  header: FullEventHeader;
  strt: StrtRecord;
  text: ProjectText;
  body: DecodedBody;
  /** Bytes of the event's memory received (STRT record, preamble, body, footer). */
  dataBytes: number;
}

export interface WalkOptions {
  /** Continue after this key (its header is read first: the 0A context the next 1F needs). */
  afterKey?: number;
  /** Stop before a key at or after this one (unsigned compare). */
  stopBeforeKey?: number;
  /** Asked after each record: true ends the walk there (a cold single event stops after its index). */
  shouldStop?: () => boolean;
}

/**
 * How a list is read: `headers-first` — 0A, 0C and 1F per event (4 round trips), the project text
 * left pending for readEventText; `vendor` — the vendor's whole per-event sequence with the text
 * (protocol.md §10.3, ~13 round trips), for a unit that insists.
 */
export type EventReadMode = 'headers-first' | 'vendor';

export interface ReadEventsOptions extends WalkOptions {
  /** Default headers-first. */
  mode?: EventReadMode;
  /** The timestamp the caller knows for `afterKey`: another one means the list changed (EventListChanged). */
  afterKeyTimestamp?: string | null;
  /** Each event as it completes (awaited, so a caller can store it before the next is read). */
  onEvent?: (e: DeviceEvent) => void | Promise<void>;
}

export interface EventsProbe {
  serial: string;
  range: StorageRangeKeys;
  /** SUB 08: records the unit ever made (survives erases). */
  counter: number;
}

const SESSION_RESET = Uint8Array.of(0x41, 0x03);
export const DEFAULT_WAKE_WINDOW_MS = 10_000;
export const DEFAULT_WAKE_RETRY_MS = 2_500;
/** Timers may fire a little early: a window with less than this left is over. */
const TIMER_SLACK_MS = 10;

function seconds(ms: number): string {
  return `${+(ms / 1000).toFixed(1)} s`;
}
const MAX_EVENTS = 100_000;

export class MiniMateClient {
  private readonly channel: RequestChannel;
  private readonly frameTimeoutMs: number;
  private readonly chunkTimeoutMs: number;
  private readonly twoStep: boolean;
  private readonly wakeWindowMs: number;
  private readonly wakeRetryMs: number;
  private readonly clock: Clock;
  private readonly monitorPollMs: number;
  private readonly monitorStartTimeoutMs: number;
  readonly describe: string;

  /** Opens a session: link, session reset, POLL handshake. */
  static async connect(transport: Transport, opts: ConnectOptions = {}): Promise<MiniMateClient> {
    const link = await transport.open({ timeoutMs: opts.timeoutMs, signal: opts.signal });
    const client = new MiniMateClient(link, { describe: connectionKey(transport.target), ...opts });
    try {
      await client.start();
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  constructor(link: Link, opts: ClientOptions = {}) {
    this.describe = opts.describe ?? 'unit';
    this.channel = new RequestChannel(link, this.describe);
    this.frameTimeoutMs = opts.frameTimeoutMs ?? 15_000;
    this.chunkTimeoutMs = opts.chunkTimeoutMs ?? 10_000;
    this.twoStep = opts.twoStepReads ?? false;
    this.wakeWindowMs = opts.wakeWindowMs ?? DEFAULT_WAKE_WINDOW_MS;
    this.wakeRetryMs = opts.wakeRetryMs ?? DEFAULT_WAKE_RETRY_MS;
    if (!(this.wakeRetryMs > 0)) throw new RangeError(`wakeRetryMs must be more than 0, got ${this.wakeRetryMs}`);
    this.clock = opts.clock ?? systemClock;
    this.monitorPollMs = opts.monitorPollMs ?? 5_000;
    this.monitorStartTimeoutMs = opts.monitorStartTimeoutMs ?? 60_000;
  }

  /** Wakes the unit (session reset and the first POLL, repeated while it wakes up), then the POLL handshake. */
  async start(): Promise<void> {
    await this.wake();
    await this.read('POLL', () => this.exchange(buildReadFrame(SUB.POLL, POLL_DATA_LENGTH), SUB.POLL, 'POLL'));
  }

  /**
   * `41 03` and the POLL probe, sent again every wakeRetryMs while the unit does not answer (it
   * hears nothing until it is awake) or answers garbage (its boot), for max(frameTimeoutMs,
   * wakeWindowMs) in all. A slow unit may answer more than one of them: the late answers are skipped.
   */
  private async wake(): Promise<void> {
    const window = Math.max(this.frameTimeoutMs, this.wakeWindowMs);
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const sentAt = performance.now();
      const left = window - (sentAt - started);
      try {
        await this.channel.send(SESSION_RESET);
        await this.exchange(buildReadFrame(SUB.POLL, 0), SUB.POLL, 'POLL probe', Math.min(this.wakeRetryMs, left));
        if (attempt > 1) this.channel.expectLate(0xff - SUB.POLL);
        return;
      } catch (e) {
        if (!(e instanceof DeviceTimeout || e instanceof ProtocolError) || !this.channel.isOpen) throw e;
        const elapsed = performance.now() - started;
        if (elapsed >= window - TIMER_SLACK_MS) {
          const tries = `sent ${attempt} time${attempt > 1 ? 's' : ''}; a unit answers 5–10 s after the line wakes it`;
          if (e instanceof ProtocolError) throw new ProtocolError(`${e.message} (${tries})`, { cause: e });
          throw new DeviceTimeout(`${this.describe}: POLL: no reply within ${seconds(window)} (${tries})`, { cause: e });
        }
        // A reply may be on its way (a slow line): only garbage is thrown away.
        if (e instanceof ProtocolError) this.channel.discardPending();
        // Garbage comes at once: wait out the attempt before the next POLL.
        const rest = Math.min(this.wakeRetryMs - (performance.now() - sentAt), window - elapsed);
        if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      }
    }
  }

  get stats(): Readonly<ChannelStats> {
    return this.channel.stats;
  }

  get isOpen(): boolean {
    return this.channel.isOpen;
  }

  close(): Promise<void> {
    return this.channel.close();
  }

  // --- plumbing --------------------------------------------------------------------------------

  private exchange(bytes: Uint8Array, requestSub: number, what: string, timeoutMs = this.frameTimeoutMs): Promise<DeviceFrame> {
    return this.channel.request(bytes, 0xff - requestSub, timeoutMs, `${this.describe}: ${what}`);
  }

  /** Runs a read; after a protocol error, once more (after `beforeRetry`, which restores what the first try used up). */
  private async read<T>(what: string, step: () => Promise<T>, beforeRetry?: () => Promise<unknown>): Promise<T> {
    try {
      return await step();
    } catch (e) {
      if (!(e instanceof ProtocolError) || !this.channel.isOpen) throw e;
      this.channel.discardPending();
      await beforeRetry?.();
      return step();
    }
  }

  private async readBlock(sub: number, length: number, p: Uint8Array, what: string): Promise<Uint8Array> {
    return this.read(what, () => this.readBlockOnce(sub, length, p, what));
  }

  private async readBlockOnce(sub: number, length: number, p: Uint8Array, what: string): Promise<Uint8Array> {
    if (this.twoStep) await this.exchange(buildReadFrame(sub, 0, p), sub, `${what} probe`);
    return this.content(await this.exchange(buildReadFrame(sub, length, p), sub, what), length, what);
  }

  private content(f: DeviceFrame, length: number, what: string): Uint8Array {
    const c = responseContent(f);
    if (c.length < length) throw new ProtocolError(`${this.describe}: ${what}: reply carries ${c.length} bytes, expected ${length}`);
    return c.subarray(0, length);
  }

  /** A command or write: never retried. */
  private async command(sub: number, what: string, p: Uint8Array = tokenParams()): Promise<void> {
    await this.exchange(buildReadFrame(sub, 0, p), sub, what);
  }

  private async writeBlock(sub: number, what: string, data?: Uint8Array, p?: Uint8Array): Promise<void> {
    await this.exchange(buildWriteFrame(sub, data, p), sub, what);
  }

  // --- identity and configuration ----------------------------------------------------------------

  async readSerialNumber(): Promise<SerialNumberBlock> {
    return decodeSerialNumber(await this.readBlock(SUB.SERIAL_NUMBER, SERIAL_BLOCK_LENGTH, params(), 'serial number'));
  }

  async readFullConfig(): Promise<FullConfig> {
    return decodeFullConfig(await this.readBlock(SUB.FULL_CONFIG, FULL_CONFIG_LENGTH, params(), 'full config'));
  }

  /** The compliance block as the unit holds it (logical bytes), read in its three pages. */
  async readComplianceRaw(): Promise<Uint8Array> {
    return this.read('compliance config', async () => {
      if (this.twoStep) await this.exchange(buildReadFrame(SUB.COMPLIANCE_CONFIG, 0, complianceParams(0)), SUB.COMPLIANCE_CONFIG, 'compliance probe');
      const pages: Uint8Array[] = [];
      for (const pg of COMPLIANCE_PAGES) {
        const what = `compliance page ${pg.page}`;
        const f = await this.exchange(buildReadFrame(SUB.COMPLIANCE_CONFIG, pg.length, complianceParams(pg.page)), SUB.COMPLIANCE_CONFIG, what);
        pages.push(this.content(f, pg.length, what));
      }
      const raw = concatBytes(pages);
      if (raw.length !== COMPLIANCE_LENGTH) throw new ProtocolError(`${this.describe}: compliance config is ${raw.length} bytes, expected ${COMPLIANCE_LENGTH}`);
      return raw;
    });
  }

  async readCompliance(): Promise<ComplianceConfig> {
    return decodeComplianceConfig(await this.readComplianceRaw());
  }

  async readEventIndex(): Promise<EventIndex> {
    return decodeEventIndex(await this.readBlock(SUB.EVENT_INDEX, EVENT_INDEX_LENGTH, params(), 'event index'));
  }

  async readStorageRange(): Promise<StorageRangeKeys> {
    return decodeStorageRange(await this.readBlock(SUB.STORAGE_RANGE, STORAGE_RANGE_LENGTH, tokenParams(), 'storage range'));
  }

  async readMonitorStatus(): Promise<MonitorStatus> {
    return decodeMonitorStatus(await this.readBlock(SUB.MONITOR_STATUS, MONITOR_STATUS_LENGTH, params(), 'monitor status'));
  }

  /** Identity and configuration: serial, full config, compliance, event index (protocol.md §6.2). */
  async readDeviceInfo(): Promise<DeviceInfo> {
    const serial = await this.readSerialNumber();
    const full = await this.readFullConfig();
    const compliance = await this.readCompliance();
    const index = await this.readEventIndex();
    return {
      serial: serial.serial,
      firmware: full.firmware,
      firmware_minor: serial.firmware_minor,
      dsp_version: full.dsp_version,
      calibration_date: full.calibration_date,
      event_count: index.lifetime_event_count,
      compliance,
    };
  }

  // --- events ------------------------------------------------------------------------------------

  private async keyReply(sub: number, p: Uint8Array, what: string): Promise<number> {
    return decodeEventKeyReply(await this.readBlock(sub, EVENT_KEY_REPLY_LENGTH, p, what));
  }

  /**
   * 1F (browse): the key after `current`, the context key. Answering it uses the unit's context
   * up, so a bare second 1F would answer "no more events" and end a walk early: the retry after a
   * protocol error first sets the context again (0A on `current`).
   */
  private async nextKey(current: number): Promise<number> {
    const what = 'next event key';
    const reply = await this.read(what, () => this.readBlockOnce(SUB.NEXT_EVENT_KEY, EVENT_KEY_REPLY_LENGTH, params(), what), () => this.readHeader(current));
    return decodeEventKeyReply(reply);
  }

  /** 0A on a key: its header, and the context the next 1F advances from. */
  async readHeader(key: number): Promise<WaveformHeader> {
    const block = await this.readHeaderBlock(key);
    return decodeWaveformHeader(block, block.length);
  }

  /** 0A on a key: the header block as the unit sent it (its length is the one the probe gives). */
  async readHeaderBlock(key: number): Promise<Uint8Array> {
    const what = `event header ${keyToHex(key)}`;
    return this.read(what, async () => {
      const probe = await this.exchange(buildReadFrame(SUB.WAVEFORM_HEADER, 0, keyParams(keyBytes(key))), SUB.WAVEFORM_HEADER, `${what} probe`);
      let length: number;
      try {
        length = headerLengthFromProbe(probe.data);
      } catch (e) {
        throw new ProtocolError(`${this.describe}: ${what}: ${(e as Error).message}`);
      }
      const f = await this.exchange(buildReadFrame(SUB.WAVEFORM_HEADER, length, keyParams(keyBytes(key))), SUB.WAVEFORM_HEADER, what);
      return this.content(f, length, what);
    });
  }

  /** 0C on a key: the waveform record block (peaks, timestamp, project strings) as the unit sent it. */
  readWaveformRecordBlock(key: number): Promise<Uint8Array> {
    return this.readBlock(SUB.WAVEFORM_RECORD, WAVEFORM_RECORD_LENGTH, keyParams(keyBytes(key)), `waveform record ${keyToHex(key)}`);
  }

  /** The browse walk 1E → (0A → 1F)*: every key with its kind, no waveform traffic. */
  async listKeys(): Promise<{ key: number; kind: WaveformHeader['kind'] }[]> {
    const out: { key: number; kind: WaveformHeader['kind'] }[] = [];
    await this.walk({}, undefined, async (key) => {
      out.push({ key, kind: (await this.readHeader(key)).kind });
    });
    return out;
  }

  /**
   * Reads events with the vendor's per-event sequence (protocol.md §10.3): all of them, or only
   * those after `afterKey` (0A on that key, then 1F onwards). Each full event brings its peaks
   * (0C) and the project text as it was when it was recorded (5A page 0x1002).
   */
  async readEvents(opts: ReadEventsOptions = {}): Promise<DeviceEvent[]> {
    const out: DeviceEvent[] = [];
    const anchor = opts.afterKeyTimestamp === undefined ? undefined : (h: WaveformHeader) => {
      const t = h.kind === 'full' ? h.timestamp : h.start_time;
      if (t !== opts.afterKeyTimestamp) throw new EventListChanged(`${this.describe}: event ${keyToHex(opts.afterKey!)} now holds another event (${t ?? 'no time'} instead of ${opts.afterKeyTimestamp ?? 'no time'})`);
    };
    const vendor = opts.mode === 'vendor';
    await this.walk(opts, anchor, async (key) => {
      const header = await this.readHeader(key);
      const ev = header.kind === 'monitor_log' ? monitorLogEvent(key, header) : vendor ? await this.readEventDetail(key, header) : await this.readEventHeader(key, header);
      out.push(ev);
      await opts.onEvent?.(ev);
    });
    return out;
  }

  /**
   * Visits each key from the first (or the one after `afterKey`, whose header `checkAnchor` may
   * reject); `visit` must set the 0A context. Stops at the end of the list, at `stopBeforeKey`
   * (records at or after it are newer than the caller's view of the unit), or when `shouldStop`.
   */
  private async walk(opts: WalkOptions, checkAnchor: ((h: WaveformHeader) => void) | undefined, visit: (key: number) => Promise<void>): Promise<void> {
    if (opts.shouldStop?.()) return;
    let key: number;
    if (opts.afterKey !== undefined) {
      const anchor = await this.readHeader(opts.afterKey); // also the 0A context the 1F needs
      checkAnchor?.(anchor);
      key = await this.nextKey(opts.afterKey);
    } else {
      key = await this.keyReply(SUB.FIRST_EVENT_KEY, params(), 'first event key');
    }
    const seen = new Set<number>();
    const stopAt = opts.stopBeforeKey;
    while (key !== 0 && (stopAt === undefined || key >>> 0 < stopAt >>> 0)) {
      if (seen.has(key) || seen.size >= MAX_EVENTS) throw new ProtocolError(`${this.describe}: the event list does not end (key ${keyToHex(key)} again)`);
      seen.add(key);
      await visit(key);
      if (opts.shouldStop?.()) return;
      key = await this.nextKey(key);
    }
  }

  /**
   * The events probe: the serial (who answers), the storage range (SUB 06) and the lifetime record
   * counter (SUB 08) — a fixed cost whatever the number of events. A session that read the serial
   * already gives it (the same link, the same unit): it is not asked again.
   */
  async readProbe(serial?: string): Promise<EventsProbe> {
    serial ??= (await this.readSerialNumber()).serial;
    const range = await this.readStorageRange();
    const counter = (await this.readEventIndex()).lifetime_event_count;
    return { serial, range, counter };
  }

  /**
   * What a list shows of a full event: 0C (peaks, record type) after the 0A already read — the
   * older walk `1E → 0A → 0C → 1F` (protocol.md §10.3) — with the text left pending.
   */
  private async readEventHeader(key: number, header: FullEventHeader): Promise<DeviceEvent> {
    const record = decodeWaveformRecord(await this.readWaveformRecordBlock(key));
    return fullEvent(key, header, record, NO_TEXT, true);
  }

  /**
   * The project text of a full event as it was when recorded: the 5A prelude without sample
   * chunks (10 round trips), with the timestamp its 0C record gives, so a caller can tell the key
   * still holds the event it listed.
   */
  async readEventText(key: number): Promise<{ text: ProjectText; timestamp: string | null }> {
    const { record, text } = await this.openBulk(key, async () => undefined);
    return { text, timestamp: record.timestamp };
  }

  /** 1E arm → 0C → 1F arm → POLL ×3 → 5A probe and pages (no sample chunks) → TERM. */
  private async readEventDetail(key: number, header: FullEventHeader): Promise<DeviceEvent> {
    const { record, text } = await this.openBulk(key, async () => undefined);
    return fullEvent(key, header, record, text, false);
  }

  /**
   * The shared prelude of an event read and a waveform download (protocol.md §10.3, §12); `inner`
   * reads the sample chunks it wants (none for an event read) after the probe and the pages. TERM
   * names where the residual starts whatever was read, and its reply carries the residual.
   */
  private async openBulk<T>(key: number, inner: (plan: BulkPlan, probe: Uint8Array) => Promise<T>) {
    const hex = keyToHex(key);
    await this.keyReply(SUB.FIRST_EVENT_KEY, tokenParams(), `arm 1E for ${hex}`);
    const record = decodeWaveformRecord(await this.readBlock(SUB.WAVEFORM_RECORD, WAVEFORM_RECORD_LENGTH, keyParams(keyBytes(key)), `waveform record ${hex}`));
    await this.keyReply(SUB.NEXT_EVENT_KEY, tokenParams(), `arm 1F for ${hex}`);
    for (let i = 0; i < 3; i++) await this.read('POLL', () => this.exchange(buildReadFrame(SUB.POLL, 0), SUB.POLL, 'POLL before 5A'));
    const what = `5A probe ${hex}`;
    const { strt, plan, probe } = await this.bulk(bulkProbeFrame(key), what, (c) => {
      const strt = decodeProbeReply(c);
      return { strt, plan: bulkPlan(key, strt.end_offset), probe: c };
    });
    const text = await this.bulk(bulkPageFrame(key, BULK_PAGE_TEXT), `5A text page ${hex}`, (c) => decodeTextPage(c));
    await this.bulk(bulkPageFrame(key, BULK_PAGE_UNIT), `5A unit page ${hex}`, () => undefined);
    const value = await inner(plan, probe);
    const residual = await this.bulk(bulkTermFrame(key, plan.termCounter), `5A end ${hex}`, (c) => c, false);
    return { record, strt, text, residual, result: value };
  }

  /** One 5A exchange; a read is retried once after a protocol error, TERM is not (a second TERM gets no answer). */
  private bulk<T>(frame: Uint8Array, what: string, decode: (content: Uint8Array) => T, retry = true): Promise<T> {
    const once = async () => {
      const f = await this.exchange(frame, SUB.BULK_WAVEFORM, what, this.chunkTimeoutMs);
      try {
        return decode(responseContent(f));
      } catch (e) {
        if (e instanceof PayloadError) throw new ProtocolError(`${this.describe}: ${what}: ${e.message}`);
        throw e;
      }
    };
    return retry ? this.read(what, once) : once();
  }

  /** Downloads one event's waveform through the 5A stream: the probe, the sample chunks, TERM's residual. */
  async downloadWaveform(key: number, opts: { onProgress?: (p: DownloadProgress) => void } = {}): Promise<DownloadedWaveform> {
    const hex = keyToHex(key);
    const header = await this.readHeader(key);
    if (header.kind !== 'full') throw new ProtocolError(`${this.describe}: event ${hex} is a monitor-log record; it has no waveform`);
    let plan: BulkPlan | undefined;
    const { strt, text, residual, result } = await this.openBulk(key, async (p, probe) => {
      plan = p;
      if (probe.length !== p.probeLength) throw new ProtocolError(`${this.describe}: 5A probe ${hex}: reply carries ${probe.length} bytes, the event's first ${p.probeLength} expected`);
      const memory = new Uint8Array(p.length);
      memory.set(probe, 0);
      let done = probe.length;
      const total = p.chunkCounters.length;
      opts.onProgress?.({ chunksDone: 0, chunksTotal: total, bytesDone: done, bytesTotal: p.length });
      for (let n = 1; n <= total; n++) {
        const chunk = await this.bulk(bulkChunkFrame(key, p.chunkCounters[n - 1]!), `5A chunk ${n}/${total} of ${hex}`, (c) => {
          if (c.length !== BULK_CHUNK_STEP) throw new PayloadError(`chunk carries ${c.length} bytes, expected ${BULK_CHUNK_STEP}`);
          return c;
        });
        memory.set(chunk, done);
        done += chunk.length;
        opts.onProgress?.({ chunksDone: n, chunksTotal: total, bytesDone: done, bytesTotal: p.length });
      }
      return memory;
    });
    if (residual.length !== plan!.residualLength) throw new ProtocolError(`${this.describe}: 5A end ${hex}: reply carries ${residual.length} bytes, the event's last ${plan!.residualLength} expected`);
    result.set(residual, plan!.length - plan!.residualLength);
    opts.onProgress?.({ chunksDone: plan!.chunkCounters.length, chunksTotal: plan!.chunkCounters.length, bytesDone: plan!.length, bytesTotal: plan!.length });
    let body: DecodedBody;
    try {
      body = decodeWaveformBody(bodyFromEventMemory(result), { samplesPerChannel: header.total_samples });
    } catch (e) {
      throw new ProtocolError(`${this.describe}: waveform ${hex}: ${(e as Error).message}`);
    }
    if (body.truncated) throw new ProtocolError(`${this.describe}: waveform ${hex} ends before its ${header.total_samples} samples`);
    return { key, header, strt, text, body, dataBytes: result.length };
  }

  // --- monitoring, erase, configuration writes ----------------------------------------------------

  /** Starts monitoring, then polls status until the unit reports it (the sensor check takes ~40 s). */
  async startMonitoring(): Promise<MonitorStatus> {
    await this.command(SUB.START_MONITORING, 'start monitoring');
    const started = this.clock.now();
    for (;;) {
      const status = await this.readMonitorStatus();
      if (status.is_monitoring) return status;
      if (this.clock.now() - started >= this.monitorStartTimeoutMs) {
        throw new DeviceTimeout(`${this.describe}: monitoring did not start within ${Math.round(this.monitorStartTimeoutMs / 1000)} s`);
      }
      await this.clock.sleep(this.monitorPollMs);
    }
  }

  async stopMonitoring(): Promise<MonitorStatus> {
    await this.command(SUB.STOP_MONITORING, 'stop monitoring');
    return this.readMonitorStatus();
  }

  /** Erase all events: A3 → 1C → 06 → A2 (protocol.md §16), then checks the unit is empty. */
  async eraseAll(): Promise<StorageRangeKeys> {
    await this.command(SUB.ERASE_BEGIN, 'erase begin');
    await this.readMonitorStatus();
    await this.readStorageRange();
    await this.command(SUB.ERASE_CONFIRM, 'erase confirm');
    const range = await this.readStorageRange();
    if (!isEmptyRange(range)) throw new ProtocolError(`${this.describe}: the unit still holds events after erase`);
    return range;
  }

  /**
   * Partial compliance write: reads the blocks, changes only the given fields, writes them back
   * with the documented sequence 68→73, 71×3→72, 82→83, 69→74→72, and reads back to confirm.
   * The unit's setup with the changes applied is judged first (checkComplianceWrite): a write the
   * unit could not record with is refused before anything is written.
   */
  async writeCompliance(changes: ComplianceChanges): Promise<ComplianceConfig> {
    checkComplianceChanges(changes);
    const raw = await this.readComplianceRaw();
    checkComplianceWrite(decodeComplianceConfig(raw), changes);
    const index = await this.readBlock(SUB.EVENT_INDEX, EVENT_INDEX_LENGTH, params(), 'event index');
    const block09 = await this.readBlock(SUB.WAVEFORM_DATA_BLOCK, 0xca, params(), 'waveform-data block');
    const patched = patchComplianceConfig(raw, changes);
    const cfg = decodeComplianceConfig(patched);
    await this.writeBlock(SUB.EVENT_INDEX_WRITE, 'event-index write', escapeDeviceBytes(index));
    await this.writeBlock(SUB.WRITE_CONFIRM_B, 'write confirm B');
    for (const pg of COMPLIANCE_PAGES) {
      const data = escapeDeviceBytes(patched.subarray(pg.start, pg.start + pg.length));
      await this.writeBlock(SUB.COMPLIANCE_WRITE, `compliance write page ${pg.page}`, data, complianceParams(pg.page));
    }
    await this.writeBlock(SUB.WRITE_CONFIRM_A, 'write confirm A');
    await this.writeBlock(SUB.TRIGGER_CONFIG_WRITE, 'trigger-config write', escapeDeviceBytes(encodeTriggerBlock(cfg)));
    await this.writeBlock(SUB.TRIGGER_CONFIG_CONFIRM, 'trigger-config confirm');
    await this.writeBlock(SUB.WAVEFORM_DATA_WRITE, 'waveform-data write', escapeDeviceBytes(block09));
    await this.writeBlock(SUB.WRITE_CONFIRM_C, 'write confirm C');
    await this.writeBlock(SUB.WRITE_CONFIRM_A, 'write confirm A');
    const back = await this.readComplianceRaw();
    if (!bytesMatch(back, patched)) throw new ProtocolError(`${this.describe}: the unit did not take the new compliance config`);
    return cfg;
  }

  async readCallHome(): Promise<CallHomeConfig> {
    return decodeCallHome(await this.readBlock(SUB.CALL_HOME_CONFIG, CALL_HOME_LENGTH, params(), 'call-home config'));
  }

  /** Changes the given call-home settings; the rest of the block goes back as read. */
  async writeCallHome(changes: CallHomeChanges): Promise<CallHomeConfig> {
    checkCallHomeChanges(changes);
    const current = await this.readBlock(SUB.CALL_HOME_CONFIG, CALL_HOME_LENGTH, params(), 'call-home config');
    const now = decodeCallHome(current);
    const merged: CallHomeConfig = {
      ...now,
      ...changes,
      time1: { ...now.time1, ...changes.time1 },
      time2: { ...now.time2, ...changes.time2 },
    };
    const block = encodeCallHome(checkCallHome(merged), current);
    await this.writeBlock(SUB.CALL_HOME_WRITE, 'call-home write', callHomeWriteData(block));
    await this.writeBlock(SUB.CALL_HOME_CONFIRM, 'call-home confirm');
    const back = await this.readCallHome();
    if (JSON.stringify(back) !== JSON.stringify(decodeCallHome(block))) throw new ProtocolError(`${this.describe}: the unit did not take the call-home settings`);
    return back;
  }
}

function keyBytes(key: number): Uint8Array {
  return Uint8Array.of((key >>> 24) & 0xff, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff);
}

function bytesMatch(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A monitor-log record: its interval and trigger level, from its 0A header alone (it has no 0C or 5A data). */
function monitorLogEvent(key: number, h: MonitorLogHeader): DeviceEvent {
  return {
    key, timestamp: h.start_time, end_timestamp: h.stop_time, record_type: 'monitor_log', sample_rate: null, record_time_s: null,
    total_samples: null, pretrigger_samples: null, trigger_level_ips: h.trigger_level_ips, geo_range: null, peaks: NO_PEAKS, project: NO_TEXT,
    projectPending: false,
  };
}

function fullEvent(key: number, header: FullEventHeader, record: WaveformRecord, text: ProjectText, projectPending: boolean): DeviceEvent {
  return {
    key,
    timestamp: header.timestamp ?? record.timestamp,
    end_timestamp: null,
    record_type: record.record_type,
    sample_rate: header.sample_rate,
    record_time_s: header.record_time_s,
    total_samples: header.total_samples,
    pretrigger_samples: header.pretrigger_samples,
    trigger_level_ips: null,
    geo_range: header.geo_range,
    peaks: record.peaks,
    project: text,
    projectPending,
  };
}

/** Runs `fn` in one session with the unit behind `transport`, closing the link whatever happens. */
export async function withSession<T>(transport: Transport, opts: ConnectOptions, fn: (c: MiniMateClient) => Promise<T>): Promise<T> {
  const client = await MiniMateClient.connect(transport, opts);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
