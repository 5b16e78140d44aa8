/**
 * Key-searched ASCII text (protocol.md §8.2, §12.5): "Project:", "Client:", "User Name:",
 * "Seis Loc:", "Extended Notes", each followed by its value. The same layout appears in the
 * compliance block (current setup) and in the 5A text page (setup when the event was recorded).
 */
import { asciiBytes, indexOfBytes, readAscii, writeAsciiField } from './bytes.js';
import { NOTES_SLOT_STRIDE, TEXT_FIELDS, TEXT_SLOT_STRIDE } from './conventions.js';
import { PayloadError } from './errors.js';
import type { ProjectText } from '../model.js';

export type TextField = keyof ProjectText;
const KEYS = TEXT_FIELDS.map((f) => ({ ...f, bytes: asciiBytes(f.key) }));

export function textFieldWidth(field: TextField): number {
  return TEXT_FIELDS.find((f) => f.field === field)!.width;
}

/** Reads every text field found in `block` (null when its key is absent). */
export function decodeTextFields(block: Uint8Array): ProjectText {
  const out: ProjectText = { project: null, client: null, operator: null, sensor_location: null, notes: null };
  for (const f of KEYS) {
    const at = indexOfBytes(block, f.bytes);
    if (at >= 0) out[f.field] = readAscii(block, at + f.bytes.length, f.width);
  }
  return out;
}

/** Lays the text fields out from `base` in the slots sfm uses. */
export function encodeTextFields(target: Uint8Array, base: number, text: ProjectText): void {
  let o = base;
  for (const f of KEYS) {
    target.set(f.bytes, o);
    writeAsciiField(target, o + f.bytes.length, f.width, text[f.field] ?? '', f.field);
    o += f.field === 'notes' ? NOTES_SLOT_STRIDE : TEXT_SLOT_STRIDE;
  }
}

/**
 * Rewrites one value in place. The slot may not run into what follows it on the unit: its room
 * is the slot width, cut at the next text after the current value's NUL run.
 */
export function patchTextField(block: Uint8Array, field: TextField, value: string): void {
  const f = KEYS.find((k) => k.field === field)!;
  const at = indexOfBytes(block, f.bytes);
  if (at < 0) throw new PayloadError(`${field}: the unit's block has no "${f.key}" field`);
  const start = at + f.bytes.length;
  let room = 0;
  let inValue = true;
  while (room < f.width && start + room < block.length) {
    const c = block[start + room]!;
    if (c === 0) inValue = false;
    else if (!inValue) break; // the next field begins
    room++;
  }
  writeAsciiField(block, start, room, value, field);
}
