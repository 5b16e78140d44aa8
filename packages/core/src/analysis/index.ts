/** Event analysis (analysis.md): per-event figures, compliance curves as data, the summary line. */
export type {
  Analysis, AnalysisSummary, ChannelAnalysis, ChannelCompliance, ComplianceResult, GeophoneName, MicAnalysis, PeakVectorSum, Verdict, ZcFlag,
} from './types.js';
export { analyseWaveform, analysisSummary, G_IPS2, type AnalysisOptions } from './analyse.js';
export {
  AIR_BLAST_LIMITS, AIR_BLAST_SOURCE, CurveDefinitionError, OSMRE_DISTANCE_LIMITS, STANDARD_CURVE_IDS, checkCompliance, limitAt, osmreDistanceCurve,
  standardCurve, userCurve, type ComplianceCurve, type CurveSegment, type StandardCurveId, type UserCurveDefinition,
} from './curves.js';
export { ZC_MAX_HZ } from './figures.js';
export { FFT_MAX_WINDOW, MIN_DOMINANT_HZ } from './fft.js';
