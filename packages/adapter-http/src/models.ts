/**
 * The JSON shapes of the contract (shared spec http-api.md) as schema data: the components of
 * the OpenAPI document, and the request bodies the validator checks. Field names are the
 * contract's; a field the unit did not give is null, never invented.
 */
import { CACHE_KINDS, MODE_CODES, SAMPLE_RATES, WRITABLE_COMPLIANCE_FIELDS, textFieldWidth, type TextField } from '@sfm/core';
import type { ObjectSchema, Schema } from './schema.js';

const str = (description: string, extra: Partial<Omit<Extract<Schema, { type: 'string' }>, 'type'>> = {}): Schema => ({ type: 'string', description, ...extra });
const num = (description: string, nullable = false): Schema => ({ type: 'number', description, nullable });
const int = (description: string, nullable = false): Schema => ({ type: 'integer', description, nullable });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const ref = (name: string, description?: string): Schema => (description ? { $ref: name, description } : { $ref: name });
const obj = (description: string, properties: Record<string, Schema>, extra: Partial<ObjectSchema> = {}): ObjectSchema => ({
  type: 'object',
  description,
  properties,
  required: Object.keys(properties),
  ...extra,
});

const RECORDING_MODES = Object.keys(MODE_CODES);
const GEO_RANGES = ['normal', 'sensitive'] as const;
const TEXT_FIELDS: readonly TextField[] = ['project', 'client', 'operator', 'sensor_location', 'notes'];
const PRINTABLE = '^[\\x20-\\x7e]*$';

/** The printable-ASCII text fields of the unit's setup, as nullable strings (responses). */
const projectText = (what: string): Record<TextField, Schema> =>
  Object.fromEntries(TEXT_FIELDS.map((f) => [f, str(`${f.replace('_', ' ')} ${what} (null when the unit's block lacks it)`, { nullable: true })])) as Record<TextField, Schema>;

const ComplianceConfig = obj('The compliance (recording) setup of the unit (SUB 1A).', {
  recording_mode: { type: 'string', enum: RECORDING_MODES, nullable: true, description: 'how the unit records' },
  sample_rate: int('samples per second per channel', true),
  record_time_s: num('seconds recorded per event', true),
  histogram_interval_s: int('seconds per histogram interval', true),
  geo_range: { type: 'string', enum: GEO_RANGES, nullable: true, description: 'geophone range' },
  geo_full_scale_ips: num('geophone full scale, in/s (follows geo_range)', true),
  trigger_level_ips: num('geophone trigger level, in/s', true),
  alarm_level_ips: num('geophone alarm level, in/s', true),
  mic_trigger_psi: num('microphone trigger level, psi', true),
  mic_alarm_psi: num('microphone alarm level, psi', true),
  ...projectText('of the current setup'),
});

const DeviceInfo = obj('Identity and configuration: POLL, serial (15), full config (01), compliance (1A), event index (08).', {
  serial: str('the serial number the unit reports', { example: 'BE18189' }),
  firmware: str('firmware version', { nullable: true }),
  firmware_minor: int('firmware minor version', true),
  dsp_version: str('DSP version', { nullable: true }),
  calibration_date: str('date of the last calibration', { nullable: true }),
  event_count: int('events stored, as the event index (08) says', true),
  compliance: ref('ComplianceConfig'),
});

const Peaks = obj('Peak values of the event.', {
  tran_ips: num('peak transverse particle velocity, in/s', true),
  vert_ips: num('peak vertical particle velocity, in/s', true),
  long_ips: num('peak longitudinal particle velocity, in/s', true),
  mic_psi: num('peak air overpressure, psi', true),
  pvs_ips: num('peak vector sum, in/s', true),
});

const Event = obj('One stored event: header, peaks and the project text in force when it was recorded.', {
  index: int('0-based position on the unit'),
  key: str('the unit\'s event key, 8 hex digits', { pattern: '^[0-9A-F]{8}$', example: '0111245A' }),
  timestamp: str('when the event was recorded, unit-local time without a zone', { nullable: true, example: '2026-04-08T01:59:45' }),
  record_type: { type: 'string', enum: ['waveform', 'histogram', 'monitor_log'], description: 'what the record holds' },
  sample_rate: int('samples per second per channel', true),
  record_time_s: num('seconds recorded', true),
  total_samples: int('samples per channel', true),
  pretrigger_samples: int('samples before the trigger', true),
  peaks: ref('Peaks'),
  project: obj('Project text at event time.', projectText('at event time')),
});

const EventList = obj('Every stored event of the unit.', {
  serial: str('the unit\'s serial number'),
  count: int('number of events'),
  events: { type: 'array', items: ref('Event') },
});

const WaveformChannel = obj('One channel of a waveform, in physical units.', {
  name: { type: 'string', enum: ['Tran', 'Vert', 'Long', 'MicL'], description: 'channel' },
  unit: { type: 'string', enum: ['in/s', 'psi'], description: 'unit of the samples' },
  full_scale: num('full scale of the channel in its unit'),
  peak: obj('Largest absolute sample and when.', { value: num('absolute peak value'), t_s: num('seconds from the trigger') }),
  samples: { type: 'array', items: { type: 'number' }, description: 'samples in the channel\'s unit, first at t0_s' },
});

const Waveform = obj('A full waveform (5A stream) in physical units.', {
  schema: { type: 'string', enum: ['sfm.waveform.v1'], description: 'version of this shape' },
  serial: str('the unit\'s serial number'),
  index: int('0-based event index'),
  key: str('event key, 8 hex digits'),
  timestamp: str('when the event was recorded (unit-local)', { nullable: true }),
  sample_rate: int('samples per second per channel'),
  pretrigger_samples: int('samples before the trigger'),
  t0_s: num('time of the first sample relative to the trigger, seconds (≤ 0)'),
  channels: { type: 'array', items: ref('WaveformChannel') },
});

const MonitorStatus = obj('Monitoring state, battery, memory and clock.', {
  is_monitoring: bool('the unit is monitoring'),
  battery_v: num('battery voltage, V'),
  memory_total: int('event memory, bytes'),
  memory_free: int('free event memory, bytes'),
  clock: str('the unit clock, unit-local time without a zone', { nullable: true }),
});

const StorageRange = obj('First and last event key (SUB 06).', {
  first_key: str('key of the first stored event, 8 hex digits'),
  last_key: str('key after the last stored event, 8 hex digits'),
  is_empty: bool('no events are stored'),
});

const callHomeTime = (partial: boolean): ObjectSchema =>
  obj(
    partial ? 'Changes to a daily call time: only the fields given change.' : 'A daily call time.',
    {
      enabled: bool('call at this time'),
      hour: { type: 'integer', minimum: 0, maximum: 23, description: 'hour, unit-local' },
      minute: { type: 'integer', minimum: 0, maximum: 59, description: 'minute' },
    },
    partial ? { required: [], additionalProperties: false } : {},
  );

const byte = (description: string): Schema => ({ type: 'integer', minimum: 0, maximum: 255, description });

const callHomeFields = (partial: boolean): Record<string, Schema> => ({
  enabled: bool('auto call home is on'),
  dial_string: str('what the modem dials (printable ASCII, at most 40 characters)', { pattern: PRINTABLE, patternText: 'printable ASCII text', maxLength: 40 }),
  after_event_recorded: bool('call after each event'),
  at_specified_times: bool('call at time1/time2'),
  time1: partial ? callHomeTime(true) : ref('CallHomeTime'),
  time2: partial ? callHomeTime(true) : ref('CallHomeTime'),
  num_retries: byte('retries when a call fails'),
  retry_interval_s: byte('seconds between retries'),
  wait_for_connection_s: byte('seconds to wait for the connection'),
  warm_up_time_s: byte('modem warm-up seconds'),
});

const CallHomeConfig = obj('The auto-call-home settings (SUB 2C).', callHomeFields(false));

/** POST /device/call-home: the settings to change; the rest is read from the unit and kept. */
export const CallHomeChanges: ObjectSchema = obj('The call-home settings to change; the rest is read back from the unit and written unchanged.', callHomeFields(true), {
  required: [],
  additionalProperties: false,
  minProperties: 1,
});

const complianceChange: Record<(typeof WRITABLE_COMPLIANCE_FIELDS)[number], Schema> = {
  recording_mode: { type: 'string', enum: RECORDING_MODES, description: 'how the unit records' },
  sample_rate: { type: 'integer', enum: SAMPLE_RATES, description: 'samples per second per channel' },
  record_time_s: { type: 'number', minimum: 0.25, maximum: 600, description: 'seconds recorded per event' },
  histogram_interval_s: { type: 'integer', minimum: 1, maximum: 65535, description: 'seconds per histogram interval' },
  geo_range: { type: 'string', enum: GEO_RANGES, description: 'geophone range (geo_full_scale_ips follows)' },
  trigger_level_ips: { type: 'number', minimum: 0.005, maximum: 10, description: 'geophone trigger level, in/s' },
  alarm_level_ips: { type: 'number', minimum: 0.005, maximum: 10, description: 'geophone alarm level, in/s' },
  mic_trigger_psi: { type: 'number', minimum: 0.0001, maximum: 1.2, description: 'microphone trigger level, psi' },
  mic_alarm_psi: { type: 'number', minimum: 0.0001, maximum: 1.2, description: 'microphone alarm level, psi' },
  ...(Object.fromEntries(
    TEXT_FIELDS.map((f) => [
      f,
      str(`${f.replace('_', ' ')} (printable ASCII, at most ${textFieldWidth(f)} characters; a unit may have less room)`, {
        pattern: PRINTABLE,
        patternText: 'printable ASCII text',
        maxLength: textFieldWidth(f),
      }),
    ]),
  ) as Record<TextField, Schema>),
};

/** POST /device/config: the compliance fields to change. */
export const ComplianceChanges: ObjectSchema = obj(
  'The compliance fields to change (at least one); the rest of the block is read back from the unit and written unchanged. geo_full_scale_ips is not writable: it follows geo_range.',
  complianceChange,
  { required: [], additionalProperties: false, minProperties: 1 },
);

/** POST /device/events/erase: the confirmation may come in the body instead of the query. */
export const EraseRequest: ObjectSchema = obj('Optional body of an erase: {"confirm": true} confirms like the query parameter.', { confirm: bool('true confirms the erase') }, {
  required: [],
  additionalProperties: false,
});

const kindCounters = obj('Cache entries of one kind, and outcomes since the server started.', {
  entries: int('entries stored'),
  bytes: int('bytes stored'),
  hits: int('served from the cache'),
  misses: int('fetched because nothing was cached'),
  refreshes: int('fetched again (force, a change on the unit, dirty info)'),
  stale: int('served from the cache because the unit could not be reached'),
  uncached: int('fetched, but the store could not keep it'),
});

const CacheStats = obj('What the cache holds and how it served.', {
  store: str('the store kind', { example: 'sqlite' }),
  persistent: bool('the store survives a restart'),
  kinds: obj('Per kind of data.', Object.fromEntries(CACHE_KINDS.map((k) => [k, ref('KindStats')]))),
  hot_tier: obj('Serialized responses kept in memory.', { entries: int('entries'), bytes: int('bytes') }),
  device_requests_pending: int('device requests running or waiting, all units'),
});

const CacheCleared = obj('What DELETE /cache/device removed.', {
  connection_key: str('the unit\'s connection key: tcp:<host>:<port> or serial:<path>:<baud>'),
  cleared: obj('Entries removed per kind, every serial seen at that address.', Object.fromEntries(CACHE_KINDS.map((k) => [k, int(`${k} entries removed`)]))),
});

const Health = obj('The server is up; no device I/O is done to answer.', {
  status: { type: 'string', enum: ['ok'], description: 'always ok' },
  version: str('sfm version'),
  uptime_s: int('whole seconds since the HTTP server started'),
  store: str('the cache store kind (memory, sqlite, …)'),
});

const ErrorBody = obj('Every error response.', {
  error: obj('What went wrong.', {
    code: {
      type: 'string',
      enum: ['INVALID_REQUEST', 'UNAUTHORIZED', 'TARGET_NOT_ALLOWED', 'NOT_FOUND', 'CONFIRMATION_REQUIRED', 'DEVICE_UNREACHABLE', 'PROTOCOL_ERROR', 'DEVICE_BUSY', 'DEVICE_TIMEOUT', 'INTERNAL'],
      description: 'machine-readable code',
    },
    message: str('for people: which field or unit, and why; never a stack trace'),
  }),
});

/** Every named schema; `{ $ref: name }` points here. */
export const COMPONENTS: Readonly<Record<string, Schema>> = {
  DeviceInfo,
  ComplianceConfig,
  Event,
  Peaks,
  EventList,
  Waveform,
  WaveformChannel,
  MonitorStatus,
  StorageRange,
  CallHomeConfig,
  CallHomeTime: callHomeTime(false),
  CallHomeChanges,
  ComplianceChanges,
  EraseRequest,
  KindStats: kindCounters,
  CacheStats,
  CacheCleared,
  Health,
  Error: ErrorBody,
};

export const lookupComponent = (name: string): Schema | undefined => (Object.hasOwn(COMPONENTS, name) ? COMPONENTS[name] : undefined);
