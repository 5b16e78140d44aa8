/**
 * The store's SQL, each statement named once: node-postgres prepares a named statement once per
 * connection and reuses it (the archive's filtered listing adds its own, one per filter set).
 */
import { CHANNEL } from './change-feed.js';
import { ROW_OVERHEAD_BYTES } from './schema.js';

/** A statement run as a named prepared statement, its rows as arrays. */
export interface Statement {
  name: string;
  text: string;
}

export type Row = unknown[];
export type Runner = (s: Statement, values?: unknown[]) => Promise<Row[]>;

export const st = (name: string, text: string): Statement => ({ name, text });

/**
 * The fleet: each write that shows a unit says when ($2 the earliest, $3 the latest sighting;
 * with an address, info or status, that and its time). The empty serial is no unit.
 */
const SEE = `INSERT INTO units AS u (serial, first_seen, last_seen) SELECT $1::text, $2::bigint, $3::bigint WHERE $1::text <> ''
  ON CONFLICT (serial) DO UPDATE SET first_seen = least(u.first_seen, excluded.first_seen), last_seen = greatest(u.last_seen, excluded.last_seen)`;
const seeWith = (column: string, at: string) => `INSERT INTO units AS u (serial, first_seen, last_seen, ${column}, ${at})
  SELECT $1::text, $2::bigint, $2::bigint, $3::text, $2::bigint WHERE $1::text <> ''
  ON CONFLICT (serial) DO UPDATE SET first_seen = least(u.first_seen, excluded.first_seen), last_seen = greatest(u.last_seen, excluded.last_seen),
    ${column} = CASE WHEN u.${at} IS NULL OR u.${at} <= excluded.${at} THEN excluded.${column} ELSE u.${column} END,
    ${at} = CASE WHEN u.${at} IS NULL OR u.${at} <= excluded.${at} THEN excluded.${at} ELSE u.${at} END`;

const LIVE_JOIN = 'live_events l JOIN archive_events a ON a.id = l.event_id';
const EVENT_COLUMNS = 'l.idx, a.key, a.geo_range, a.fetched_at, a.body';

export const SQL = {
  getIdentity: st('get_identity', 'SELECT serial, confirmed_at FROM identities WHERE conn_key = $1'),
  putIdentity: st('put_identity', `INSERT INTO identities (conn_key, serial, confirmed_at) VALUES ($1, $2, $3)
    ON CONFLICT (conn_key) DO UPDATE SET serial = excluded.serial, confirmed_at = excluded.confirmed_at`),
  see: st('see_unit', SEE),
  seeAddress: st('see_unit_address', seeWith('last_address', 'address_at')),
  seeInfo: st('see_unit_info', seeWith('info', 'info_at')),
  seeStatus: st('see_unit_status', seeWith('last_status', 'status_at')),

  getInfo: st('get_info', 'SELECT json, fetched_at, dirty FROM device_info WHERE serial = $1'),
  putInfo: st('put_info', `INSERT INTO device_info (serial, json, fetched_at, dirty) VALUES ($1, $2, $3, false)
    ON CONFLICT (serial) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at, dirty = false`),
  markDirty: st('mark_dirty', 'UPDATE device_info SET dirty = true WHERE serial = $1'),

  getSync: st('get_sync', 'SELECT first_key, last_key, counter, complete, probed_at FROM event_sync WHERE serial = $1'),
  putSync: st('put_sync', `INSERT INTO event_sync (serial, first_key, last_key, counter, complete, probed_at) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (serial) DO UPDATE SET first_key = excluded.first_key, last_key = excluded.last_key, counter = excluded.counter,
      complete = excluded.complete, probed_at = excluded.probed_at`),
  dropSync: st('drop_sync', 'DELETE FROM event_sync WHERE serial = $1'),

  getEvents: st('get_events', `SELECT ${EVENT_COLUMNS} FROM ${LIVE_JOIN} WHERE l.serial = $1 ORDER BY l.idx`),
  getEvent: st('get_event', `SELECT ${EVENT_COLUMNS} FROM ${LIVE_JOIN} WHERE l.serial = $1 AND l.idx = $2`),
  // The archived text is an Event without its index, `{"key":…`: the list puts the index first
  // by concatenation, so the server sends the finished JSON and nothing parses it here.
  eventsJson: st('events_json', `SELECT '[' || string_agg('{"index":' || l.idx || ',' || substr(a.body, 2), ',' ORDER BY l.idx) || ']' FROM ${LIVE_JOIN} WHERE l.serial = $1`),
  // Indexes run 0..n-1 without gaps (appendEvents enforces it): the count is max + 1, one index descent.
  lastIndex: st('last_index', 'SELECT max(idx) FROM live_events WHERE serial = $1'),
  archived: st('archived', `SELECT a.id, a.key, a.ts, a.body FROM archive_events a
    JOIN unnest($2::bigint[], $3::text[]) AS x(key, ts) ON a.key = x.key AND a.ts = x.ts WHERE a.serial = $1`),
  insertArchived: st('insert_archived', `INSERT INTO archive_events (serial, key, ts, body, geo_range, record_type, pvs, project, project_pending, fetched_at, received_at, source)
    SELECT $1, key, ts, body, geo_range, record_type, pvs, project, project_pending, fetched_at, received_at, $12
    FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[], $9::boolean[], $10::bigint[], $11::bigint[])
      WITH ORDINALITY AS x(key, ts, body, geo_range, record_type, pvs, project, project_pending, fetched_at, received_at, n)
    ORDER BY n RETURNING id, key, ts`),
  refreshArchived: st('refresh_archived', `UPDATE archive_events a SET body = x.body, geo_range = x.geo_range, record_type = x.record_type, pvs = x.pvs,
      project = x.project, project_pending = x.project_pending, fetched_at = x.fetched_at
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::boolean[], $8::bigint[])
      AS x(id, body, geo_range, record_type, pvs, project, project_pending, fetched_at)
    WHERE a.id = x.id`),
  insertLive: st('insert_live', 'INSERT INTO live_events (serial, idx, event_id) SELECT $1, idx, id FROM unnest($2::integer[], $3::bigint[]) AS x(idx, id)'),
  dropLive: st('drop_live', 'DELETE FROM live_events WHERE serial = $1'),
  pendingTexts: st('pending_texts', `SELECT l.idx, a.key, a.ts FROM ${LIVE_JOIN} WHERE l.serial = $1 AND a.project_pending ORDER BY l.idx`),
  liveBodyAt: st('live_body_at', `SELECT a.id, a.body FROM ${LIVE_JOIN} WHERE l.serial = $1 AND l.idx = $2 AND a.key = $3 FOR UPDATE OF a`),
  setBody: st('set_body', 'UPDATE archive_events SET body = $1, project = $2, project_pending = false WHERE id = $3'),
  liveTotals: st('live_totals', `SELECT count(*), coalesce(sum(octet_length(a.body) + ${ROW_OVERHEAD_BYTES}), 0) FROM ${LIVE_JOIN}`),
  syncCount: st('sync_count', 'SELECT count(*) FROM event_sync'),
  smallTotals: st('small_totals', `SELECT 'device_info', count(*), coalesce(sum(octet_length(json) + ${ROW_OVERHEAD_BYTES}), 0) FROM device_info
    UNION ALL SELECT 'monitor_status', count(*), coalesce(sum(octet_length(json) + ${ROW_OVERHEAD_BYTES}), 0) FROM monitor_status
    UNION ALL SELECT kind, entries, bytes FROM kind_totals WHERE kind = 'waveform'`),

  getWaveform: st('get_waveform', `SELECT fetched_at, event_index, sample_rate, pretrigger, geo_range, tran, vert, long, micl, document, document_index
    FROM waveforms WHERE serial = $1 AND key = $2 AND ts = $3`),
  getWaveformDocument: st('get_waveform_document', 'SELECT document, document_index, fetched_at FROM waveforms WHERE serial = $1 AND key = $2 AND ts = $3 AND document IS NOT NULL'),
  putWaveform: st('put_waveform', `INSERT INTO waveforms AS w (serial, key, ts, fetched_at, event_index, sample_rate, pretrigger, geo_range, tran, vert, long, micl, document, document_index)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
    ON CONFLICT (serial, key, ts) DO UPDATE SET fetched_at = excluded.fetched_at, event_index = excluded.event_index, sample_rate = excluded.sample_rate,
      pretrigger = excluded.pretrigger, geo_range = excluded.geo_range, tran = excluded.tran, vert = excluded.vert, long = excluded.long, micl = excluded.micl,
      document = excluded.document, document_index = excluded.document_index
    RETURNING (xmax = 0)`),
  analyseArchived: st('analyse_archived', 'UPDATE archive_events SET analysis = $4 WHERE serial = $1 AND key = $2 AND ts = $3'),

  getStatus: st('get_status', 'SELECT json, fetched_at FROM monitor_status WHERE serial = $1'),
  putStatus: st('put_status', `INSERT INTO monitor_status (serial, json, fetched_at) VALUES ($1, $2, $3)
    ON CONFLICT (serial) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at`),
  deleteStatus: st('delete_status', 'DELETE FROM monitor_status WHERE serial = $1'),
  dropIdentity: st('drop_identity', 'DELETE FROM identities WHERE conn_key = $1 RETURNING serial'),
  dropInfo: st('drop_info', 'DELETE FROM device_info WHERE serial = $1'),

  notify: st('notify', `SELECT pg_notify('${CHANNEL}', $1)`),
  lockUnit: st('lock_unit', "SELECT pg_advisory_xact_lock(hashtextextended('sfm unit ' || $1, 0))"),

  // Taken when free, expired, ours, or held by the holder core found dead — in one statement.
  takeLease: st('take_lease', `INSERT INTO leases AS l (lock_key, owner, host, pid, expires_at, wanted) VALUES ($1, $2, $3, $4, $5, false)
    ON CONFLICT (lock_key) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid, expires_at = excluded.expires_at, wanted = false
    WHERE l.expires_at <= $6 OR l.owner = $2 OR l.owner = $7
    RETURNING 1`),
  wantLease: st('want_lease', 'UPDATE leases SET wanted = true WHERE lock_key = $1 RETURNING owner, host, pid, expires_at'),
  renewLease: st('renew_lease', 'UPDATE leases SET expires_at = $3 WHERE lock_key = $1 AND owner = $2'),
  releaseLease: st('release_lease', 'DELETE FROM leases WHERE lock_key = $1 AND owner = $2'),
  leaseWanted: st('lease_wanted', 'SELECT wanted FROM leases WHERE lock_key = $1 AND owner = $2'),
} as const;

/** The ts column: the event's timestamp, '' for none (it sorts oldest). */
export function tsOf(timestamp: string | null): string {
  return timestamp ?? '';
}

export function timestampOf(ts: string): string | null {
  return ts === '' ? null : ts;
}

