/**
 * The archive of the PostgreSQL store: every event read, kept once by (serial, timestamp, key) in
 * archive_events — the live lists point into it —, waveforms by the same identity, the fleet
 * (units) and the sessions. Pages are keyset-paged, newest first: (ts DESC, id DESC) for events,
 * (started_at DESC, id DESC) for sessions, each served by an index. A unit's last event and last
 * session come with it in one statement (lateral joins), however many units there are.
 */
import { createHash } from 'node:crypto';
import { BEFORE_EVERY_SESSION, checkLimit, checkRetention, checkReview, checkSession, decodeCursor, encodeCursor, unitScope } from '@sfm/core/cache';
import type { Archive, ArchiveEventQuery, Page, RetentionPolicy, StoredWaveform } from '@sfm/core/cache';
import type { AnalysisSummary, ArchivedEvent, ArchiveStats, DeviceInfo, Event, EventSource, MonitorStatus, Session, Unit } from '@sfm/core';
import type { WriteTx } from './postgres-store.js';
import { ROW_OVERHEAD_BYTES } from './schema.js';
import { SQL, st, timestampOf, tsOf, type Row, type Statement } from './statements.js';
import { waveformOf } from './waveform-columns.js';

const ARCHIVED_COLUMNS = `a.id, a.serial, a.body, a.received_at, a.source, a.false_trigger, a.notes, a.analysis,
  EXISTS (SELECT 1 FROM waveforms w WHERE w.serial = a.serial AND w.key = a.key AND w.ts = a.ts), a.ts`;
const ARCHIVED_WIDTH = 10;
const SESSION_COLUMNS = 's.id, s.serial, s.kind, s.peer, s.started_at, s.duration_ms, s.events_new, s.waveforms_new, s.erased, s.result, s.capture';
const SESSION_WIDTH = 11;
/** Nothing in a live list: what retention may remove. */
const NOT_LIVE = 'NOT EXISTS (SELECT 1 FROM live_events l WHERE l.event_id = a.id)';

const UNIT_SELECT = `SELECT u.serial, u.first_seen, u.last_seen, u.last_address, u.info, u.last_status,
    (SELECT count(*) FROM archive_events c WHERE c.serial = u.serial), e.*, s.*
  FROM units u
  LEFT JOIN LATERAL (SELECT ${ARCHIVED_COLUMNS} FROM archive_events a WHERE a.serial = u.serial ORDER BY a.ts DESC, a.id DESC LIMIT 1) e ON true
  LEFT JOIN LATERAL (SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.serial = u.serial ORDER BY s.started_at DESC, s.id DESC LIMIT 1) s ON true`;

const Q = {
  byId: st('archive_by_id', `SELECT ${ARCHIVED_COLUMNS} FROM archive_events a WHERE a.id = $1`),
  identity: st('archive_identity', 'SELECT serial, key, ts FROM archive_events WHERE id = $1'),
  waveform: st('archive_waveform', `SELECT w.fetched_at, w.event_index, w.sample_rate, w.pretrigger, w.geo_range, w.tran, w.vert, w.long, w.micl, w.document, w.document_index
    FROM archive_events a JOIN waveforms w ON w.serial = a.serial AND w.key = a.key AND w.ts = a.ts WHERE a.id = $1`),
  review: st('archive_review', `UPDATE archive_events SET false_trigger = coalesce($2, false_trigger), notes = CASE WHEN $3 THEN $4 ELSE notes END
    WHERE id = $1 RETURNING serial`),
  analysis: st('archive_analysis', 'UPDATE archive_events SET analysis = $2 WHERE id = $1 RETURNING serial'),
  units: st('archive_units', `${UNIT_SELECT} ORDER BY u.last_seen DESC, u.serial`),
  unit: st('archive_unit', `${UNIT_SELECT} WHERE u.serial = $1`),
  insertSession: st('insert_session', `INSERT INTO sessions (serial, kind, peer, started_at, duration_ms, events_new, waveforms_new, erased, result, capture)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`),
  sessionById: st('session_by_id', `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = $1`),
  sessions: st('sessions_page', `SELECT ${SESSION_COLUMNS} FROM sessions s
    WHERE ($1::text IS NULL OR s.serial = $1) AND (s.started_at, s.id) < ($2::bigint, $3::bigint)
    ORDER BY s.started_at DESC, s.id DESC LIMIT $4`),
  totals: st('archive_totals', "SELECT kind, entries, bytes FROM kind_totals WHERE kind IN ('archive_events', 'waveform')"),
  counts: st('archive_counts', 'SELECT (SELECT count(*) FROM units), (SELECT count(*) FROM sessions)'),
  oldSerials: st('retain_old_serials', `SELECT DISTINCT serial FROM archive_events a WHERE received_at < $1 AND ${NOT_LIVE}`),
  oldWaveforms: st('retain_old_waveforms', `DELETE FROM waveforms w USING archive_events a
    WHERE w.serial = a.serial AND w.key = a.key AND w.ts = a.ts AND a.received_at < $1 AND ${NOT_LIVE} RETURNING 1`),
  oldEvents: st('retain_old_events', `DELETE FROM archive_events a WHERE received_at < $1 AND ${NOT_LIVE} RETURNING 1`),
  // The oldest waveforms whose event no live list holds, until `$1` bytes are gone: a row goes
  // when what went before it (in that order) is still short of $1.
  overBudget: st('retain_over_budget', `WITH removable AS (
      SELECT w.serial, w.key, w.ts, sum(w.bytes) OVER (ORDER BY w.fetched_at, w.serial, w.key, w.ts) - w.bytes AS before
      FROM waveforms w
      WHERE NOT EXISTS (SELECT 1 FROM archive_events a JOIN live_events l ON l.event_id = a.id WHERE a.serial = w.serial AND a.key = w.key AND a.ts = w.ts))
    DELETE FROM waveforms w USING removable r WHERE w.serial = r.serial AND w.key = r.key AND w.ts = r.ts AND r.before < $1
    RETURNING w.serial`),
  durableOn: st('durable_on', "SELECT set_config('synchronous_commit', 'on', true)"),
  mark: st('durable_mark', 'INSERT INTO durable_mark (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
};

const iso = (ms: number): string => new Date(ms).toISOString();

function toArchived(r: Row, at = 0): ArchivedEvent {
  const { index: _none, ...event } = JSON.parse(r[at + 2] as string) as Event;
  return {
    id: r[at] as number,
    serial: r[at + 1] as string,
    ...event,
    received_at: iso(r[at + 3] as number),
    source: r[at + 4] as EventSource,
    has_waveform: r[at + 8] as boolean,
    false_trigger: r[at + 5] as boolean,
    notes: r[at + 6] as string | null,
    analysis_summary: r[at + 7] === null ? null : (JSON.parse(r[at + 7] as string) as AnalysisSummary),
  };
}

function toSession(r: Row, at = 0): Session {
  return {
    id: r[at] as number,
    serial: r[at + 1] as string,
    kind: r[at + 2] as Session['kind'],
    peer: r[at + 3] as string,
    started_at: iso(r[at + 4] as number),
    duration_s: (r[at + 5] as number) / 1000,
    events_new: r[at + 6] as number,
    waveforms_new: r[at + 7] as number,
    erased: r[at + 8] as boolean,
    result: r[at + 9] as string,
    capture: r[at + 10] as string | null,
  };
}

function toUnit(r: Row): Unit {
  const e = 7;
  const s = e + ARCHIVED_WIDTH;
  return {
    serial: r[0] as string,
    first_seen: iso(r[1] as number),
    last_seen: iso(r[2] as number),
    last_address: r[3] as string | null,
    last_session: r[s] === null ? null : toSession(r, s),
    event_count: r[6] as number,
    last_event: r[e] === null ? null : toArchived(r, e),
    last_status: r[5] === null ? null : (JSON.parse(r[5] as string) as MonitorStatus),
    info: r[4] === null ? null : (JSON.parse(r[4] as string) as DeviceInfo),
  };
}

/** A page of `limit` from `limit + 1` rows. */
function paged<T>(rows: Row[], limit: number, item: (r: Row) => T, cursor: (last: Row) => string): Page<T> {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return { items: page.map(item), nextCursor: more && last ? cursor(last) : null };
}

export class PostgresArchive implements Archive {
  readonly persistent = true;
  /** The filtered listings' statements by their text (few: one per combination of filters). */
  private readonly listings = new Map<string, Statement>();

  constructor(
    private readonly read: (s: Statement, values?: unknown[]) => Promise<Row[]>,
    private readonly write: <T>(fn: (tx: WriteTx) => Promise<T>) => Promise<T>,
    private readonly guard: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  events(query: ArchiveEventQuery): Promise<Page<ArchivedEvent>> {
    return this.guard(async () => {
      checkLimit(query.limit);
      const where: string[] = [];
      const values: unknown[] = [];
      const param = (v: unknown): string => `$${values.push(v)}`;
      if (query.serial !== undefined) where.push(`a.serial = ${param(query.serial)}`);
      if (query.from !== undefined) where.push(`a.ts <> '' AND a.ts >= ${param(query.from)}`);
      if (query.to !== undefined) where.push(`a.ts <> '' AND a.ts <= ${param(query.to)}`);
      if (query.minPvsIps !== undefined) where.push(`a.pvs >= ${param(query.minPvsIps)}::float8`);
      // lower() under the C collation folds ASCII letters only; strpos takes % and _ literally.
      if (query.project !== undefined) where.push(`strpos(lower(a.project), lower(${param(query.project)}::text COLLATE "C")) > 0`);
      if (query.recordType !== undefined) where.push(`a.record_type = ${param(query.recordType)}`);
      if (query.falseTrigger !== undefined) where.push(`a.false_trigger = ${param(query.falseTrigger)}`);
      if (query.cursor !== undefined) {
        const [at, id] = decodeCursor('events', query.cursor);
        const ts = param(tsOf(at as string | null));
        // A row value: the index's range starts at the cursor (an OR of the two cases scans to it).
        where.push(`(a.ts, a.id) < (${ts}, ${param(id)})`);
      }
      const text = `SELECT ${ARCHIVED_COLUMNS} FROM archive_events a ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.ts DESC, a.id DESC LIMIT ${param(query.limit + 1)}`;
      let s = this.listings.get(text);
      if (!s) this.listings.set(text, (s = st(`archive_events_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text)));
      const rows = await this.read(s, values);
      return paged(rows, query.limit, (r) => toArchived(r), (last) => encodeCursor('events', [timestampOf(last[9] as string), last[0] as number]));
    });
  }

  async event(id: number): Promise<ArchivedEvent | undefined> {
    if (!Number.isSafeInteger(id)) return this.guard(async () => undefined);
    const row = (await this.read(Q.byId, [id]))[0];
    return row && toArchived(row);
  }

  async waveform(id: number): Promise<StoredWaveform | undefined> {
    if (!Number.isSafeInteger(id)) return this.guard(async () => undefined);
    const [ident] = await this.read(Q.identity, [id]);
    if (!ident) return undefined;
    const row = (await this.read(Q.waveform, [id]))[0];
    return row && waveformOf(row, ident[1] as number, timestampOf(ident[2] as string));
  }

  review(id: number, changes: { falseTrigger?: boolean; notes?: string | null }): Promise<ArchivedEvent | undefined> {
    return this.guard(async () => {
      checkReview(changes);
      if (!Number.isSafeInteger(id)) return undefined;
      const notesGiven = changes.notes !== undefined;
      await this.write(async (tx) => {
        const [row] = await tx.run(Q.review, [id, changes.falseTrigger ?? null, notesGiven, notesGiven ? changes.notes : null]);
        if (row) tx.touch(unitScope(row[0] as string));
      });
      return this.event(id);
    });
  }

  setAnalysis(id: number, summary: AnalysisSummary | null): Promise<boolean> {
    if (!Number.isSafeInteger(id)) return this.guard(async () => false);
    return this.write(async (tx) => {
      const [row] = await tx.run(Q.analysis, [id, summary === null ? null : JSON.stringify(summary)]);
      if (row) tx.touch(unitScope(row[0] as string));
      return row !== undefined;
    });
  }

  async units(): Promise<Unit[]> {
    return (await this.read(Q.units)).map(toUnit);
  }

  async unit(serial: string): Promise<Unit | undefined> {
    const row = (await this.read(Q.unit, [serial]))[0];
    return row && toUnit(row);
  }

  recordSession(session: Omit<Session, 'id'>): Promise<Session> {
    return this.guard(async () => {
      checkSession(session);
      const s = session;
      const started = Date.parse(s.started_at);
      const ms = Math.round(s.duration_s * 1000);
      const id = await this.write(async (tx) => {
        const [[made]] = (await tx.run(Q.insertSession, [s.serial, s.kind, s.peer, started, ms, s.events_new, s.waveforms_new, s.erased, s.result, s.capture])) as [Row];
        // Seen when it started, and at its peer when it ended.
        await tx.run(SQL.see, [s.serial, started, started]);
        await tx.run(SQL.seeAddress, [s.serial, started + ms, s.peer]);
        tx.touch(unitScope(s.serial));
        return made as number;
      });
      return toSession((await this.read(Q.sessionById, [id]))[0]!);
    });
  }

  sessions(query: { serial?: string; limit: number; cursor?: string }): Promise<Page<Session>> {
    return this.guard(async () => {
      checkLimit(query.limit);
      const [at, id] = query.cursor === undefined ? BEFORE_EVERY_SESSION : decodeCursor('sessions', query.cursor);
      const rows = await this.read(Q.sessions, [query.serial ?? null, at, id, query.limit + 1]);
      return paged(rows, query.limit, (r) => toSession(r), (last) => encodeCursor('sessions', [last[4] as number, last[0] as number]));
    });
  }

  /**
   * What the archive's rows hold, from the totals the triggers keep: events (their text and row
   * overhead), waveforms as the contract counts them (2 bytes a sample, every channel, and the
   * document).
   */
  private async payload(run: (s: Statement) => Promise<Row[]>): Promise<{ events: number; waveforms: number; eventRows: number; waveformRows: number }> {
    const t = Object.fromEntries((await run(Q.totals)).map(([kind, entries, bytes]) => [kind as string, { entries: entries as number, bytes: bytes as number }]));
    const waveformRows = t.waveform?.entries ?? 0;
    return {
      events: t.archive_events?.bytes ?? 0,
      eventRows: t.archive_events?.entries ?? 0,
      waveforms: (t.waveform?.bytes ?? 0) - waveformRows * ROW_OVERHEAD_BYTES,
      waveformRows,
    };
  }

  stats(): Promise<Omit<ArchiveStats, 'retention_removed'>> {
    return this.guard(async () => {
      const p = await this.payload((s) => this.read(s));
      const [[units, sessions]] = (await this.read(Q.counts)) as [Row];
      return {
        persistent: this.persistent,
        units: units as number,
        events: p.eventRows,
        waveforms: p.waveformRows,
        event_bytes: p.events,
        waveform_bytes: p.waveforms,
        sessions: sessions as number,
      };
    });
  }

  retain(policy: RetentionPolicy): Promise<{ events: number; waveforms: number; bytes: number }> {
    return this.guard(async () => {
      checkRetention(policy);
      return this.write(async (tx) => {
        const out = { events: 0, waveforms: 0, bytes: 0 };
        const totals = (s: Statement) => tx.run(s);
        const before = await this.payload(totals);
        const touched = new Set<string>();
        if (policy.receivedBefore !== undefined) {
          for (const [serial] of await tx.run(Q.oldSerials, [policy.receivedBefore])) touched.add(serial as string);
          out.waveforms += (await tx.run(Q.oldWaveforms, [policy.receivedBefore])).length;
          out.events += (await tx.run(Q.oldEvents, [policy.receivedBefore])).length;
        }
        if (policy.waveformBytes !== undefined) {
          const excess = (await this.payload(totals)).waveforms - policy.waveformBytes;
          if (excess > 0) {
            const gone = await tx.run(Q.overBudget, [excess]);
            for (const [serial] of gone) touched.add(serial as string);
            out.waveforms += gone.length;
          }
        }
        const after = await this.payload(totals);
        out.bytes = before.events + before.waveforms - after.events - after.waveforms;
        for (const serial of touched) tx.touch(unitScope(serial));
        return out;
      });
    });
  }

  /** A commit made with synchronous_commit on: it, and every commit before it, is on the server's disk. */
  durable(): Promise<void> {
    return this.write(async (tx) => {
      await tx.run(Q.durableOn);
      await tx.run(Q.mark, [Date.now()]);
    });
  }
}
