/**
 * SUB 08 → F7 event index (88 bytes, protocol.md §9.1): the unit's lifetime record counter at +3
 * (u32: every record it ever made; an erase does not lower it — the §9.1 note; never the number
 * stored now), backlight at +75 and power save at +83 (confirmed by setting them on a unit).
 * Written back through SUB 68 during a config write.
 */
import { putU32be, u32be } from './bytes.js';
import { requireLength } from './errors.js';

export const EVENT_INDEX_LENGTH = 0x58;

export interface EventIndex {
  lifetime_event_count: number;
  backlight: number;
  power_save: number;
}

export function decodeEventIndex(content: Uint8Array): EventIndex {
  requireLength(content, EVENT_INDEX_LENGTH, 'event-index block');
  return { lifetime_event_count: u32be(content, 3), backlight: content[75]!, power_save: content[83]! };
}

export function encodeEventIndex(index: EventIndex): Uint8Array {
  const out = new Uint8Array(EVENT_INDEX_LENGTH);
  putU32be(out, 3, index.lifetime_event_count >>> 0);
  out[75] = index.backlight & 0xff;
  out[83] = index.power_save & 0xff;
  return out;
}
