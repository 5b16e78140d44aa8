/**
 * The archive of the SQLite store: every event read, kept once by (serial, timestamp, key) in
 * archive_events — the live lists point into it —, waveforms by the same identity, the fleet
 * (units) and the sessions. Pages are keyset-paged, newest first: (ts DESC, id DESC) for events,
 * (started_at DESC, id DESC) for sessions, each served by an index, so a page costs the same
 * however large the archive is.
 */
import type Database from 'better-sqlite3';
import { BEFORE_EVERY_SESSION, checkLimit, checkRetention, checkReview, checkSession, decodeCursor, encodeCursor, refreshedEvent, unitScope } from '@sfm/core/cache';
import type { Archive, ArchiveEventQuery, Page, RetentionPolicy, StoredWaveform } from '@sfm/core/cache';
import type { AnalysisSummary, ArchivedEvent, ArchiveStats, DeviceInfo, Event, EventSource, MonitorStatus, Session, Unit } from '@sfm/core';
import { ROW_OVERHEAD_BYTES } from './schema.js';
import { WAVEFORM_BLOB_HEADER_BYTES, decodeWaveformBlob } from './waveform-blob.js';

/** The ts column: the event's timestamp, '' for none (it sorts oldest). */
export function tsOf(timestamp: string | null): string {
  return timestamp ?? '';
}

export function timestampOf(ts: string): string | null {
  return ts === '' ? null : ts;
}

/** A refresh whose text is still to be read, with the text the archive already has (when it has it). */
export function keepKnownText(e: Event, knownBody: string): ReturnType<typeof eventColumns> {
  return eventColumns(refreshedEvent(JSON.parse(knownBody) as Omit<Event, 'index'>, e));
}

/** What the archive keeps of an Event: its text without the live index, and the filtered columns. */
export function eventColumns(e: Event): { body: string; recordType: string; pvs: number | null; project: string | null } {
  const { index: _live, ...rest } = e;
  return { body: JSON.stringify(rest), recordType: e.record_type, pvs: e.peaks.pvs_ips, project: e.project.project };
}

type ArchivedRow = [id: number, serial: string, body: string, receivedAt: number, source: EventSource, falseTrigger: number, notes: string | null, analysis: string | null, hasWaveform: number, ts: string];
type SessionRow = [id: number, serial: string, kind: Session['kind'], peer: string, startedAt: number, durationMs: number, eventsNew: number, waveformsNew: number, erased: number, result: string, capture: string | null];
type UnitRow = [serial: string, firstSeen: number, lastSeen: number, lastAddress: string | null, info: string | null, lastStatus: string | null, eventCount: number, lastEventId: number | null, lastSessionId: number | null];

const ARCHIVED_COLUMNS = `a.id, a.serial, a.body, a.received_at, a.source, a.false_trigger, a.notes, a.analysis,
  EXISTS (SELECT 1 FROM waveforms w WHERE w.serial = a.serial AND w.key = a.key AND w.ts = a.ts), a.ts`;
const SESSION_COLUMNS = 'id, serial, kind, peer, started_at, duration_ms, events_new, waveforms_new, erased, result, capture';

const iso = (ms: number): string => new Date(ms).toISOString();

function toArchived(r: ArchivedRow): ArchivedEvent {
  const { index: _none, ...event } = JSON.parse(r[2]) as Event;
  return {
    id: r[0],
    serial: r[1],
    ...event,
    received_at: iso(r[3]),
    source: r[4],
    has_waveform: r[8] === 1,
    false_trigger: r[5] === 1,
    notes: r[6],
    analysis_summary: r[7] === null ? null : (JSON.parse(r[7]) as AnalysisSummary),
  };
}

function toSession(r: SessionRow): Session {
  return {
    id: r[0], serial: r[1], kind: r[2], peer: r[3], started_at: iso(r[4]), duration_s: r[5] / 1000, events_new: r[6], waveforms_new: r[7],
    erased: r[8] === 1, result: r[9], capture: r[10],
  };
}

export interface SqliteArchiveOptions {
  persistent: boolean;
  /** Records that a unit's data changed (the change feed). */
  touch: (scope: string) => void;
  /** A write showed the unit at this time (and at this address). */
  seen: (serial: string, at: number) => void;
  seenAt: (serial: string, at: number, address: string) => void;
}

/** Up to this many events over a peak filter, the page is read through the pvs index (and sorted). */
const FEW_PEAKS = 5000;

export class SqliteArchive implements Archive {
  readonly persistent: boolean;
  private readonly q;
  private readonly eventQueries = new Map<string, Database.Statement<unknown[], ArchivedRow>>();
  private readonly tx;

  constructor(
    private readonly db: Database.Database,
    private readonly run: <T>(fn: () => T) => Promise<T>,
    private readonly opts: SqliteArchiveOptions,
  ) {
    this.persistent = opts.persistent;
    this.q = {
      byId: db.prepare<[number], ArchivedRow>(`SELECT ${ARCHIVED_COLUMNS} FROM archive_events a WHERE a.id = ?`).raw(),
      countPvsAtLeast: db.prepare<[number, number], number>('SELECT count(*) FROM (SELECT 1 FROM archive_events INDEXED BY archive_pvs WHERE pvs >= ? LIMIT ?)').pluck(),
      identity: db.prepare<[number], [string, number, string]>('SELECT serial, key, ts FROM archive_events WHERE id = ?').raw(),
      waveform: db.prepare<[string, number, string], [Buffer, number, Buffer | null, number | null]>(
        'SELECT data, fetched_at, document, document_index FROM waveforms WHERE serial = ? AND key = ? AND ts = ?',
      ).raw(),
      review: db.prepare<[{ falseTrigger: number | null; notesGiven: number; notes: string | null; id: number }]>(
        'UPDATE archive_events SET false_trigger = coalesce(@falseTrigger, false_trigger), notes = CASE WHEN @notesGiven THEN @notes ELSE notes END WHERE id = @id',
      ),
      analysis: db.prepare<[string | null, number]>('UPDATE archive_events SET analysis = ? WHERE id = ?'),
      units: db.prepare<[], UnitRow>(
        `SELECT u.serial, u.first_seen, u.last_seen, u.last_address, u.info, u.last_status,
           (SELECT count(*) FROM archive_events a WHERE a.serial = u.serial),
           (SELECT id FROM archive_events a WHERE a.serial = u.serial ORDER BY ts DESC, id DESC LIMIT 1),
           (SELECT id FROM sessions s WHERE s.serial = u.serial ORDER BY started_at DESC, id DESC LIMIT 1)
         FROM units u ORDER BY u.last_seen DESC, u.serial`,
      ).raw(),
      unit: db.prepare<[string], UnitRow>(
        `SELECT u.serial, u.first_seen, u.last_seen, u.last_address, u.info, u.last_status,
           (SELECT count(*) FROM archive_events a WHERE a.serial = u.serial),
           (SELECT id FROM archive_events a WHERE a.serial = u.serial ORDER BY ts DESC, id DESC LIMIT 1),
           (SELECT id FROM sessions s WHERE s.serial = u.serial ORDER BY started_at DESC, id DESC LIMIT 1)
         FROM units u WHERE u.serial = ?`,
      ).raw(),
      insertSession: db.prepare<[string, string, string, number, number, number, number, number, string, string | null], number>(
        `INSERT INTO sessions (serial, kind, peer, started_at, duration_ms, events_new, waveforms_new, erased, result, capture)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ).pluck(),
      sessionById: db.prepare<[number], SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`).raw(),
      sessionsAll: db.prepare<[{ at: number; id: number; limit: number }], SessionRow>(
        `SELECT ${SESSION_COLUMNS} FROM sessions WHERE (started_at, id) < (@at, @id)
         ORDER BY started_at DESC, id DESC LIMIT @limit`,
      ).raw(),
      sessionsOf: db.prepare<[{ serial: string; at: number; id: number; limit: number }], SessionRow>(
        `SELECT ${SESSION_COLUMNS} FROM sessions WHERE serial = @serial AND (started_at, id) < (@at, @id)
         ORDER BY started_at DESC, id DESC LIMIT @limit`,
      ).raw(),
      totals: db.prepare<[], [string, number, number]>("SELECT kind, entries, bytes FROM kind_totals WHERE kind IN ('archive_events', 'waveform')").raw(),
      unitCount: db.prepare<[], number>('SELECT count(*) FROM units').pluck(),
      sessionCount: db.prepare<[], number>('SELECT count(*) FROM sessions').pluck(),
      // Retention never touches an event in a live list, nor its waveform.
      oldSerials: db.prepare<[number], string>(
        'SELECT DISTINCT serial FROM archive_events a WHERE received_at < ? AND NOT EXISTS (SELECT 1 FROM live_events l WHERE l.event_id = a.id)',
      ).pluck(),
      oldWaveforms: db.prepare<[number]>(
        `DELETE FROM waveforms WHERE rowid IN (
           SELECT w.rowid FROM archive_events a JOIN waveforms w ON w.serial = a.serial AND w.key = a.key AND w.ts = a.ts
           WHERE a.received_at < ? AND NOT EXISTS (SELECT 1 FROM live_events l WHERE l.event_id = a.id))`,
      ),
      oldEvents: db.prepare<[number]>('DELETE FROM archive_events WHERE received_at < ? AND NOT EXISTS (SELECT 1 FROM live_events l WHERE l.event_id = archive_events.id)'),
      removableWaveforms: db.prepare<[], [number, string]>(
        `SELECT w.rowid, w.serial FROM waveforms w
         WHERE NOT EXISTS (SELECT 1 FROM archive_events a JOIN live_events l ON l.event_id = a.id WHERE a.serial = w.serial AND a.key = w.key AND a.ts = w.ts)
         ORDER BY w.fetched_at, w.rowid LIMIT 256`,
      ).raw(),
      dropWaveformRow: db.prepare<[number]>('DELETE FROM waveforms WHERE rowid = ?'),
      mark: db.prepare<[number]>('INSERT INTO durable_mark (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
    };
    const q = this.q;
    this.tx = {
      session: db.transaction((s: Omit<Session, 'id'>) => {
        const started = Date.parse(s.started_at);
        const ms = Math.round(s.duration_s * 1000);
        const id = q.insertSession.get(s.serial, s.kind, s.peer, started, ms, s.events_new, s.waveforms_new, s.erased ? 1 : 0, s.result, s.capture)!;
        // Seen when it started, and at its peer when it ended.
        opts.seen(s.serial, started);
        opts.seenAt(s.serial, started + ms, s.peer);
        opts.touch(unitScope(s.serial));
        return id;
      }),
      retain: db.transaction((policy: RetentionPolicy) => {
        const out = { events: 0, waveforms: 0, bytes: 0 };
        const before = this.payload();
        const touched = new Set<string>();
        if (policy.receivedBefore !== undefined) {
          for (const serial of q.oldSerials.all(policy.receivedBefore)) touched.add(serial);
          out.waveforms += q.oldWaveforms.run(policy.receivedBefore).changes;
          out.events += q.oldEvents.run(policy.receivedBefore).changes;
        }
        if (policy.waveformBytes !== undefined) {
          while (this.payload().waveforms > policy.waveformBytes) {
            const batch = q.removableWaveforms.all();
            if (batch.length === 0) break;
            for (const [rowid, serial] of batch) {
              if (this.payload().waveforms <= policy.waveformBytes) break;
              q.dropWaveformRow.run(rowid);
              touched.add(serial);
              out.waveforms++;
            }
          }
        }
        const after = this.payload();
        out.bytes = before.events + before.waveforms - after.events - after.waveforms;
        for (const serial of touched) opts.touch(unitScope(serial));
        return out;
      }),
      review: db.transaction((id: number, falseTrigger: number | null, notesGiven: boolean, notes: string | null) => {
        q.review.run({ falseTrigger, notesGiven: notesGiven ? 1 : 0, notes, id });
        const serial = q.identity.get(id)?.[0];
        if (serial !== undefined) opts.touch(unitScope(serial));
      }),
      analysis: db.transaction((id: number, json: string | null) => {
        const changed = q.analysis.run(json, id).changes > 0;
        const serial = q.identity.get(id)?.[0];
        if (changed && serial !== undefined) opts.touch(unitScope(serial));
        return changed;
      }),
    };
  }

  events(query: ArchiveEventQuery): Promise<Page<ArchivedEvent>> {
    return this.run(() => {
      checkLimit(query.limit);
      const where: string[] = [];
      const args: unknown[] = [];
      const filter = (sql: string, ...values: unknown[]) => {
        where.push(sql);
        args.push(...values);
      };
      if (query.serial !== undefined) filter('a.serial = ?', query.serial);
      if (query.from !== undefined) filter("a.ts <> '' AND a.ts >= ?", query.from);
      if (query.to !== undefined) filter("a.ts <> '' AND a.ts <= ?", query.to);
      if (query.minPvsIps !== undefined) filter('a.pvs >= ?', query.minPvsIps);
      if (query.project !== undefined) filter('instr(lower(a.project), lower(?)) > 0', query.project);
      if (query.recordType !== undefined) filter('a.record_type = ?', query.recordType);
      if (query.falseTrigger !== undefined) filter('a.false_trigger = ?', query.falseTrigger ? 1 : 0);
      if (query.cursor !== undefined) {
        const [at, id] = decodeCursor('events', query.cursor);
        const ts = tsOf(at as string | null);
        // A row value: the index's range starts at the cursor (an OR of the two cases scans to it).
        filter('(a.ts, a.id) < (?, ?)', ts, id);
      }
      // A peak filter few events meet ("anything over 2 in/s?") reads those few by the pvs index
      // and sorts them; one many meet walks newest first, where a page fills at once.
      const fewPeaks = query.minPvsIps !== undefined && this.q.countPvsAtLeast.get(query.minPvsIps, FEW_PEAKS)! < FEW_PEAKS;
      const sql = `SELECT ${ARCHIVED_COLUMNS} FROM archive_events a ${fewPeaks ? 'INDEXED BY archive_pvs' : ''} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.ts DESC, a.id DESC LIMIT ?`;
      // One prepared statement per combination of filters (there are few).
      let stmt = this.eventQueries.get(sql);
      if (!stmt) this.eventQueries.set(sql, (stmt = this.db.prepare<unknown[], ArchivedRow>(sql).raw()));
      const rows = stmt.all(...args, query.limit + 1);
      const more = rows.length > query.limit;
      const page = more ? rows.slice(0, query.limit) : rows;
      const last = page.at(-1);
      return { items: page.map(toArchived), nextCursor: more && last ? encodeCursor('events', [timestampOf(last[9]), last[0]]) : null };
    });
  }

  event(id: number): Promise<ArchivedEvent | undefined> {
    return this.run(() => {
      const row = Number.isSafeInteger(id) ? this.q.byId.get(id) : undefined;
      return row && toArchived(row);
    });
  }

  waveform(id: number): Promise<StoredWaveform | undefined> {
    return this.run(() => {
      const ident = Number.isSafeInteger(id) ? this.q.identity.get(id) : undefined;
      if (!ident) return undefined;
      const [serial, key, ts] = ident;
      const row = this.q.waveform.get(serial, key, ts);
      if (!row) return undefined;
      const w = decodeWaveformBlob(row[0], key, timestampOf(ts), row[1]);
      if (row[2] !== null && row[3] !== null) w.document = { index: row[3], gzip: row[2] };
      return w;
    });
  }

  review(id: number, changes: { falseTrigger?: boolean; notes?: string | null }): Promise<ArchivedEvent | undefined> {
    return this.run(() => {
      checkReview(changes);
      if (!Number.isSafeInteger(id)) return undefined;
      const notesGiven = changes.notes !== undefined;
      this.tx.review.immediate(id, changes.falseTrigger === undefined ? null : changes.falseTrigger ? 1 : 0, notesGiven, notesGiven ? changes.notes! : null);
      const row = this.q.byId.get(id);
      return row && toArchived(row);
    });
  }

  setAnalysis(id: number, summary: AnalysisSummary | null): Promise<boolean> {
    return this.run(() => Number.isSafeInteger(id) && this.tx.analysis.immediate(id, summary === null ? null : JSON.stringify(summary)));
  }

  units(): Promise<Unit[]> {
    return this.run(() => this.q.units.all().map((r) => this.toUnit(r)));
  }

  unit(serial: string): Promise<Unit | undefined> {
    return this.run(() => {
      const row = this.q.unit.get(serial);
      return row && this.toUnit(row);
    });
  }

  private toUnit(r: UnitRow): Unit {
    const lastEvent = r[7] === null ? undefined : this.q.byId.get(r[7]);
    const lastSession = r[8] === null ? undefined : this.q.sessionById.get(r[8]);
    return {
      serial: r[0],
      first_seen: iso(r[1]),
      last_seen: iso(r[2]),
      last_address: r[3],
      last_session: lastSession ? toSession(lastSession) : null,
      event_count: r[6],
      last_event: lastEvent ? toArchived(lastEvent) : null,
      last_status: r[5] === null ? null : (JSON.parse(r[5]) as MonitorStatus),
      info: r[4] === null ? null : (JSON.parse(r[4]) as DeviceInfo),
    };
  }

  recordSession(session: Omit<Session, 'id'>): Promise<Session> {
    return this.run(() => {
      checkSession(session);
      return toSession(this.q.sessionById.get(this.tx.session.immediate(session))!);
    });
  }

  sessions(query: { serial?: string; limit: number; cursor?: string }): Promise<Page<Session>> {
    return this.run(() => {
      checkLimit(query.limit);
      const [at, id] = query.cursor === undefined ? BEFORE_EVERY_SESSION : (decodeCursor('sessions', query.cursor) as [number, number]);
      const rows = query.serial === undefined
        ? this.q.sessionsAll.all({ at, id, limit: query.limit + 1 })
        : this.q.sessionsOf.all({ serial: query.serial, at, id, limit: query.limit + 1 });
      const more = rows.length > query.limit;
      const page = more ? rows.slice(0, query.limit) : rows;
      const last = page.at(-1);
      return { items: page.map(toSession), nextCursor: more && last ? encodeCursor('sessions', [last[4], last[0]]) : null };
    });
  }

  /**
   * What the archive's rows hold, from the totals the triggers keep: events (their text and row
   * overhead), waveforms as the contract counts them (2 bytes a sample, every channel, and the
   * document) — each blob's header and row overhead taken off.
   */
  private payload(): { events: number; waveforms: number; eventRows: number; waveformRows: number } {
    const t = Object.fromEntries(this.q.totals.all().map(([kind, entries, bytes]) => [kind, { entries, bytes }]));
    const waveformRows = t.waveform?.entries ?? 0;
    return {
      events: t.archive_events?.bytes ?? 0,
      eventRows: t.archive_events?.entries ?? 0,
      waveforms: (t.waveform?.bytes ?? 0) - waveformRows * (ROW_OVERHEAD_BYTES + WAVEFORM_BLOB_HEADER_BYTES),
      waveformRows,
    };
  }

  stats(): Promise<Omit<ArchiveStats, 'retention_removed'>> {
    return this.run(() => {
      const p = this.payload();
      return {
        persistent: this.persistent,
        units: this.q.unitCount.get()!,
        events: p.eventRows,
        waveforms: p.waveformRows,
        event_bytes: p.events,
        waveform_bytes: p.waveforms,
        sessions: this.q.sessionCount.get()!,
      };
    });
  }

  retain(policy: RetentionPolicy): Promise<{ events: number; waveforms: number; bytes: number }> {
    return this.run(() => {
      checkRetention(policy);
      return this.tx.retain.immediate(policy);
    });
  }

  /** A commit with synchronous = FULL: it and every commit before it are on the disk. */
  durable(): Promise<void> {
    return this.run(() => {
      if (!this.persistent) return;
      this.db.pragma('synchronous = FULL');
      try {
        this.q.mark.run(Date.now());
      } finally {
        this.db.pragma('synchronous = NORMAL');
      }
    });
  }
}
