/**
 * The data sfm serves, in the JSON shapes of the HTTP/CLI contract (shared spec http-api.md).
 * Field names are the contract's; a field the unit did not give is null, never invented.
 */

export type RecordingMode = 'single_shot' | 'continuous' | 'histogram' | 'histogram_continuous';
export type GeoRangeName = 'normal' | 'sensitive';
export type RecordType = 'waveform' | 'histogram' | 'monitor_log';

export interface ComplianceConfig {
  recording_mode: RecordingMode | null;
  sample_rate: number | null;
  record_time_s: number | null;
  histogram_interval_s: number | null;
  geo_range: GeoRangeName | null;
  geo_full_scale_ips: number | null;
  trigger_level_ips: number | null;
  alarm_level_ips: number | null;
  mic_trigger_psi: number | null;
  mic_alarm_psi: number | null;
  project: string | null;
  client: string | null;
  operator: string | null;
  sensor_location: string | null;
  notes: string | null;
}

export interface DeviceInfo {
  serial: string;
  firmware: string | null;
  firmware_minor: number | null;
  dsp_version: string | null;
  calibration_date: string | null;
  event_count: number | null;
  compliance: ComplianceConfig;
}

export interface ProjectText {
  project: string | null;
  client: string | null;
  operator: string | null;
  sensor_location: string | null;
  notes: string | null;
}

export interface EventPeaks {
  tran_ips: number | null;
  vert_ips: number | null;
  long_ips: number | null;
  mic_psi: number | null;
  pvs_ips: number | null;
}

export interface Event {
  index: number;
  key: string;
  timestamp: string | null;
  record_type: RecordType;
  sample_rate: number | null;
  record_time_s: number | null;
  total_samples: number | null;
  pretrigger_samples: number | null;
  peaks: EventPeaks;
  project: ProjectText;
}

export interface EventList {
  serial: string;
  count: number;
  events: Event[];
}

import type { ChannelName } from './protocol/waveform-body.js';
export type { ChannelName };

export interface WaveformChannel {
  name: ChannelName;
  unit: 'in/s' | 'psi';
  full_scale: number;
  peak: { value: number; t_s: number };
  samples: number[];
}

export interface Waveform {
  schema: 'sfm.waveform.v1';
  serial: string;
  index: number;
  key: string;
  timestamp: string | null;
  sample_rate: number;
  pretrigger_samples: number;
  t0_s: number;
  channels: WaveformChannel[];
}

export interface MonitorStatus {
  is_monitoring: boolean;
  battery_v: number;
  memory_total: number;
  memory_free: number;
  clock: string | null;
}

export interface StorageRange {
  first_key: string;
  last_key: string;
  is_empty: boolean;
}

export interface CallHomeTime {
  enabled: boolean;
  hour: number;
  minute: number;
}

export interface CallHomeConfig {
  enabled: boolean;
  dial_string: string;
  after_event_recorded: boolean;
  at_specified_times: boolean;
  time1: CallHomeTime;
  time2: CallHomeTime;
  num_retries: number;
  retry_interval_s: number;
  wait_for_connection_s: number;
  warm_up_time_s: number;
}
