/**
 * The data sfm serves, as TypeScript types: each is the static type of its shape in
 * schema/shapes.ts, where the field names, limits and descriptions are declared once.
 */
import type { Static } from '@sinclair/typebox';
import type * as S from './schema/shapes.js';
import type { ChannelName } from './protocol/waveform-body.js';

export type { ChannelName };
export type RecordingMode = (typeof S.RECORDING_MODES)[number];
export type GeoRangeName = (typeof S.GEO_RANGES)[number];
export type RecordType = (typeof S.RECORD_TYPES)[number];

export type ComplianceConfig = Static<typeof S.ComplianceConfig>;
export type DeviceInfo = Static<typeof S.DeviceInfo>;
export type ProjectText = Static<typeof S.ProjectText>;
export type EventPeaks = Static<typeof S.EventPeaks>;
export type Event = Static<typeof S.Event>;
export type EventRaw = Static<typeof S.EventRaw>;
export type EventDebug = Static<typeof S.EventDebug>;
export type EventList = Static<typeof S.EventList>;
export type EventSource = (typeof S.EVENT_SOURCES)[number];
export type AnalysisSummary = Static<typeof S.AnalysisSummary>;
export type ArchivedEvent = Static<typeof S.ArchivedEvent>;
export type ArchivedEventPage = Static<typeof S.ArchivedEventPage>;
export type EventReview = Static<typeof S.EventReview>;
export type Session = Static<typeof S.Session>;
export type SessionKind = (typeof S.SESSION_KINDS)[number];
export type SessionPage = Static<typeof S.SessionPage>;
export type Unit = Static<typeof S.Unit>;
export type ArchiveStats = Static<typeof S.ArchiveStats>;
export type CacheStats = Static<typeof S.CacheStats>;
export type WaveformChannel = Static<typeof S.WaveformChannel>;
export type Waveform = Static<typeof S.Waveform>;
export type GeophoneName = (typeof S.GEOPHONE_NAMES)[number];
export type ZcFlag = (typeof S.ZC_FLAGS)[number];
export type Verdict = (typeof S.VERDICTS)[number];
export type ChannelAnalysis = Static<typeof S.ChannelAnalysis>;
export type MicAnalysis = Static<typeof S.MicAnalysis>;
export type PeakVectorSum = Static<typeof S.PeakVectorSum>;
export type ChannelCompliance = Static<typeof S.ChannelCompliance>;
export type ComplianceResult = Static<typeof S.ComplianceResult>;
export type AirBlastCompliance = Static<typeof S.AirBlastCompliance>;
export type Analysis = Static<typeof S.Analysis>;
export type MonitorStatus = Static<typeof S.MonitorStatus>;
export type StorageRange = Static<typeof S.StorageRange>;
export type EventIndexView = Static<typeof S.EventIndex>;
export type CallHomeTime = Static<typeof S.CallHomeTime>;
export type CallHomeConfig = Static<typeof S.CallHomeConfig>;
export type CallHomeChanges = Static<typeof S.CallHomeChanges>;
export type ComplianceChangesInput = Static<typeof S.ComplianceChanges>;
export type ProgressReport = Static<typeof S.Progress>;
export type ProgressStep = ProgressReport['step'];
export type ConfiguredDevice = Static<typeof S.ConfiguredDevice>;
export type StandardCurveView = Static<typeof S.StandardCurve>;
