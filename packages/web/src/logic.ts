/**
 * What the views show, worked out without the DOM (tested on its own): the fleet's rows from the
 * configured units and the archive's, how a unit is addressed on /device/* routes, words for
 * progress and times, the hash routes, and the checks a form runs — read off the JSON Schema the
 * server's OpenAPI document gives for the request body, so the page checks what the API checks.
 */
import type { ConfiguredDevice, ProgressReport, Unit } from '@sfm/core';

// --- addressing a unit ------------------------------------------------------------------------

/** How /device/* routes reach a unit: a configured name, or an ad-hoc address. */
export type Address = { device: string } | { host: string; tcp_port: number } | { port: string; baud: number };

/** The query string that selects the unit (without "?"). */
export function addressQuery(a: Address): string {
  return new URLSearchParams(Object.entries(a).map(([k, v]): [string, string] => [k, String(v)])).toString();
}

/** A connection key (tcp:<host>:<port>, serial:<path>:<baud>) as device selection parameters. */
export function addressOfKey(key: string): Address | undefined {
  let m = /^tcp:(.+):(\d+)$/.exec(key);
  if (m) return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), tcp_port: Number(m[2]) };
  m = /^serial:(.+):(\d+)$/.exec(key);
  if (m) return { port: m[1]!, baud: Number(m[2]) };
  return undefined;
}

/** How to reach a unit: by its configured name when one answers there, else at the address it last answered at. */
export function addressOf(serial: string, lastAddress: string | null, devices: readonly ConfiguredDevice[]): Address | undefined {
  const named = devices.find((d) => d.serial === serial) ?? devices.find((d) => lastAddress !== null && d.connection_key === lastAddress);
  if (named) return { device: named.name };
  return lastAddress ? addressOfKey(lastAddress) : undefined;
}

// --- the fleet --------------------------------------------------------------------------------

/** A unit not heard from for this long is marked stale. */
export const STALE_AFTER_MS = 24 * 3600_000;

export interface FleetRow {
  /** The unit's serial; null for a configured unit never read. */
  serial: string | null;
  /** Where the row links to (a hash route). */
  href: string;
  /** The configured name, when it has one. */
  name: string | null;
  where: string;
  lastSeen: string | null;
  lastEvent: { timestamp: string | null; pvs_ips: number | null } | null;
  batteryV: number | null;
  memoryUsedPct: number | null;
  monitoring: boolean | null;
  events: number;
  /** Marks: never read, not heard from for long, the last session failed. */
  marks: ('never read' | 'stale' | 'unreachable')[];
}

/** The fleet: every unit of the archive (newest activity first, as the API gives them), then configured units never read. */
export function fleetRows(units: readonly Unit[], devices: readonly ConfiguredDevice[], now: number): FleetRow[] {
  const rows: FleetRow[] = units.map((u) => {
    const named = devices.find((d) => d.serial === u.serial);
    const status = u.last_status;
    const marks: FleetRow['marks'] = [];
    if (now - Date.parse(u.last_seen) > STALE_AFTER_MS) marks.push('stale');
    if (u.last_session && u.last_session.result !== 'ok') marks.push('unreachable');
    return {
      serial: u.serial,
      href: `#/unit/${encodeURIComponent(u.serial)}`,
      name: named?.name ?? null,
      where: named ? `${named.name} (${u.last_address ?? named.connection_key})` : (u.last_address ?? '—'),
      lastSeen: u.last_seen,
      lastEvent: u.last_event ? { timestamp: u.last_event.timestamp, pvs_ips: u.last_event.peaks.pvs_ips ?? u.last_event.analysis_summary?.pvs_ips ?? null } : null,
      batteryV: status?.battery_v ?? null,
      memoryUsedPct: status && status.memory_total > 0 ? Math.round((100 * (status.memory_total - status.memory_free)) / status.memory_total) : null,
      monitoring: status ? status.is_monitoring : null,
      events: u.event_count,
      marks,
    };
  });
  const seen = new Set(units.map((u) => u.serial));
  for (const d of devices) {
    if (d.serial !== null && seen.has(d.serial)) continue;
    rows.push({
      serial: d.serial, href: `#/device/${encodeURIComponent(d.name)}`, name: d.name, where: `${d.name} (${d.connection_key})`,
      lastSeen: null, lastEvent: null, batteryV: null, memoryUsedPct: null, monitoring: null, events: 0, marks: ['never read'],
    });
  }
  return rows;
}

/** The rows whose serial, name or address contain the filter text (case-insensitive). */
export function filterRows(rows: readonly FleetRow[], text: string): FleetRow[] {
  const t = text.trim().toLowerCase();
  if (!t) return [...rows];
  return rows.filter((r) => [r.serial, r.name, r.where].some((v) => v?.toLowerCase().includes(t)));
}

/** One page of a list shown in pages (the fleet, a long event list already in memory). */
export function pageOf<T>(items: readonly T[], page: number, size: number): { items: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const p = Math.min(Math.max(0, page), pages - 1);
  return { items: items.slice(p * size, (p + 1) * size), page: p, pages };
}

// --- words ------------------------------------------------------------------------------------

/** "3 min ago" for a UTC ISO time. */
export function ago(iso: string | null, now: number): string {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return '—';
  if (s < 60) return s <= 1 ? 'just now' : `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400 * 2) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** A figure with its unit, or — when it is unknown. */
export function fmt(v: number | null | undefined, unit = '', digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const text = Math.abs(v) >= 1000 || v === 0 ? String(Math.round(v * 1000) / 1000) : v.toPrecision(digits).replace(/\.?0+$/, '');
  return unit ? `${text} ${unit}` : text;
}

/** What a progress report says, for people (the CLI's words). */
export function progressText(p: ProgressReport): string {
  const of = p.total === null ? '' : ` of ${p.estimated ? '~' : ''}${p.total}`;
  switch (p.step) {
    case 'idle':
      return '';
    case 'sync':
      return `reading the event list: event ${Math.min(p.done + 1, p.total ?? Infinity)}${of}`;
    case 'text':
      return `reading project text: event ${Math.min(p.done + 1, p.total ?? Infinity)}${of}`;
    case 'download':
      return `downloading${p.index === null ? '' : ` event ${p.index}`}: ${p.chunks_done ?? 0} of ${p.chunks_total ?? '?'} chunks, ${Math.round(p.done / 1024)} of ${Math.round((p.total ?? 0) / 1024)} KB`;
  }
}

/** The fraction done (0–1), or null when the total is unknown. */
export function progressFraction(p: ProgressReport): number | null {
  if (p.step === 'idle' || p.total === null || p.total <= 0) return null;
  return Math.min(1, p.done / p.total);
}

// --- routes -----------------------------------------------------------------------------------

export type Route =
  | { view: 'fleet' }
  | { view: 'sessions' }
  | { view: 'unit'; serial: string }
  | { view: 'device'; name: string }
  | { view: 'live-event'; serial: string; index: number }
  | { view: 'archived-event'; id: number };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b, c, d] = parts;
  if (a === 'sessions') return { view: 'sessions' };
  if (a === 'unit' && b && c === 'event' && d !== undefined && /^\d+$/.test(d)) return { view: 'live-event', serial: b, index: Number(d) };
  if (a === 'unit' && b) return { view: 'unit', serial: b };
  if (a === 'device' && b) return { view: 'device', name: b };
  if (a === 'event' && b && /^\d+$/.test(b)) return { view: 'archived-event', id: Number(b) };
  return { view: 'fleet' };
}

// --- forms from the API's schemas -----------------------------------------------------------------

/** The JSON Schema keywords the request bodies use (OpenAPI 3.1 components, $refs resolved). */
export interface FieldSchema {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  description?: string;
  properties?: Record<string, FieldSchema>;
}

/**
 * A form's text for one field as the value the API takes, or why it is not one (the API's own
 * limits: type, enum, range, length, pattern). Empty text means "leave unchanged".
 */
export function fieldValue(schema: FieldSchema, text: string | boolean): { value?: unknown; error?: string } {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (typeof text === 'boolean') return { value: text };
  if (text === '') return {};
  let value: unknown = text;
  if (type === 'boolean') {
    if (text !== 'true' && text !== 'false') return { error: 'must be true or false' };
    value = text === 'true';
  } else if (type === 'integer' || type === 'number') {
    const n = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(n)) return { error: 'must be a number' };
    if (type === 'integer' && !Number.isInteger(n)) return { error: 'must be a whole number' };
    if (schema.minimum !== undefined && n < schema.minimum) return { error: `must be at least ${schema.minimum}` };
    if (schema.maximum !== undefined && n > schema.maximum) return { error: `must be at most ${schema.maximum}` };
    value = n;
  } else if (type === 'string') {
    if (schema.maxLength !== undefined && text.length > schema.maxLength) return { error: `at most ${schema.maxLength} characters (${text.length} given)` };
    if (schema.minLength !== undefined && text.length < schema.minLength) return { error: `at least ${schema.minLength} characters` };
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(text)) return { error: 'has characters the unit cannot hold (printable ASCII only)' };
  }
  if (schema.enum && !schema.enum.includes(value)) return { error: `must be one of ${schema.enum.join(', ')}` };
  return { value };
}

/** The fields whose new value differs from the current one (what a partial write sends). */
export function changedFields(current: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const inner = changedFields((current[k] as Record<string, unknown>) ?? {}, v as Record<string, unknown>);
      if (Object.keys(inner).length) out[k] = inner;
    } else if (current[k] !== v) out[k] = v;
  }
  return out;
}

/** The field an API error message names ("trigger_level_ips: …", "body.time1.hour: …"), if any. */
export function errorField(message: string): string | undefined {
  const m = /^(?:body\.)?([a-z0-9_.]+): /.exec(message);
  return m?.[1];
}
