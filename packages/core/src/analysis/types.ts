/**
 * The analysis of one event (shared spec analysis.md §4), in the JSON shape the HTTP routes serve.
 * Velocities in in/s, pressure in psi, times in seconds from the trigger (the waveform's t0_s),
 * frequencies in Hz. A figure that cannot be computed is null (with its flag where it has one).
 */

export type GeophoneName = 'Tran' | 'Vert' | 'Long';

/**
 * Why a ZC frequency is null: above the 100 Hz ceiling ("gt_100", printed ">100 Hz"), a zero
 * crossing of the peak's half cycle lies outside the record ("lt_1", printed "<1 Hz"), or the
 * channel has nothing to measure (no samples, all zero, non-finite samples: "n/a").
 */
export type ZcFlag = 'gt_100' | 'lt_1' | 'n/a';

export interface ChannelAnalysis {
  name: GeophoneName;
  ppv_ips: number | null;
  ppv_t_s: number | null;
  zc_freq_hz: number | null;
  zc_flag: ZcFlag | null;
  peak_accel_g: number | null;
  peak_disp_in: number | null;
  /** FFT dominant frequency (not the ZC frequency): see fft.ts for the window it is taken over. */
  dominant_freq_hz: number | null;
}

export interface MicAnalysis {
  pspl_psi: number | null;
  pspl_db: number | null;
  t_s: number | null;
  zc_freq_hz: number | null;
  zc_flag: ZcFlag | null;
}

export interface PeakVectorSum {
  ips: number | null;
  t_s: number | null;
}

export type Verdict = 'pass' | 'fail' | 'n/a';

export interface ChannelCompliance {
  name: GeophoneName;
  freq_hz: number | null;
  ppv_ips: number | null;
  limit_ips: number | null;
  /** ppv / limit; 1 or more fails. */
  margin: number | null;
}

export interface ComplianceResult {
  /** A standard curve id (StandardCurveId) or a configured curve's name. */
  standard: string;
  source: string;
  verdict: Verdict;
  channels: ChannelCompliance[];
}

export interface Analysis {
  schema: 'sfm.analysis.v1';
  serial: string;
  key: string;
  timestamp: string | null;
  sample_rate: number;
  channels: ChannelAnalysis[];
  mic: MicAnalysis;
  pvs: PeakVectorSum;
  compliance: ComplianceResult[];
}

export interface AnalysisSummary {
  pvs_ips: number | null;
  max_ppv_ips: number | null;
  dominant_freq_hz: number | null;
  compliance: Verdict;
}
