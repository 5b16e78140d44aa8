/**
 * Waveform ETags: a strong, quoted hash of what makes a waveform immutable — (serial, key,
 * timestamp); an analysis's adds the options and the version. The identity is read from the head of the cached JSON bytes, so a hit is neither
 * parsed nor re-serialised to find its tag.
 */
import { createHash } from 'node:crypto';
import type { Waveform } from '@sfm/core';
import type { ContentEncoding, Served } from '@sfm/core/service';

export interface WaveformIdentity {
  serial: string;
  key: string;
  timestamp: string | null;
}

const JSON_STRING = '"(?:[^"\\\\]|\\\\.)*"';
// buildWaveform's field order: schema, serial, index, key, timestamp, …
const HEAD = new RegExp(`^\\{"schema":"sfm\\.waveform\\.v1","serial":(${JSON_STRING}),"index":\\d+,"key":(${JSON_STRING}),"timestamp":(null|${JSON_STRING}),`);

export function waveformIdentity(s: Served<Waveform>): WaveformIdentity {
  const bytes = s.bytes();
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 512)).toString('utf8');
  const m = HEAD.exec(head);
  if (m) return { serial: JSON.parse(m[1]!) as string, key: JSON.parse(m[2]!) as string, timestamp: JSON.parse(m[3]!) as string | null };
  const w = s.value; // another field order: parse it once
  return { serial: w.serial, key: w.key, timestamp: w.timestamp };
}

/** `"<hash>"` for the JSON form, `"<hash>-csv"` for the CSV form. */
export function waveformEtag(id: WaveformIdentity, format: 'json' | 'csv'): string {
  const hash = createHash('sha256').update(JSON.stringify([id.serial, id.key, id.timestamp])).digest('base64url').slice(0, 32);
  return `"${hash}${format === 'csv' ? '-csv' : ''}"`;
}

/**
 * An analysis's tag: its waveform's identity, the options it was made under and the sfm version
 * that made it (another version may compute a figure differently).
 */
export function analysisEtag(id: WaveformIdentity, optionsKey: string, version: string): string {
  return `"${createHash('sha256').update(JSON.stringify([id.serial, id.key, id.timestamp, 'analysis', optionsKey, version])).digest('base64url').slice(0, 32)}"`;
}

/**
 * The tag of the representation sent with a content coding: a strong validator differs per
 * coding (RFC 9110 §8.8.3), so `"<tag>-br"`, `"<tag>-gzip"`.
 */
export function encodedEtag(etag: string, encoding: ContentEncoding | undefined): string {
  return encoding ? `${etag.slice(0, -1)}-${encoding}"` : etag;
}

const CODING_SUFFIX = /-(?:br|gzip)"$/;

/**
 * If-None-Match (RFC 9110 §13.1.2): weak comparison, `*` matches any current representation. A
 * tag of another coding of the same representation matches too: the client holds the same content.
 */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const want = etag.replace(/^W\//, '');
  for (const raw of header.split(',')) {
    const tag = raw.trim().replace(/^W\//, '');
    if (tag === '*' || tag === want || tag.replace(CODING_SUFFIX, '"') === want) return true;
  }
  return false;
}
