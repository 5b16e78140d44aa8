/**
 * The archive's input rules and its page cursors, declared once for every store: what a session,
 * a page size and a retention policy must be, and the opaque cursor of a position in a listing
 * (events: timestamp or null, then id; sessions: started_at in ms, then id).
 */
import { checkValue } from '../schema/check.js';
import { Session as SessionShape } from '../schema/shapes.js';
import type { Event, Session } from '../model.js';
import { BadCursor, StoreError, type RetentionPolicy } from './store.js';

const UTC_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?Z$/;

export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new StoreError(`limit must be a whole number ≥ 1, got ${limit}`);
}

/** A session fits the Session shape (less its id), started at a UTC ISO time, lasted ≥ 0 s. */
export function checkSession(s: Omit<Session, 'id'>): void {
  try {
    checkValue('session', SessionShape, { id: 1, ...s });
  } catch (e) {
    throw new StoreError(`recordSession: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (!UTC_ISO.test(s.started_at) || Number.isNaN(Date.parse(s.started_at))) throw new StoreError(`recordSession: started_at must be a UTC ISO 8601 time, got ${JSON.stringify(s.started_at)}`);
  if (!(s.duration_s >= 0) || !Number.isFinite(s.duration_s)) throw new StoreError(`recordSession: duration_s must be a number of seconds ≥ 0, got ${s.duration_s}`);
}

export function checkRetention(policy: RetentionPolicy): void {
  const { receivedBefore, waveformBytes } = policy;
  if (receivedBefore !== undefined && !Number.isFinite(receivedBefore)) throw new StoreError(`retain: receivedBefore must be a time in milliseconds, got ${receivedBefore}`);
  if (waveformBytes !== undefined && !(Number.isSafeInteger(waveformBytes) && waveformBytes >= 0)) throw new StoreError(`retain: waveformBytes must be a whole number of bytes ≥ 0, got ${waveformBytes}`);
}

export function checkReview(changes: { falseTrigger?: unknown; notes?: unknown }): void {
  if (changes.falseTrigger !== undefined && typeof changes.falseTrigger !== 'boolean') throw new StoreError(`review: falseTrigger must be true or false, got ${JSON.stringify(changes.falseTrigger)}`);
  if (changes.notes !== undefined && changes.notes !== null && typeof changes.notes !== 'string') throw new StoreError(`review: notes must be text or null, got ${JSON.stringify(changes.notes)}`);
}

/**
 * An archived event refreshed by a new read of it: the new read, except that a read whose project
 * text is still to come keeps the text the archive already has.
 */
export function refreshedEvent<E extends Pick<Event, 'project' | 'project_pending'>>(archived: Pick<Event, 'project' | 'project_pending'>, read: E): E {
  return read.project_pending && !archived.project_pending ? { ...read, project: archived.project, project_pending: false } : read;
}

export type Listing = 'events' | 'sessions';
/** A position in a listing: events (timestamp or null, id), sessions (started_at in ms, id). */
export type Position = [string | number | null, number];

const TAG: Record<Listing, string> = { events: 'e', sessions: 's' };

export function encodeCursor(listing: Listing, position: Position): string {
  return `${TAG[listing]}.${Buffer.from(JSON.stringify(position)).toString('base64url')}`;
}

/** The position a cursor names; a cursor this listing did not make (or garbage) is a BadCursor. */
export function decodeCursor(listing: Listing, cursor: string): Position {
  const refuse = (): never => {
    throw new BadCursor(String(cursor));
  };
  const tag = `${TAG[listing]}.`;
  if (typeof cursor !== 'string' || !cursor.startsWith(tag)) return refuse();
  const body = cursor.slice(tag.length);
  const bytes = Buffer.from(body, 'base64url');
  // Node decodes base64 leniently: only text that encodes back the same is ours.
  if (body.length === 0 || bytes.toString('base64url') !== body) return refuse();
  let p: unknown;
  try {
    p = JSON.parse(bytes.toString('utf8'));
  } catch {
    return refuse();
  }
  if (!Array.isArray(p) || p.length !== 2 || !Number.isSafeInteger(p[1]) || (p[1] as number) < 1) return refuse();
  const at = p[0] as unknown;
  return (listing === 'events' ? at === null || typeof at === 'string' : Number.isFinite(at)) ? (p as Position) : refuse();
}

/** The (started_at, id) a first page of sessions starts below: every session's is lower. */
export const BEFORE_EVERY_SESSION: readonly [number, number] = [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
