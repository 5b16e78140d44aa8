/**
 * A capture as a timeline of what each side said: its records fed in order come out as frames,
 * noise and parse errors with their direction, time and session. Each direction has its own
 * parser (a host frame cut by a device chunk is still one frame), reset at every session.
 */
import { FrameParser, type ParsedItem } from '../protocol/frame-parser.js';
import { directionOf, type CaptureHeader, type CaptureRecord, type Direction, type SessionEnd, type SessionStart } from './format.js';

export type TimelineEntry =
  | { kind: 'capture'; header: CaptureHeader }
  | { kind: 'session-start'; timeS: number; session: SessionStart }
  | { kind: 'item'; timeS: number; session: number; direction: Direction; item: ParsedItem }
  | { kind: 'note'; timeS: number; note: Record<string, unknown> }
  | { kind: 'session-end'; timeS: number; end: SessionEnd }
  | { kind: 'capture-end'; timeS: number; end: Record<string, unknown> };

export class CaptureTimeline {
  private parsers: Record<Direction, FrameParser> = { 'host-to-device': new FrameParser('host-to-device'), 'device-to-host': new FrameParser('device-to-host') };
  private session = 0;
  private lastS = 0;

  /** The entries one record adds. */
  push(r: CaptureRecord): TimelineEntry[] {
    const timeS = r.timeUs / 1e6;
    this.lastS = timeS;
    switch (r.type) {
      case 'capture':
        return [{ kind: 'capture', header: r.header }];
      case 'session-start': {
        const out = this.flush(timeS); // bytes after a session's end belong to none
        this.session = r.session.session;
        return [...out, { kind: 'session-start', timeS, session: r.session }];
      }
      case 'host':
      case 'device': {
        const direction = directionOf(r.type);
        return this.parsers[direction].push(r.bytes).map((item) => ({ kind: 'item', timeS, session: this.session, direction, item }));
      }
      case 'note':
        return [{ kind: 'note', timeS, note: r.note }];
      case 'session-end':
        return [...this.flush(timeS), { kind: 'session-end', timeS, end: r.end }];
      case 'capture-end':
        return [...this.flush(timeS), { kind: 'capture-end', timeS, end: r.end }];
    }
  }

  /** The file ended: what the parsers still hold (a frame cut short is a `truncated` error). */
  end(): TimelineEntry[] {
    return this.flush(this.lastS);
  }

  private flush(timeS: number): TimelineEntry[] {
    const out: TimelineEntry[] = [];
    for (const direction of ['host-to-device', 'device-to-host'] as const) {
      for (const item of this.parsers[direction].end()) out.push({ kind: 'item', timeS, session: this.session, direction, item });
    }
    return out;
  }
}
