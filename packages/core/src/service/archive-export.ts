/**
 * What the HTTP API and the CLI share about the archive: the unit-local bounds of a time filter,
 * and the CSV export (its columns declared once, read from each archived event).
 */
import type { ArchivedEvent } from '../model.js';
import type { Archive, ArchiveEventQuery } from '../cache/store.js';

/** A from/to filter's bound: a date is its first (from) or last (to) second, a minute likewise. */
export function localTimeBound(text: string | undefined, end: boolean): string | undefined {
  if (text === undefined) return undefined;
  if (text.length === 10) return `${text}T${end ? '23:59:59' : '00:00:00'}`;
  if (text.length === 16) return `${text}:${end ? '59' : '00'}`;
  return text;
}

/** The export's columns and how each is read from an archived event. */
const EXPORT_FIELDS: readonly (readonly [string, (e: ArchivedEvent) => unknown])[] = [
  ['id', (e) => e.id], ['serial', (e) => e.serial], ['key', (e) => e.key], ['timestamp', (e) => e.timestamp], ['end_timestamp', (e) => e.end_timestamp],
  ['record_type', (e) => e.record_type], ['sample_rate', (e) => e.sample_rate], ['record_time_s', (e) => e.record_time_s],
  ['tran_ips', (e) => e.peaks.tran_ips], ['vert_ips', (e) => e.peaks.vert_ips], ['long_ips', (e) => e.peaks.long_ips], ['pvs_ips', (e) => e.peaks.pvs_ips], ['mic_psi', (e) => e.peaks.mic_psi],
  ['max_ppv_ips', (e) => e.analysis_summary?.max_ppv_ips], ['dominant_freq_hz', (e) => e.analysis_summary?.dominant_freq_hz], ['compliance', (e) => e.analysis_summary?.compliance],
  ['project', (e) => e.project.project], ['client', (e) => e.project.client], ['operator', (e) => e.project.operator], ['sensor_location', (e) => e.project.sensor_location],
  ['false_trigger', (e) => e.false_trigger], ['notes', (e) => e.notes], ['has_waveform', (e) => e.has_waveform], ['source', (e) => e.source], ['received_at', (e) => e.received_at],
];

export const ARCHIVE_CSV_COLUMNS: readonly string[] = EXPORT_FIELDS.map(([name]) => name);

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; empty for none. */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Every event the filter matches, newest first, page after page, as CSV text (a header line first). */
export async function* archiveCsv(archive: Archive, filter: Omit<ArchiveEventQuery, 'limit' | 'cursor'>): AsyncGenerator<string> {
  yield `${ARCHIVE_CSV_COLUMNS.join(',')}\r\n`;
  let cursor: string | undefined;
  do {
    const page = await archive.events({ ...filter, limit: 1000, cursor });
    yield page.items.map((e) => `${EXPORT_FIELDS.map(([, read]) => csvField(read(e))).join(',')}\r\n`).join('');
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
