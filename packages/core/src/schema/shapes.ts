/**
 * The JSON shapes of the HTTP/CLI contract (shared spec http-api.md), each declared once. The
 * TypeScript types (model.ts), the runtime checks (check.ts), the OpenAPI document (adapter-http),
 * the CLI's KEY=VALUE parsing and the configuration loader all come from these declarations.
 * Field names are the contract's; a field the unit did not give is null, never invented.
 *
 * A component is named by its `$id`; the OpenAPI document refers to it there.
 */
import { Type, type TLiteral, type TObject, type TProperties, type TSchema, type TUnion } from '@sinclair/typebox';
import { SAMPLE_RATES } from '../protocol/compliance-config.js';
import { TEXT_FIELDS } from '../protocol/conventions.js';
import { PA_PER_PSI, geoFullScaleIps } from '../protocol/units.js';
import { COMPLIANCE_RULE_TEXTS, longestRecordS } from './compliance-rules.js';
import { CHANNEL_NAMES, type ChannelName } from '../protocol/waveform-body.js';
import { FFT_MAX_WINDOW, G_IPS2, MIN_DOMINANT_HZ, ZC_MAX_HZ } from '../analysis/constants.js';
import { AIR_BLAST_IDS, STANDARD_CURVE_IDS } from '../analysis/curves.js';
import { CACHE_KINDS } from '../cache/store.js';
import { ERROR_CODES } from '../errors.js';

// --- building blocks ---------------------------------------------------------------------------

/** The value, or null. */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()], t.description ? { description: t.description } : {});

/** One of these literal values (a JSON Schema enum the checks and the OpenAPI document read as one). */
export const OneOf = <const V extends readonly (string | number)[]>(values: V, description: string): TUnion<TLiteral<V[number]>[]> =>
  Type.Union(values.map((v) => Type.Literal(v)), { description }) as TUnion<TLiteral<V[number]>[]>;

/** Every field required, nothing else allowed. */
export const Shape = <P extends TProperties>($id: string, description: string, properties: P) => Type.Object(properties, { $id, description, additionalProperties: false });

const PRINTABLE = '^[\\x20-\\x7e]*$';
const printable = (description: string, maxLength: number) => Type.String({ description, pattern: PRINTABLE, patternText: 'printable ASCII text', maxLength });

// --- the unit's setup --------------------------------------------------------------------------

export const RECORDING_MODES = ['single_shot', 'continuous', 'histogram', 'histogram_continuous'] as const;
export const GEO_RANGES = ['normal', 'sensitive'] as const;
export const RECORD_TYPES = ['waveform', 'histogram', 'monitor_log'] as const;

type TextFieldName = (typeof TEXT_FIELDS)[number]['field'];

const textOf = (what: string) =>
  Object.fromEntries(TEXT_FIELDS.map(({ field }) => [field, Nullable(Type.String({ description: `${field.replace('_', ' ')} ${what} (null when the unit's block lacks it)` }))])) as {
    [K in TextFieldName]: ReturnType<typeof Nullable<ReturnType<typeof Type.String>>>;
  };

export const ProjectText = Shape('ProjectText', 'Project text.', textOf('at event time'));

/** No geophone level can be above the widest range's full scale (protocol.md §8.2). */
const WIDEST_FULL_SCALE_IPS = Math.max(...GEO_RANGES.map(geoFullScaleIps));

/**
 * The compliance fields with the limits a write must keep (what a unit can hold); the config the
 * unit reports is the same fields, nullable and unbounded. geo_full_scale_ips follows geo_range.
 * The limits across fields are compliance-rules.ts'; each single-field limit here is the loosest
 * those allow (the record time at the slowest rate, a level at the widest range).
 */
export const COMPLIANCE_FIELDS = {
  recording_mode: OneOf(RECORDING_MODES, 'how the unit records'),
  // A unit reports the rate it holds; a write may only set one it supports.
  sample_rate: Type.Integer({ description: 'samples per second per channel', enum: [...SAMPLE_RATES] }),
  record_time_s: Type.Number({ description: 'seconds recorded per event (the longest depends on sample_rate)', minimum: 0.25, maximum: longestRecordS(Math.min(...SAMPLE_RATES)) }),
  histogram_interval_s: Type.Integer({ description: 'seconds per histogram interval', minimum: 1, maximum: 65535 }),
  geo_range: OneOf(GEO_RANGES, 'geophone range (geo_full_scale_ips follows)'),
  trigger_level_ips: Type.Number({ description: 'geophone trigger level, in/s (at most the range\'s full scale)', minimum: 0.005, maximum: WIDEST_FULL_SCALE_IPS }),
  alarm_level_ips: Type.Number({ description: 'geophone alarm level, in/s (at least the trigger level, at most the range\'s full scale)', minimum: 0.005, maximum: WIDEST_FULL_SCALE_IPS }),
  mic_trigger_psi: Type.Number({ description: 'microphone trigger level, psi', minimum: 0.0001, maximum: 1.2 }),
  mic_alarm_psi: Type.Number({ description: 'microphone alarm level, psi', minimum: 0.0001, maximum: 1.2 }),
  ...(Object.fromEntries(
    TEXT_FIELDS.map(({ field, width }) => [field, printable(`${field.replace('_', ' ')} (printable ASCII, at most ${width} characters; a unit may have less room)`, width)]),
  ) as { [K in TextFieldName]: ReturnType<typeof printable> }),
};

type ComplianceFields = typeof COMPLIANCE_FIELDS;

/** The reported form of a field: nullable, without the write limits (a unit may hold other values). */
function reported<T extends TSchema>(t: T): TSchema {
  const { minimum: _min, maximum: _max, maxLength: _len, pattern: _p, patternText: _pt, enum: _e, ...rest } = t as T & Record<string, unknown>;
  return Nullable(rest as unknown as T);
}

export const ComplianceConfig = Shape('ComplianceConfig', 'The compliance (recording) setup of the unit (SUB 1A).', {
  ...(Object.fromEntries(Object.entries(COMPLIANCE_FIELDS).map(([k, v]) => [k, reported(v)])) as { [K in keyof ComplianceFields]: ReturnType<typeof Nullable<ComplianceFields[K]>> }),
  geo_full_scale_ips: Nullable(Type.Number({ description: 'geophone full scale, in/s (follows geo_range)' })),
});

/** POST /device/config: the compliance fields to change (at least one). */
export const ComplianceChanges = Type.Partial(Type.Object(COMPLIANCE_FIELDS), {
  $id: 'ComplianceChanges',
  description: `The compliance fields to change (at least one); the rest of the block is read back from the unit and written unchanged. geo_full_scale_ips is not writable: it follows geo_range. The unit's setup with the changes applied must keep these rules across fields, or nothing is written (400 INVALID_REQUEST naming the field and the limit): ${COMPLIANCE_RULE_TEXTS.map((t, i) => `(${i + 1}) ${t}`).join('; ')}.`,
  additionalProperties: false,
  minProperties: 1,
});

export const WRITABLE_COMPLIANCE_FIELDS = Object.keys(COMPLIANCE_FIELDS) as (keyof ComplianceFields)[];

export const DeviceInfo = Shape('DeviceInfo', 'Identity and configuration: POLL, serial (15), full config (01), compliance (1A), event index (08).', {
  serial: Type.String({ description: 'the serial number the unit reports', examples: ['BE18189'] }),
  firmware: Nullable(Type.String({ description: 'firmware version' })),
  firmware_minor: Nullable(Type.Integer({ description: 'firmware minor version' })),
  dsp_version: Nullable(Type.String({ description: 'DSP version' })),
  calibration_date: Nullable(Type.String({ description: 'date of the last calibration' })),
  event_count: Nullable(Type.Integer({ description: 'records the unit ever made (the SUB 08 lifetime counter: it survives erases); the number stored now is /device/events\' count' })),
  compliance: ComplianceConfig,
});

// --- events and waveforms ----------------------------------------------------------------------

export const EventPeaks = Shape('Peaks', 'Peak values of the event.', {
  tran_ips: Nullable(Type.Number({ description: 'peak transverse particle velocity, in/s' })),
  vert_ips: Nullable(Type.Number({ description: 'peak vertical particle velocity, in/s' })),
  long_ips: Nullable(Type.Number({ description: 'peak longitudinal particle velocity, in/s' })),
  mic_psi: Nullable(Type.Number({ description: 'peak air overpressure, psi' })),
  pvs_ips: Nullable(Type.Number({ description: 'peak vector sum, in/s' })),
});

export const Event = Shape('Event', 'One stored record: header, peaks and the project text in force when it was recorded. A monitor_log record stands for an interval of monitoring in which nothing crossed the trigger level: it has a start (timestamp), an end (end_timestamp) and the trigger level, no waveform, peaks or text.', {
  index: Type.Integer({ description: '0-based position on the unit' }),
  key: Type.String({ description: 'the unit\'s event key, 8 hex digits', pattern: '^[0-9A-F]{8}$', examples: ['0111245A'] }),
  timestamp: Nullable(Type.String({ description: 'when the event was recorded (a monitor_log record: when its monitoring started), unit-local time without a zone', examples: ['2026-04-08T01:59:45'] })),
  end_timestamp: Nullable(Type.String({ description: 'when a monitor_log record\'s monitoring stopped, unit-local time without a zone; null for waveform and histogram events (their headers give a start and a length, not an end)', examples: ['2026-04-08T03:00:00'] })),
  record_type: OneOf(RECORD_TYPES, 'what the record holds'),
  sample_rate: Nullable(Type.Integer({ description: 'samples per second per channel' })),
  record_time_s: Nullable(Type.Number({ description: 'seconds recorded' })),
  total_samples: Nullable(Type.Integer({ description: 'samples per channel' })),
  pretrigger_samples: Nullable(Type.Integer({ description: 'samples before the trigger' })),
  trigger_level_ips: Nullable(Type.Number({ description: 'the geophone trigger level in force, in/s, as the record gives it (a monitor_log record\'s "Geo:" level); null when the record does not give it — the headers of waveform and histogram events do not' })),
  peaks: EventPeaks,
  project: ProjectText,
  project_pending: Type.Boolean({ description: 'true while the event-time project text is still to be read (its fields are null until then, never invented); sfm reads the list first and the text after' }),
});

/** Bytes as the unit sent them: hex, two lowercase digits a byte. */
const hexBytes = (description: string) => Type.String({ description, pattern: '^(?:[0-9a-f]{2})*$', patternText: 'hex, two lowercase digits a byte' });

export const EventRaw = Shape('EventRaw', 'The blocks an event is read from, as the unit sent them when asked (debug=true).', {
  waveform_record_hex: Nullable(hexBytes('the 0C waveform record (210 bytes: peaks, timestamp, project strings); null for a monitor-log record, which has none')),
  header_hex: hexBytes('the 0A event header (its length is the unit\'s: a full event\'s or a monitor-log record\'s)'),
});

/** GET /device/event/{idx}?debug=true: the Event and the raw blocks, read from the unit now. */
export const EventDebug = Shape('EventDebug', 'One event with debug=true: every field of Event, and raw — its 0C and 0A blocks read from the unit for this request (not cached).', {
  ...Event.properties,
  raw: EventRaw,
});

export const EventList = Shape('EventList', 'Every stored event of the unit.', {
  serial: Type.String({ description: 'the unit\'s serial number' }),
  count: Type.Integer({ description: 'number of events' }),
  events: Type.Array(Event),
});

export const WaveformChannel = Shape('WaveformChannel', 'One channel of a waveform, in physical units.', {
  name: OneOf(CHANNEL_NAMES, 'channel'),
  unit: OneOf(['in/s', 'psi'], 'unit of the samples'),
  full_scale: Type.Number({ description: 'full scale of the channel in its unit' }),
  peak: Type.Object({ value: Type.Number({ description: 'absolute peak value' }), t_s: Type.Number({ description: 'seconds from the trigger' }) }, { description: 'Largest absolute sample and when.', additionalProperties: false }),
  samples: Type.Array(Type.Number(), { description: 'samples in the channel\'s unit, first at t0_s' }),
});

export const Waveform = Shape('Waveform', 'A full waveform (5A stream) in physical units.', {
  schema: Type.Literal('sfm.waveform.v1', { description: 'version of this shape' }),
  serial: Type.String({ description: 'the unit\'s serial number' }),
  index: Type.Integer({ description: '0-based event index' }),
  key: Type.String({ description: 'event key, 8 hex digits' }),
  timestamp: Nullable(Type.String({ description: 'when the event was recorded (unit-local)' })),
  sample_rate: Type.Integer({ description: 'samples per second per channel' }),
  pretrigger_samples: Type.Integer({ description: 'samples before the trigger' }),
  t0_s: Type.Number({ description: 'time of the first sample relative to the trigger, seconds (≤ 0)' }),
  channels: Type.Array(WaveformChannel),
});

// --- analysis (shared spec analysis.md) ------------------------------------------------------------

export const GEOPHONE_NAMES = CHANNEL_NAMES.filter((n): n is Exclude<ChannelName, 'MicL'> => n !== 'MicL');
export const ZC_FLAGS = ['gt_100', 'lt_1', 'n/a'] as const;
export const VERDICTS = ['pass', 'fail', 'n/a'] as const;

const fromTrigger = (what: string) => Nullable(Type.Number({ description: `${what}: seconds from the trigger (negative in the pretrigger), as the waveform's t0_s defines them; null with the figure` }));
const zcFrequency = () => Nullable(Type.Number({ description: `zero-crossing frequency of the peak, Hz: 1 / (2·T½), T½ the time between the zero crossings either side of the peak sample (a sample at exactly zero is a crossing; between samples of opposite sign the crossing is interpolated linearly). It assumes one predominant frequency: on compound waveforms it is approximate. Null with zc_flag` }));
const zcFlag = () =>
  Nullable(OneOf(ZC_FLAGS, `why zc_freq_hz is null, as the vendor flags it: gt_100 — above ${ZC_MAX_HZ} Hz, not computed (printed ">${ZC_MAX_HZ}"; at every sample rate); lt_1 — a zero crossing of the peak half cycle lies outside the record (printed "<1"); n/a — the channel is incomplete (fewer samples than the event holds) or did not move. Null when zc_freq_hz is given`));
const margin = (what: string) => Nullable(Type.Number({ description: `${what}; 1 or more fails. Null when it cannot be judged` }));
const verdict = (what: string) => OneOf(VERDICTS, `${what}: fail when any margin is 1 or more, else n/a when something could not be judged (no frequency to read a limit at, no limit there), else pass`);

export const ChannelAnalysis = Shape('ChannelAnalysis', 'The figures of one geophone channel, from its samples in in/s. A figure that cannot be computed is null, never made up.', {
  name: OneOf(GEOPHONE_NAMES, 'geophone channel'),
  ppv_ips: Nullable(Type.Number({ description: 'peak particle velocity: max |v| over the record, in/s (null: the channel has no samples, or a non-finite one)' })),
  ppv_t_s: fromTrigger('when the PPV occurs (its first sample)'),
  zc_freq_hz: zcFrequency(),
  zc_flag: zcFlag(),
  peak_accel_g: Nullable(Type.Number({ description: `peak acceleration: max |Δv/Δt| between consecutive samples over the whole record, in g (1 g = ${G_IPS2} in/s²)` })),
  peak_disp_in: Nullable(Type.Number({ description: 'peak displacement: the largest |∫v dt| over a segment between consecutive zero crossings (trapezoidal), halved, in inches; null with fewer than two crossings' })),
  dominant_freq_hz: Nullable(Type.Number({ description: `FFT dominant frequency, Hz — not the ZC frequency: the strongest spectral component at or above ${MIN_DOMINANT_HZ} Hz over up to ${FFT_MAX_WINDOW} samples around the peak (mean removed, Hann window, interpolated between bins); null on a flat channel` })),
});

export const MicAnalysis = Shape('MicAnalysis', 'The microphone (MicL), from its samples in psi.', {
  pspl_psi: Nullable(Type.Number({ description: 'peak sound pressure level: max |p| over the record, psi' })),
  pspl_db: Nullable(Type.Number({ description: `the PSPL in dB(L): 20·log10(p_Pa / 20 µPa), p_Pa = psi × ${PA_PER_PSI}; null when the PSPL is 0 or unknown` })),
  t_s: fromTrigger('when the PSPL occurs (its first sample)'),
  zc_freq_hz: zcFrequency(),
  zc_flag: zcFlag(),
});

export const PeakVectorSum = Shape('PeakVectorSum', 'The peak vector sum of the three geophone channels.', {
  ips: Nullable(Type.Number({ description: 'max over samples of √(T² + V² + L²), in/s (null when a geophone channel is missing or has a non-finite sample)' })),
  t_s: fromTrigger('when it occurs (its first sample)'),
});

export const ChannelCompliance = Shape('ChannelCompliance', 'One geophone channel against a standard.', {
  name: OneOf(GEOPHONE_NAMES, 'geophone channel'),
  freq_hz: Nullable(Type.Number({ description: 'the frequency the limit is read at: the channel\'s ZC frequency (null with its zc_flag; a gt_100 channel is judged against a curve that is flat from 100 Hz up)' })),
  ppv_ips: Nullable(Type.Number({ description: 'the channel\'s PPV, in/s' })),
  limit_ips: Nullable(Type.Number({ description: 'the standard\'s limit at freq_hz, in/s; null when there is none to read' })),
  margin: margin('PPV / limit (0 for a channel that did not move)'),
});

export const ComplianceResult = Shape('ComplianceResult', 'The event against one standard: each geophone channel\'s limit and margin, and the verdict.', {
  standard: Type.String({ description: `the standard: ${STANDARD_CURVE_IDS.join(', ')}, or a curve configured in compliance_curves (by its name)`, examples: ['osmre-chart'] }),
  source: Type.String({ description: 'where the curve comes from (regulation, report, configuration)' }),
  verdict: verdict('the event against this standard'),
  channels: Type.Array(ChannelCompliance),
});

export const AirBlastCompliance = Shape('AirBlastCompliance', 'The microphone\'s peak pressure against an air-blast limit (30 CFR 816.67(b)).', {
  standard: OneOf(AIR_BLAST_IDS, 'the air-blast limit, by the measuring system\'s low-frequency limit'),
  source: Type.String({ description: 'the rule and the limit' }),
  limit_db: Type.Number({ description: 'the limit, dB re 20 µPa' }),
  pspl_db: Nullable(Type.Number({ description: 'the PSPL in dB(L), as in mic' })),
  margin: margin('PSPL / the limit\'s pressure (a C-weighted limit is not judged from linear peak pressure: null)'),
  verdict: verdict('the microphone against this limit'),
});

export const Analysis = Shape('Analysis', 'What an event means: the figures read off its waveform (in physical units) and the event against the chosen compliance standards. Computed by sfm from the waveform, not read from the unit.', {
  schema: Type.Literal('sfm.analysis.v1', { description: 'version of this shape' }),
  serial: Type.String({ description: 'the unit\'s serial number' }),
  key: Type.String({ description: 'event key, 8 hex digits' }),
  timestamp: Nullable(Type.String({ description: 'when the event was recorded (unit-local)' })),
  sample_rate: Type.Integer({ description: 'samples per second per channel' }),
  channels: Type.Array(ChannelAnalysis, { description: 'Tran, Vert, Long' }),
  mic: MicAnalysis,
  pvs: PeakVectorSum,
  compliance: Type.Array(ComplianceResult, { description: 'one entry per standard asked for, in that order' }),
  air_blast: Nullable(AirBlastCompliance),
});

/** One line per analysed event (the archive's analysis_summary). */
export const AnalysisSummary = Shape('AnalysisSummary', 'An analysis in one line.', {
  pvs_ips: Nullable(Type.Number({ description: 'the peak vector sum, in/s' })),
  max_ppv_ips: Nullable(Type.Number({ description: 'the largest geophone PPV, in/s' })),
  dominant_freq_hz: Nullable(Type.Number({ description: 'the FFT dominant frequency of the channel with the largest PPV, Hz' })),
  compliance: OneOf(VERDICTS, 'the worst verdict over the standards and the air-blast limit (fail, then n/a, then pass); n/a when nothing was judged'),
});

// --- monitoring, storage, call home -------------------------------------------------------------

export const MonitorStatus = Shape('MonitorStatus', 'Monitoring state, battery, memory and clock.', {
  is_monitoring: Type.Boolean({ description: 'the unit is monitoring' }),
  battery_v: Type.Number({ description: 'battery voltage, V' }),
  memory_total: Type.Integer({ description: 'event memory, bytes' }),
  memory_free: Type.Integer({ description: 'free event memory, bytes' }),
  clock: Nullable(Type.String({ description: 'the unit clock, unit-local time without a zone' })),
});

export const StorageRange = Shape('StorageRange', 'Where the unit\'s stored records lie (SUB 06, and the event list for the last key).', {
  first_key: Type.String({ description: 'key of the first stored record, 8 hex digits (equal to next_key when nothing is stored)', examples: ['01110000'] }),
  last_key: Nullable(Type.String({ description: 'key of the last stored record (event or monitor log), 8 hex digits; null when nothing is stored', examples: ['01117800'] })),
  next_key: Type.String({ description: 'the key the next record will get, 8 hex digits', examples: ['01119600'] }),
  is_empty: Type.Boolean({ description: 'no records are stored (first_key equals next_key)' }),
});

export const EventIndex = Shape('EventIndex', 'The unit\'s lifetime record counter (SUB 08).', {
  lifetime_event_count: Type.Integer({ description: 'records the unit ever made; an erase does not lower it' }),
});

const byte = (description: string) => Type.Integer({ description, minimum: 0, maximum: 255 });

const CALL_HOME_TIME_FIELDS = {
  enabled: Type.Boolean({ description: 'call at this time' }),
  hour: Type.Integer({ description: 'hour, unit-local', minimum: 0, maximum: 23 }),
  minute: Type.Integer({ description: 'minute', minimum: 0, maximum: 59 }),
};

export const CallHomeTime = Shape('CallHomeTime', 'A daily call time.', CALL_HOME_TIME_FIELDS);

const CALL_HOME_FIELDS = {
  enabled: Type.Boolean({ description: 'auto call home is on' }),
  dial_string: printable('what the modem dials (printable ASCII, at most 40 characters)', 40),
  after_event_recorded: Type.Boolean({ description: 'call after each event' }),
  at_specified_times: Type.Boolean({ description: 'call at time1/time2' }),
  time1: CallHomeTime,
  time2: CallHomeTime,
  num_retries: byte('retries when a call fails'),
  retry_interval_s: byte('seconds between retries'),
  wait_for_connection_s: byte('seconds to wait for the connection'),
  warm_up_time_s: byte('modem warm-up seconds'),
};

export const CallHomeConfig = Shape('CallHomeConfig', 'The auto-call-home settings (SUB 2C).', CALL_HOME_FIELDS);

const partialTime = Type.Partial(Type.Object(CALL_HOME_TIME_FIELDS), { description: 'Changes to a daily call time: only the fields given change.', additionalProperties: false });

/** POST /device/call-home: the settings to change; the rest is read from the unit and kept. */
export const CallHomeChanges = Type.Partial(Type.Object({ ...CALL_HOME_FIELDS, time1: partialTime, time2: partialTime }), {
  $id: 'CallHomeChanges',
  description: 'The call-home settings to change; the rest is read back from the unit and written unchanged.',
  additionalProperties: false,
  minProperties: 1,
});

export const EraseRequest = Type.Partial(Type.Object({ confirm: Type.Boolean({ description: 'true confirms the erase' }) }), {
  $id: 'EraseRequest',
  description: 'Optional body of an erase: {"confirm": true} confirms like the query parameter.',
  additionalProperties: false,
});

// --- the service ---------------------------------------------------------------------------------

export const KindStats = Shape('KindStats', 'Cache entries of one kind, and outcomes since the server started.', {
  entries: Type.Integer({ description: 'entries stored' }),
  bytes: Type.Integer({ description: 'bytes stored' }),
  hits: Type.Integer({ description: 'served from the cache' }),
  misses: Type.Integer({ description: 'fetched because nothing was cached' }),
  refreshes: Type.Integer({ description: 'fetched again (force, a change on the unit, dirty info)' }),
  stale: Type.Integer({ description: 'served from the cache because the unit could not be reached' }),
  uncached: Type.Integer({ description: 'fetched, but the store could not keep it' }),
});

const perKind = <T extends TSchema>(t: () => T) => Object.fromEntries(CACHE_KINDS.map((k) => [k, t()])) as Record<(typeof CACHE_KINDS)[number], T>;

export const CacheCleared = Shape('CacheCleared', 'What DELETE /cache/device removed.', {
  connection_key: Type.String({ description: 'the unit\'s connection key: tcp:<host>:<port> or serial:<path>:<baud>' }),
  cleared: Type.Object(perKind(() => Type.Integer({ description: 'entries removed' })), { description: 'Entries removed per kind.', additionalProperties: false }),
});

// --- the archive and the fleet (/db/*) ------------------------------------------------------------

/** A unit-local date or time (the units keep no zone), as the archive's from/to filters take it. */
export const LocalTime = Type.String({
  pattern: '^\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])(?:T(?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d)?)?$',
  patternText: 'a unit-local date or time: YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS',
});

export const EVENT_SOURCES = ['call-up', 'call-home', 'import'] as const;
export const SESSION_KINDS = ['call-up', 'call-home'] as const;

const { index: _liveIndex, ...archivedEventFields } = Event.properties;

export const ArchivedEvent = Shape('ArchivedEvent', 'An event as the archive keeps it for good: every field of Event but its live index, and what the archive adds. One row per (serial, timestamp, key), whatever later happened on the unit (erase, refill, swap).', {
  id: Type.Integer({ description: 'the archive\'s id of the event (stable)' }),
  serial: Type.String({ description: 'the serial of the unit that recorded it' }),
  ...archivedEventFields,
  received_at: Type.String({ description: 'when sfm first read it from the unit, UTC ISO 8601', format: 'date-time' }),
  source: OneOf(EVENT_SOURCES, 'how it reached the archive'),
  has_waveform: Type.Boolean({ description: 'its waveform was downloaded and is kept (GET /db/events/{id}/waveform)' }),
  false_trigger: Type.Boolean({ description: 'an operator marked it a false trigger (PATCH /db/events/{id})' }),
  notes: Nullable(Type.String({ description: 'the operator\'s notes' })),
  analysis_summary: Nullable(AnalysisSummary),
});

export const ArchivedEventPage = Shape('ArchivedEventPage', 'A page of archived events, newest first.', {
  events: Type.Array(ArchivedEvent),
  next_cursor: Nullable(Type.String({ description: 'give it as cursor for the next page; null on the last page' })),
});

export const EventReview = Shape('EventReview', 'The operator\'s review of an archived event: the fields to change.', {
  false_trigger: Type.Optional(Type.Boolean({ description: 'mark or unmark it as a false trigger' })),
  notes: Type.Optional(Nullable(Type.String({ maxLength: 4000, description: 'free text (null clears it)' }))),
});

export const Session = Shape('Session', 'One session with a unit that read its events: a call-up sync (sfm dialled) or a call-home (the unit dialled).', {
  id: Type.Integer({ description: 'the session\'s id' }),
  serial: Type.String({ description: 'the unit\'s serial' }),
  kind: OneOf(SESSION_KINDS, 'who dialled'),
  peer: Type.String({ description: 'the unit\'s address: its connection key (call-up) or the calling modem\'s address (call-home)' }),
  started_at: Type.String({ description: 'UTC ISO 8601', format: 'date-time' }),
  duration_s: Type.Number({ description: 'seconds the session lasted' }),
  events_new: Type.Integer({ description: 'events the archive did not hold before' }),
  waveforms_new: Type.Integer({ description: 'waveforms the archive did not hold before' }),
  erased: Type.Boolean({ description: 'the unit was erased in this session (after everything was archived)' }),
  result: Type.String({ description: 'ok, or the error code that ended it' }),
  capture: Nullable(Type.String({ description: 'the name of the raw capture kept for this session' })),
});

export const SessionPage = Shape('SessionPage', 'A page of sessions, newest first.', {
  sessions: Type.Array(Session),
  next_cursor: Nullable(Type.String({ description: 'give it as cursor for the next page; null on the last page' })),
});

export const Unit = Shape('Unit', 'A unit sfm has talked to, from everything it saw of it (identity, info, status, events, sessions).', {
  serial: Type.String({ description: 'the unit\'s serial' }),
  first_seen: Type.String({ description: 'when sfm first heard from it, UTC ISO 8601', format: 'date-time' }),
  last_seen: Type.String({ description: 'when sfm last heard from it, UTC ISO 8601', format: 'date-time' }),
  last_address: Nullable(Type.String({ description: 'the connection key it last answered at' })),
  last_session: Nullable(Session),
  event_count: Type.Integer({ description: 'events the archive holds for it' }),
  last_event: Nullable(ArchivedEvent),
  last_status: Nullable(MonitorStatus),
  info: Nullable(DeviceInfo),
});

export const ArchiveStats = Shape('ArchiveStats', 'What the archive holds, and what retention removed since the server started.', {
  persistent: Type.Boolean({ description: 'the archive survives a restart (false for the memory store, which also evicts to stay in its byte budget)' }),
  units: Type.Integer({ description: 'units seen' }),
  events: Type.Integer({ description: 'archived events' }),
  waveforms: Type.Integer({ description: 'archived waveforms' }),
  event_bytes: Type.Integer({ description: 'bytes of archived events' }),
  waveform_bytes: Type.Integer({ description: 'bytes of archived waveforms (samples and documents)' }),
  sessions: Type.Integer({ description: 'sessions recorded' }),
  retention_removed: Type.Object(
    { events: Type.Integer({ description: 'events removed' }), waveforms: Type.Integer({ description: 'waveforms removed' }), bytes: Type.Integer({ description: 'bytes freed' }) },
    { description: 'What retention removed since the server started.', additionalProperties: false },
  ),
});

export const CacheStats = Shape('CacheStats', 'What the cache holds and how it served.', {
  store: Type.String({ description: 'the store kind', examples: ['sqlite'] }),
  persistent: Type.Boolean({ description: 'the store survives a restart' }),
  kinds: Type.Object(perKind(() => KindStats), { description: 'Per kind of data.', additionalProperties: false }),
  hot_tier: Type.Object({ entries: Type.Integer({ description: 'entries' }), bytes: Type.Integer({ description: 'bytes' }) }, { description: 'Serialized responses kept in memory.', additionalProperties: false }),
  device_requests_pending: Type.Integer({ description: 'device requests running or waiting, all units' }),
  archive: ArchiveStats,
});

export const Ready = Shape('Ready', 'The server takes work: its store answers and it is not shutting down.', {
  status: Type.Literal('ready', { description: 'always ready (otherwise the answer is 503 with the reason)' }),
  store: Type.String({ description: 'the cache store kind (memory, sqlite, …)' }),
});

export const Health = Shape('Health', 'The server is up; no device I/O is done to answer.', {
  status: Type.Literal('ok', { description: 'always ok' }),
  version: Type.String({ description: 'sfm version' }),
  uptime_s: Type.Integer({ description: 'whole seconds since the HTTP server started' }),
  store: Type.String({ description: 'the cache store kind (memory, sqlite, …)' }),
});

export const ErrorBody = Shape('Error', 'Every error response.', {
  error: Type.Object(
    {
      code: OneOf(ERROR_CODES, 'machine-readable code'),
      message: Type.String({ description: 'for people: which field or unit, and why; never a stack trace' }),
    },
    { description: 'What went wrong.', additionalProperties: false },
  ),
});

// --- long work, the configured units, the standards' curves -------------------------------------

export const PROGRESS_STEPS = ['sync', 'text', 'download', 'idle'] as const;

export const Progress = Shape('Progress', 'How far the device work at one address has got: the event-list sync, the project text read after it, a waveform download — or idle. The CLI\'s progress line and GET /device/progress are fed from this one report.', {
  connection_key: Type.String({ description: 'the address the work is for (tcp:<host>:<port> or serial:<path>:<baud>)' }),
  step: OneOf(PROGRESS_STEPS, 'sync: reading the event list; text: reading event-time project text; download: a waveform; idle: no device work now'),
  done: Type.Integer({ description: 'events (sync, text) or bytes (download) in hand' }),
  total: Nullable(Type.Integer({ description: 'how many there are in all; null until anything tells (a sync before its first event)' })),
  estimated: Type.Boolean({ description: 'total is an estimate (a sync reading a unit whose record counter does not tell)' }),
  counts: OneOf(['events', 'bytes'], 'what done and total count'),
  index: Nullable(Type.Integer({ description: 'the event index a download is for; null on the other steps' })),
  chunks_done: Nullable(Type.Integer({ description: 'a download: sample chunks read so far (the unit sends an event in chunks of 0x200 bytes); null on the other steps' })),
  chunks_total: Nullable(Type.Integer({ description: 'a download: sample chunks in all; null on the other steps' })),
});

export const ConfiguredDevice = Shape('ConfiguredDevice', 'A unit of the configured device registry: its name (device=<name> on /device/* routes), its address and who answered there last.', {
  name: Type.String({ description: 'the name to give as device=' }),
  connection_key: Type.String({ description: 'its canonical address (tcp:<host>:<port> or serial:<path>:<baud>)' }),
  serial: Nullable(Type.String({ description: 'the serial the unit at this address reported last; null when it was never asked' })),
});

export const CurvePoint = Type.Object({ hz: Type.Number({ description: 'frequency, Hz' }), ips: Type.Number({ description: 'the limit there, in/s' }) }, { additionalProperties: false, description: 'A corner of the curve on the log–log chart.' });

export const StandardCurve = Shape('StandardCurve', 'A compliance standard\'s limit curve as points joined by straight lines on a log–log chart (every segment of a standard curve is one: flat, constant displacement, or a log–log line), between the frequencies asked for.', {
  id: Type.String({ description: 'the standard, as ComplianceResult.standard names it' }),
  title: Type.String({ description: 'for people' }),
  source: Type.String({ description: 'where the curve comes from' }),
  frequency_independent: Type.Boolean({ description: 'the limit does not depend on frequency (osmre-distance)' }),
  points: Type.Array(CurvePoint, { description: 'the curve\'s corners, rising in frequency; empty when it has no limit (osmre-distance without a distance)' }),
});

/** Every named shape, for the OpenAPI components. */
export const COMPONENTS: readonly TObject[] = [
  DeviceInfo, ComplianceConfig, Event, EventDebug, EventRaw, EventPeaks, ProjectText, EventList, Waveform, WaveformChannel,
  Analysis, ChannelAnalysis, MicAnalysis, PeakVectorSum, ComplianceResult, ChannelCompliance, AirBlastCompliance, MonitorStatus, StorageRange,
  EventIndex, CallHomeConfig, CallHomeTime, CallHomeChanges, ComplianceChanges, EraseRequest, KindStats, CacheStats, CacheCleared,
  AnalysisSummary, ArchivedEvent, ArchivedEventPage, EventReview, Session, SessionPage, Unit, ArchiveStats,
  Progress, ConfiguredDevice, StandardCurve, Health, Ready, ErrorBody,
];
