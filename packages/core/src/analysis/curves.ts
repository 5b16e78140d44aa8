/**
 * Compliance as data (analysis.md §2): each curve is a table of segments with a kind and cites its
 * source, so a correction is one edit here. A point (f, PPV) fails when PPV / limit(f) is 1 or
 * more (analysis.md §4: "margin ≥ 1 fails").
 *
 * Segments are half-open, [from_hz, to_hz): at a breakpoint the higher segment applies. Below a
 * curve's first segment there is no limit (null, so the verdict is "n/a" rather than a guess).
 * Breakpoints are derived from the segment values (v = 2π·f·d) rather than typed rounded, so each
 * curve is continuous where its source draws it so.
 */
import type { AirBlastCompliance, ChannelAnalysis, ComplianceResult, MicAnalysis, Verdict } from '../model.js';
import type { CurveDefinition } from '../kernel/config.js';
import { dbToPsi } from '../protocol/units.js';
import { ZC_MAX_HZ } from './constants.js';

export type CurveSegment =
  /** v = 2π·f·disp_in, drawn no higher than cap_ips when given. */
  | { kind: 'constant_displacement'; from_hz: number; to_hz: number | null; disp_in: number; cap_ips?: number }
  | { kind: 'flat'; from_hz: number; to_hz: number | null; ppv_ips: number }
  /** A straight line on the log–log chart between two points (user-defined curves). */
  | { kind: 'loglog_line'; from_hz: number; to_hz: number; from_ips: number; to_ips: number };

export interface ComplianceCurve {
  /** A StandardCurveId, or a configured curve's name: what `standard` says in the analysis. */
  id: string;
  /** For people (the report). */
  title: string;
  source: string;
  segments: readonly CurveSegment[];
  /** The limit does not depend on frequency (osmre-distance): every channel is judged, whatever its ZC flag. */
  frequency_independent: boolean;
}

/** How a standard is named — the standard ids and configured curves' names alike (names are listed comma-separated in ?standard=). */
export const STANDARD_NAME = { pattern: '[A-Za-z0-9][A-Za-z0-9._-]{0,63}', text: '1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit' };

export const STANDARD_CURVE_IDS = ['usbm-ri8507-drywall', 'usbm-ri8507-plaster', 'osmre-chart', 'osmre-distance'] as const;
export type StandardCurveId = (typeof STANDARD_CURVE_IDS)[number];

/** The frequency where constant displacement `disp_in` reaches velocity `ppv_ips`. */
function breakpointHz(ppv_ips: number, disp_in: number): number {
  return ppv_ips / (2 * Math.PI * disp_in);
}

// --- USBM RI 8507 ---------------------------------------------------------------------------------

const USBM_SOURCE = 'USBM RI 8507 (Siskind et al., 1980), Appendix B, alternative blasting level criteria';
/** The displacement below the flat part, the one above it, and the top velocity (both houses). */
const USBM = { low_disp_in: 0.03, high_disp_in: 0.008, top_ips: 2.0 };

function usbmCurve(id: StandardCurveId, title: string, flat_ips: number): ComplianceCurve {
  const low = breakpointHz(flat_ips, USBM.low_disp_in);
  const high = breakpointHz(flat_ips, USBM.high_disp_in);
  const top = breakpointHz(USBM.top_ips, USBM.high_disp_in);
  return {
    id,
    title,
    source: USBM_SOURCE,
    frequency_independent: false,
    segments: [
      { kind: 'constant_displacement', from_hz: 1, to_hz: low, disp_in: USBM.low_disp_in },
      { kind: 'flat', from_hz: low, to_hz: high, ppv_ips: flat_ips },
      { kind: 'constant_displacement', from_hz: high, to_hz: top, disp_in: USBM.high_disp_in },
      { kind: 'flat', from_hz: top, to_hz: null, ppv_ips: USBM.top_ips },
    ],
  };
}

// --- OSMRE Figure 1 ---------------------------------------------------------------------------------

/** 0.75 in/s at 11 Hz, held as displacement from there. */
const OSMRE_MID_DISP_IN = 0.75 / (2 * Math.PI * 11);

/**
 * OSMRE Figure 1. Its 11 → 30 Hz constant-displacement line would reach 2.05 in/s at 30 Hz; the
 * chart draws it to 2.0, so the line is capped at 2.0 in/s (it meets 2.0 at 29.33 Hz) and 2.0
 * holds from 30 Hz.
 */
const OSMRE_CHART: ComplianceCurve = {
  id: 'osmre-chart',
  title: 'OSMRE blasting level chart',
  source: '30 CFR 816.67(d)(4), Figure 1 (blasting level chart)',
  frequency_independent: false,
  segments: [
    { kind: 'constant_displacement', from_hz: 0, to_hz: 4, disp_in: 0.03 },
    { kind: 'flat', from_hz: 4, to_hz: 11, ppv_ips: 0.75 },
    { kind: 'constant_displacement', from_hz: 11, to_hz: 30, disp_in: OSMRE_MID_DISP_IN, cap_ips: 2.0 },
    { kind: 'flat', from_hz: 30, to_hz: null, ppv_ips: 2.0 },
  ],
};

const FIXED_CURVES: ReadonlyMap<string, ComplianceCurve> = new Map([
  ['usbm-ri8507-drywall', usbmCurve('usbm-ri8507-drywall', 'USBM RI 8507, drywall (modern homes)', 0.75)],
  ['usbm-ri8507-plaster', usbmCurve('usbm-ri8507-plaster', 'USBM RI 8507, plaster on lath (older homes)', 0.5)],
  ['osmre-chart', OSMRE_CHART],
]);

// --- OSMRE by distance --------------------------------------------------------------------------------

/**
 * OSMRE limits by distance (no frequency analysis), with each row's scaled-distance factor Ds.
 * Whole feet in the rule: a distance up to `up_to_ft` (inclusive) takes the row, so 300 ft → 1.25,
 * 300.5 or 301 ft → 1.00, 5001 ft → 0.75.
 */
export const OSMRE_DISTANCE_LIMITS: readonly { up_to_ft: number | null; ppv_ips: number; scaled_distance_factor: number }[] = [
  { up_to_ft: 300, ppv_ips: 1.25, scaled_distance_factor: 50 },
  { up_to_ft: 5000, ppv_ips: 1.0, scaled_distance_factor: 55 },
  { up_to_ft: null, ppv_ips: 0.75, scaled_distance_factor: 65 },
];

const OSMRE_DISTANCE_SOURCE = '30 CFR 816.67(d)(2), maximum PPV by distance from the blast';

function distanceRow(distance_ft: number): (typeof OSMRE_DISTANCE_LIMITS)[number] {
  if (!Number.isFinite(distance_ft) || distance_ft < 0) throw new RangeError(`distance_ft must be a number ≥ 0, got ${distance_ft}`);
  return OSMRE_DISTANCE_LIMITS.find((r) => r.up_to_ft === null || distance_ft <= r.up_to_ft)!;
}

/** osmre-distance for a sensor `distance_ft` from the blast; without a distance the curve has no limit. */
export function osmreDistanceCurve(distance_ft: number | null): ComplianceCurve {
  const base = { id: 'osmre-distance', title: 'OSMRE limit by distance', frequency_independent: true };
  if (distance_ft === null) return { ...base, source: `${OSMRE_DISTANCE_SOURCE} (no distance given)`, segments: [] };
  const row = distanceRow(distance_ft);
  return {
    ...base,
    title: `OSMRE limit by distance (${distance_ft} ft)`,
    source: `${OSMRE_DISTANCE_SOURCE}: ${row.ppv_ips.toFixed(2)} in/s at ${distance_ft} ft`,
    segments: [{ kind: 'flat', from_hz: 0, to_hz: null, ppv_ips: row.ppv_ips }],
  };
}

/** The scaled-distance rule of 816.67(d)(3): the largest charge per 8-ms delay, W = (D / Ds)² pounds. */
export function scaledDistanceChargeLb(distance_ft: number): number {
  return (distance_ft / distanceRow(distance_ft).scaled_distance_factor) ** 2;
}

/** A standard curve by id; osmre-distance needs the distance (see osmreDistanceCurve). */
export function standardCurve(id: StandardCurveId, distance_ft: number | null = null): ComplianceCurve {
  if (id === 'osmre-distance') return osmreDistanceCurve(distance_ft);
  const curve = FIXED_CURVES.get(id);
  if (!curve) throw new RangeError(`unknown standard curve: ${String(id)}`);
  return curve;
}

// --- limits and verdicts ---------------------------------------------------------------------------

function segmentLimit(segment: CurveSegment, hz: number): number {
  switch (segment.kind) {
    case 'flat':
      return segment.ppv_ips;
    case 'constant_displacement': {
      const v = 2 * Math.PI * hz * segment.disp_in;
      return segment.cap_ips === undefined ? v : Math.min(v, segment.cap_ips);
    }
    case 'loglog_line': {
      const slope = Math.log(segment.to_ips / segment.from_ips) / Math.log(segment.to_hz / segment.from_hz);
      return segment.from_ips * (hz / segment.from_hz) ** slope;
    }
  }
}

/** The curve's limit in in/s at `freqHz`; null outside the curve's segments. */
export function limitAt(curve: ComplianceCurve, freqHz: number): number | null {
  if (!Number.isFinite(freqHz)) return null;
  const segment = curve.segments.find((s) => freqHz >= s.from_hz && (s.to_hz === null || freqHz < s.to_hz));
  return segment ? segmentLimit(segment, freqHz) : null;
}

/** The frequencies a curve is drawn over when a request does not say (the report's chart spans 1–100 Hz). */
export const CURVE_RANGE_HZ = { from: 1, to: 1000 } as const;

/**
 * The curve between `fromHz` and `toHz` as its corners: every segment kind is a straight line on a
 * log–log chart (flat; v = 2π·f·d; a log–log line), so joining the corners draws it exactly — a
 * capped constant-displacement line gets a corner where the cap starts. A step between segments is
 * two points at one frequency. No points where the curve has no limit (or a limit of 0).
 */
export function curvePoints(curve: ComplianceCurve, fromHz: number = CURVE_RANGE_HZ.from, toHz: number = CURVE_RANGE_HZ.to): { hz: number; ips: number }[] {
  const points: { hz: number; ips: number }[] = [];
  const add = (hz: number, ips: number): void => {
    const last = points[points.length - 1];
    // Where two segments meet at one value (up to rounding) that is one corner, not two.
    if (ips > 0 && Number.isFinite(ips) && !(last && last.hz === hz && Math.abs(last.ips - ips) <= 1e-9 * ips)) points.push({ hz, ips });
  };
  for (const segment of curve.segments) {
    const a = Math.max(segment.from_hz, fromHz);
    const b = Math.min(segment.to_hz ?? Infinity, toHz);
    if (!(a < b)) continue;
    add(a, segmentLimit(segment, a));
    if (segment.kind === 'constant_displacement' && segment.cap_ips !== undefined) {
      const capHz = segment.cap_ips / (2 * Math.PI * segment.disp_in);
      if (capHz > a && capHz < b) add(capHz, segment.cap_ips);
    }
    add(b, segmentLimit(segment, b));
  }
  return points;
}

/**
 * The limit for a channel. A ZC frequency flagged "gt_100" is unknown but above 100 Hz: it is judged
 * when the curve is one flat value all the way from 100 Hz up (every standard chart is: 2.0 in/s).
 */
function channelLimit(curve: ComplianceCurve, channel: ChannelAnalysis): number | null {
  if (curve.frequency_independent) {
    const first = curve.segments[0];
    return first ? limitAt(curve, first.from_hz) : null;
  }
  if (channel.zc_freq_hz !== null) return limitAt(curve, channel.zc_freq_hz);
  if (channel.zc_flag !== 'gt_100') return null;
  const last = curve.segments[curve.segments.length - 1];
  return last && last.kind === 'flat' && last.to_hz === null && last.from_hz <= ZC_MAX_HZ ? last.ppv_ips : null;
}

/** Fail when any margin is 1 or more; else n/a when something could not be judged; else pass. */
export function verdictOf(margins: readonly (number | null)[]): Verdict {
  if (margins.some((m) => m !== null && m >= 1)) return 'fail';
  if (margins.length === 0 || margins.some((m) => m === null)) return 'n/a';
  return 'pass';
}

/**
 * Judges each geophone channel against a curve: the limit at its ZC frequency and the margin
 * PPV / limit. A channel that did not move (PPV 0) has margin 0 under any curve, whether or not
 * it has a frequency to read a limit at.
 */
export function checkCompliance(curve: ComplianceCurve, channels: readonly ChannelAnalysis[]): ComplianceResult {
  const judged = channels.map((c) => {
    const limit = channelLimit(curve, c);
    const margin = c.ppv_ips === 0 ? 0 : limit !== null && limit > 0 && c.ppv_ips !== null ? c.ppv_ips / limit : null;
    return { name: c.name, freq_hz: c.zc_freq_hz, ppv_ips: c.ppv_ips, limit_ips: limit, margin };
  });
  return { standard: curve.id, source: curve.source, verdict: verdictOf(judged.map((c) => c.margin)), channels: judged };
}

// --- air blast ------------------------------------------------------------------------------------

export const AIR_BLAST_SOURCE = '30 CFR 816.67(b)(1); USBM RI 8485 (Siskind et al., 1980)';

/** Air-blast limits by the measuring system's low-frequency limit. sfm measures flat (linear) peak pressure. */
export const AIR_BLAST_LIMITS = [
  { id: 'osmre-airblast-0.1hz', system: '0.1 Hz high-pass system (or lower), peak', limit_db: 134, weighting: 'linear' },
  { id: 'osmre-airblast-2hz', system: '2 Hz high-pass system (or lower), peak', limit_db: 133, weighting: 'linear' },
  { id: 'osmre-airblast-6hz', system: '6 Hz high-pass system (or lower), peak', limit_db: 129, weighting: 'linear' },
  { id: 'osmre-airblast-c-slow', system: 'C-weighted, slow response', limit_db: 105, weighting: 'C' },
] as const;

export type AirBlastLimit = (typeof AIR_BLAST_LIMITS)[number];
export type AirBlastId = AirBlastLimit['id'];
export const AIR_BLAST_IDS = AIR_BLAST_LIMITS.map((l) => l.id) as readonly AirBlastId[];

export function airBlastLimit(id: AirBlastId): AirBlastLimit {
  const limit = AIR_BLAST_LIMITS.find((l) => l.id === id);
  if (!limit) throw new RangeError(`unknown air-blast limit: ${String(id)}`);
  return limit;
}

/**
 * The microphone against an air-blast limit: margin = PSPL / the limit's pressure (1 or more
 * fails, as for velocities). A C-weighted limit cannot be judged from linear peak pressure: n/a.
 */
export function checkAirBlast(limit: AirBlastLimit, mic: MicAnalysis): AirBlastCompliance {
  const judged = limit.weighting === 'linear' && mic.pspl_psi !== null;
  const margin = judged ? mic.pspl_psi! / dbToPsi(limit.limit_db) : null;
  return {
    standard: limit.id,
    source: `${AIR_BLAST_SOURCE}: ${limit.limit_db} dB${limit.weighting === 'C' ? 'C' : ''}, ${limit.system}`,
    limit_db: limit.limit_db,
    pspl_db: mic.pspl_db,
    margin,
    verdict: verdictOf([margin]),
  };
}

// --- curves from configuration -------------------------------------------------------------------

/** A configured curve failed the checks across its fields; `problems` lists every reason, each naming its field. */
export class CurveDefinitionError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`invalid compliance curve: ${problems.join('; ')}`);
    this.name = 'CurveDefinitionError';
    this.problems = problems;
  }
}

/**
 * A user-defined curve from configuration (its fields already checked against CurveDefinition).
 * The points are joined by straight lines on the log–log chart (a flat or constant-displacement
 * run is one); the last point's limit holds above it, as every standard curve ends flat; below
 * the first point there is no limit.
 */
export function userCurve(def: CurveDefinition): ComplianceCurve {
  const problems: string[] = [];
  if ((STANDARD_CURVE_IDS as readonly string[]).includes(def.name)) problems.push(`name: "${def.name}" is a standard curve's id; choose another name`);
  if (def.points.length < 2) problems.push(`points: needs at least 2 points, got ${def.points.length}`);
  for (let i = 1; i < def.points.length; i++) {
    const [a, b] = [def.points[i - 1]!, def.points[i]!];
    if (b.hz <= a.hz) problems.push(`points[${i}].hz: must be greater than points[${i - 1}].hz (${a.hz}), got ${b.hz}`);
  }
  if (problems.length) throw new CurveDefinitionError(problems);

  const segments: CurveSegment[] = [];
  for (let i = 1; i < def.points.length; i++) {
    const [a, b] = [def.points[i - 1]!, def.points[i]!];
    segments.push({ kind: 'loglog_line', from_hz: a.hz, to_hz: b.hz, from_ips: a.ips, to_ips: b.ips });
  }
  const last = def.points[def.points.length - 1]!;
  segments.push({ kind: 'flat', from_hz: last.hz, to_hz: null, ppv_ips: last.ips });
  return { id: def.name, title: def.title ?? def.name, source: def.source ?? 'user-defined curve (configuration: compliance_curves)', segments, frequency_independent: false };
}
