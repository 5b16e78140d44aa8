/** What the client reads about one stored event, and its shape in the contract. */
import { keyToHex } from '../protocol/event-key.js';
import type { Event, EventPeaks, GeoRangeName, ProjectText, RecordType } from '../model.js';

export interface DeviceEvent {
  key: number;
  /** When it was recorded; a monitor-log record's start. */
  timestamp: string | null;
  /** A monitor-log record's stop time; null for events. */
  end_timestamp: string | null;
  record_type: RecordType;
  sample_rate: number | null;
  record_time_s: number | null;
  total_samples: number | null;
  pretrigger_samples: number | null;
  /** The geophone trigger level the record gives (monitor-log records), in/s. */
  trigger_level_ips: number | null;
  /** The geophone range when the event was recorded (scales its waveform). */
  geo_range: GeoRangeName | null;
  peaks: EventPeaks;
  /** The project text as it was when the event was recorded; NO_TEXT while `projectPending`. */
  project: ProjectText;
  /** The text is still to be read (headers-first reads: the list first, the text after). */
  projectPending: boolean;
}

export const NO_PEAKS: EventPeaks = { tran_ips: null, vert_ips: null, long_ips: null, mic_psi: null, pvs_ips: null };
export const NO_TEXT: ProjectText = { project: null, client: null, operator: null, sensor_location: null, notes: null };

export function toEvent(index: number, e: DeviceEvent): Event {
  return {
    index,
    key: keyToHex(e.key),
    timestamp: e.timestamp,
    end_timestamp: e.end_timestamp,
    record_type: e.record_type,
    sample_rate: e.sample_rate,
    record_time_s: e.record_time_s,
    total_samples: e.total_samples,
    pretrigger_samples: e.pretrigger_samples,
    trigger_level_ips: e.trigger_level_ips,
    peaks: e.peaks,
    project: e.project,
    project_pending: e.projectPending,
  };
}
