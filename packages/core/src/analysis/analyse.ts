/**
 * analyse(): the figures of analysis.md §1 and the compliance of §2 for one Waveform, in the JSON
 * shape of §4 (`Analysis`). Pure and allocation-light: one pass per channel, one for the vector
 * sum, and a bounded FFT per geophone channel. Figures keep full precision; rounding is the
 * reader's.
 */
import type { Analysis, AnalysisSummary, ChannelAnalysis, MicAnalysis, PeakVectorSum, Verdict, Waveform, WaveformChannel } from '../model.js';
import { GEOPHONE_NAMES } from '../schema/shapes.js';
import { psiToDb } from '../protocol/units.js';
import { G_IPS2 } from './constants.js';
import { checkAirBlast, checkCompliance, type AirBlastLimit, type ComplianceCurve } from './curves.js';
import { dominantFrequency } from './fft.js';
import { measureChannel } from './figures.js';
import { analysisOptions } from './standards.js';

export interface AnalysisOptions {
  /** The curves to judge the event against, in this order (default: the default standards, osmre-chart). */
  curves?: readonly ComplianceCurve[];
  /** The air-blast limit the microphone is judged against (default: the 2 Hz system's 133 dB); null: not judged. */
  air_blast?: AirBlastLimit | null;
  /** Samples per channel the event holds (its total_samples): a channel with fewer is incomplete, and its ZC frequency "n/a". */
  total_samples?: number | null;
}

export function analyse(w: Waveform, opts: AnalysisOptions = {}): Analysis {
  const rate = w.sample_rate;
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`waveform sample_rate must be a positive number, got ${rate}`);
  const defaults = opts.curves === undefined || opts.air_blast === undefined ? analysisOptions() : undefined;
  const timeOf = (index: number | null): number | null => (index === null ? null : w.t0_s + index / rate);
  const samplesOf = (name: string): WaveformChannel['samples'] => w.channels.find((c) => c.name === name)?.samples ?? [];
  const incomplete = (samples: ArrayLike<number>): boolean => opts.total_samples != null && samples.length < opts.total_samples;

  const channels: ChannelAnalysis[] = GEOPHONE_NAMES.map((name) => {
    const samples = samplesOf(name);
    const f = measureChannel(samples, rate, incomplete(samples));
    return {
      name,
      ppv_ips: f.peak,
      ppv_t_s: timeOf(f.peakIndex),
      zc_freq_hz: f.zc.hz,
      zc_flag: f.zc.flag,
      peak_accel_g: f.maxSlopePerS === null ? null : f.maxSlopePerS / G_IPS2,
      peak_disp_in: f.maxHalfCycleArea === null ? null : f.maxHalfCycleArea / 2,
      dominant_freq_hz: f.peakIndex === null ? null : dominantFrequency(samples, f.peakIndex, rate),
    };
  });

  const micSamples = samplesOf('MicL');
  const m = measureChannel(micSamples, rate, incomplete(micSamples));
  const mic: MicAnalysis = {
    pspl_psi: m.peak,
    pspl_db: m.peak !== null && m.peak > 0 ? psiToDb(m.peak) : null,
    t_s: timeOf(m.peakIndex),
    zc_freq_hz: m.zc.hz,
    zc_flag: m.zc.flag,
  };

  const curves = opts.curves ?? defaults!.curves!;
  const airBlast = opts.air_blast === undefined ? defaults!.air_blast! : opts.air_blast;
  return {
    schema: 'sfm.analysis.v1',
    serial: w.serial,
    key: w.key,
    timestamp: w.timestamp,
    sample_rate: rate,
    channels,
    mic,
    pvs: peakVectorSum(GEOPHONE_NAMES.map(samplesOf), w.t0_s, rate),
    compliance: curves.map((c) => checkCompliance(c, channels)),
    air_blast: airBlast === null ? null : checkAirBlast(airBlast, mic),
  };
}

/** max √(T² + V² + L²) over the samples all three channels have, with its first sample; null when one is missing or non-finite. */
function peakVectorSum(geophones: readonly ArrayLike<number>[], t0_s: number, rate: number): PeakVectorSum {
  const [t, v, l] = geophones as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
  const n = Math.min(t.length, v.length, l.length);
  if (n === 0) return { ips: null, t_s: null };
  let best = -1;
  let bestAt = 0;
  for (let i = 0; i < n; i++) {
    const squared = t[i]! * t[i]! + v[i]! * v[i]! + l[i]! * l[i]!;
    if (squared > best) {
      best = squared;
      bestAt = i;
    }
    // NaN compares false above; catch it here rather than testing every channel's samples.
    else if (squared !== squared) return { ips: null, t_s: null };
  }
  if (best === Infinity || best !== best) return { ips: null, t_s: null };
  return { ips: Math.sqrt(best), t_s: t0_s + bestAt / rate };
}

/** Verdicts from worst to best: an event that fails anything fails; one not judged on something is n/a. */
const SEVERITY: Record<Verdict, number> = { fail: 2, 'n/a': 1, pass: 0 };

/** The worst of the verdicts (fail, then n/a, then pass); n/a when there are none. */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'n/a';
  return verdicts.reduce((worst, v) => (SEVERITY[v] > SEVERITY[worst] ? v : worst));
}

/**
 * An analysis in one line (the archive's analysis_summary): PVS, the largest PPV, the FFT dominant
 * frequency of the channel with the largest PPV (the same figure as the channel's
 * dominant_freq_hz), and the worst verdict over the standards and the air-blast limit.
 */
export function analysisSummary(a: Analysis): AnalysisSummary {
  let loudest: ChannelAnalysis | null = null;
  for (const c of a.channels) {
    if (c.ppv_ips !== null && (loudest === null || c.ppv_ips > loudest.ppv_ips!)) loudest = c;
  }
  return {
    pvs_ips: a.pvs.ips,
    max_ppv_ips: loudest?.ppv_ips ?? null,
    dominant_freq_hz: loudest?.dominant_freq_hz ?? null,
    compliance: worstVerdict([...a.compliance.map((r) => r.verdict), ...(a.air_blast ? [a.air_blast.verdict] : [])]),
  };
}
