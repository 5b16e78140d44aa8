/**
 * The unit's 8-byte logical timestamp (protocol.md §18): [day][month][year u16 BE][00][hour][min][sec].
 * Reported as unit-local ISO-8601 without a zone: the unit has no time zone.
 */
import { PayloadError } from './errors.js';

export const TIMESTAMP_LENGTH = 8;

/** Decodes the timestamp at `o`; null when the bytes are not a calendar time (an all-zero field). */
export function decodeTimestamp(b: Uint8Array, o: number): string | null {
  if (o + TIMESTAMP_LENGTH > b.length) return null;
  const day = b[o]!;
  const month = b[o + 1]!;
  const year = (b[o + 2]! << 8) | b[o + 3]!;
  const hour = b[o + 5]!;
  const minute = b[o + 6]!;
  const second = b[o + 7]!;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** Writes an ISO-8601 local time ("2026-04-08T01:59:45") as the 8-byte field at `o`. */
export function encodeTimestamp(iso: string, target: Uint8Array, o: number): void {
  const m = ISO.exec(iso);
  if (!m) throw new PayloadError(`timestamp must look like 2026-04-08T01:59:45, got ${JSON.stringify(iso)}`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new PayloadError(`not a valid time: ${iso}`);
  }
  target[o] = day;
  target[o + 1] = month;
  target[o + 2] = year >> 8;
  target[o + 3] = year & 0xff;
  target[o + 4] = 0;
  target[o + 5] = hour;
  target[o + 6] = minute;
  target[o + 7] = second;
}

/** The unit-local ISO time of a JavaScript Date's UTC fields (the emulator's clock runs in UTC). */
export function isoFromDate(d: Date): string {
  return d.toISOString().slice(0, 19);
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}
