/**
 * analyseWaveform: the figures of analysis.md §1 and the compliance of §2 for one Waveform, in
 * the JSON shape of §4. Pure and allocation-light: one pass per channel, one for the vector sum,
 * and a bounded FFT per geophone channel. Figures keep full precision; rounding is the reader's.
 */
import type { Waveform, WaveformChannel } from '../model.js';
import { checkCompliance, standardCurve, type ComplianceCurve, type StandardCurveId } from './curves.js';
import { dominantFrequency } from './fft.js';
import { measureChannel } from './figures.js';
import type { Analysis, AnalysisSummary, ChannelAnalysis, GeophoneName, MicAnalysis, PeakVectorSum, Verdict } from './types.js';

/** Standard gravity in in/s². */
export const G_IPS2 = 386.09;
/** The same constants as protocol/units.ts (which keeps them private). */
const PA_PER_PSI = 6894.757;
const REFERENCE_PRESSURE_PA = 20e-6;

const GEOPHONES: readonly GeophoneName[] = ['Tran', 'Vert', 'Long'];

export interface AnalysisOptions {
  /**
   * The curves to judge the event against, in this order: standard ids, or curves from userCurve().
   * Default: both USBM RI 8507 curves and the OSMRE chart, plus osmre-distance when distance_ft is given.
   */
  curves?: readonly (StandardCurveId | ComplianceCurve)[];
  /** Sensor distance from the blast, for osmre-distance. */
  distance_ft?: number | null;
}

export function analyseWaveform(w: Waveform, opts: AnalysisOptions = {}): Analysis {
  const rate = w.sample_rate;
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`waveform sample_rate must be a positive number, got ${rate}`);
  const timeOf = (index: number | null): number | null => (index === null ? null : w.t0_s + index / rate);
  const channel = (name: string): WaveformChannel | undefined => w.channels.find((c) => c.name === name);

  const channels: ChannelAnalysis[] = GEOPHONES.map((name) => {
    const samples = channel(name)?.samples ?? [];
    const f = measureChannel(samples, rate);
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

  const micFigures = measureChannel(channel('MicL')?.samples ?? [], rate);
  const mic: MicAnalysis = {
    pspl_psi: micFigures.peak,
    pspl_db: micFigures.peak !== null && micFigures.peak > 0 ? 20 * Math.log10((micFigures.peak * PA_PER_PSI) / REFERENCE_PRESSURE_PA) : null,
    t_s: timeOf(micFigures.peakIndex),
    zc_freq_hz: micFigures.zc.hz,
    zc_flag: micFigures.zc.flag,
  };

  const distance = opts.distance_ft ?? null;
  const curves = opts.curves ?? defaultCurves(distance);
  return {
    schema: 'sfm.analysis.v1',
    serial: w.serial,
    key: w.key,
    timestamp: w.timestamp,
    sample_rate: rate,
    channels,
    mic,
    pvs: peakVectorSum(GEOPHONES.map((n) => channel(n)?.samples ?? []), w.t0_s, rate),
    compliance: curves.map((c) => checkCompliance(typeof c === 'string' ? standardCurve(c, distance) : c, channels)),
  };
}

function defaultCurves(distance_ft: number | null): StandardCurveId[] {
  const curves: StandardCurveId[] = ['usbm-ri8507-drywall', 'usbm-ri8507-plaster', 'osmre-chart'];
  if (distance_ft !== null) curves.push('osmre-distance');
  return curves;
}

/** max √(T² + V² + L²) over the samples all three channels have; null when one is missing or non-finite. */
function peakVectorSum(geophones: readonly ArrayLike<number>[], t0_s: number, rate: number): PeakVectorSum {
  const [t, v, l] = geophones as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
  const n = Math.min(t.length, v.length, l.length);
  if (n === 0) return { ips: null, t_s: null };
  let best = 0;
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
  if (best === Infinity) return { ips: null, t_s: null };
  return { ips: Math.sqrt(best), t_s: best > 0 ? t0_s + bestAt / rate : null };
}

const VERDICT_SEVERITY: Record<Verdict, number> = { pass: 0, 'n/a': 1, fail: 2 };

/**
 * One line per event: PVS, the largest PPV, and as dominant frequency the ZC frequency of the
 * channel with the largest PPV (what the vendor's summary shows; not the FFT figure). Compliance
 * is the worst verdict over the curves the analysis was judged against (fail, then n/a), n/a when none.
 */
export function analysisSummary(a: Analysis): AnalysisSummary {
  let loudest: ChannelAnalysis | null = null;
  for (const c of a.channels) {
    if (c.ppv_ips !== null && (loudest === null || c.ppv_ips > loudest.ppv_ips!)) loudest = c;
  }
  const compliance = a.compliance.reduce<Verdict | null>((worst, r) => (worst === null || VERDICT_SEVERITY[r.verdict] > VERDICT_SEVERITY[worst] ? r.verdict : worst), null);
  return {
    pvs_ips: a.pvs.ips,
    max_ppv_ips: loudest?.ppv_ips ?? null,
    dominant_freq_hz: loudest?.zc_freq_hz ?? null,
    compliance: compliance ?? 'n/a',
  };
}
