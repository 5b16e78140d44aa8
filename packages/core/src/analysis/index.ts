/**
 * @sfm/core/analysis — what an event means (shared spec analysis.md): analyse(waveform, options)
 * gives the per-event figures and the event against compliance standards kept as data; the
 * settings and a request's choice resolve to those options.
 */
export type {
  Analysis, AnalysisSummary, AirBlastCompliance, ChannelAnalysis, ChannelCompliance, ComplianceResult, GeophoneName, MicAnalysis, PeakVectorSum, Verdict, ZcFlag,
} from '../model.js';
export { analyse, analysisSummary, worstVerdict, type AnalysisOptions } from './analyse.js';
export {
  AIR_BLAST_IDS, AIR_BLAST_LIMITS, AIR_BLAST_SOURCE, CURVE_RANGE_HZ, CurveDefinitionError, curvePoints, OSMRE_DISTANCE_LIMITS, STANDARD_CURVE_IDS, STANDARD_NAME, airBlastLimit, checkAirBlast, checkCompliance,
  limitAt, osmreDistanceCurve, scaledDistanceChargeLb, standardCurve, userCurve, verdictOf,
  type AirBlastId, type AirBlastLimit, type ComplianceCurve, type CurveSegment, type StandardCurveId,
} from './curves.js';
export {
  DEFAULT_AIR_BLAST, DEFAULT_ANALYSIS_SETTINGS, DEFAULT_STANDARDS, DISTANCE_FT_LIMITS, analysisOptions, analysisOptionsKey, analysisSettings, standardNames,
  type AnalysisRequest, type AnalysisSettings, type AnalysisSettingValues,
} from './standards.js';
export { FFT_MAX_WINDOW, G_IPS2, MIN_DOMINANT_HZ, ZC_MAX_HZ } from './constants.js';
export type { CurveDefinition } from '../kernel/config.js';
