/**
 * Compliance curves as data (analysis.md §2): each curve is a table of segments with a kind, and
 * cites its source, so a correction is one edit here. A point (f, PPV) fails when PPV / limit(f)
 * is 1 or more.
 *
 * Segments are half-open, [from_hz, to_hz): at a breakpoint the higher segment applies. Below a
 * curve's first segment there is no limit (null, so the verdict is "n/a" rather than a guess).
 * Breakpoints are derived from the segment values (v = 2π·f·d) rather than typed rounded, so each
 * curve is continuous where its source draws it so.
 */
import type { ChannelAnalysis, ComplianceResult, Verdict } from './types.js';
import { ZC_MAX_HZ } from './figures.js';

export type CurveSegment =
  /** v = 2π·f·disp_in. */
  | { kind: 'constant_displacement'; from_hz: number; to_hz: number | null; disp_in: number }
  | { kind: 'flat'; from_hz: number; to_hz: number | null; ppv_ips: number }
  /** A straight line on the log–log chart between two points (user-defined curves). */
  | { kind: 'loglog_line'; from_hz: number; to_hz: number; from_ips: number; to_ips: number };

export interface ComplianceCurve {
  /** A StandardCurveId, or a configured curve's name. */
  id: string;
  title: string;
  source: string;
  segments: readonly CurveSegment[];
  /** The limit does not depend on frequency (osmre-distance): channels are judged without one. */
  frequency_independent: boolean;
}

export const STANDARD_CURVE_IDS = ['usbm-ri8507-drywall', 'usbm-ri8507-plaster', 'osmre-chart', 'osmre-distance'] as const;
export type StandardCurveId = (typeof STANDARD_CURVE_IDS)[number];

/** The frequency where constant displacement `disp_in` reaches velocity `ppv_ips`. */
function breakpointHz(ppv_ips: number, disp_in: number): number {
  return ppv_ips / (2 * Math.PI * disp_in);
}

const USBM_SOURCE = 'USBM RI 8507 (Siskind et al., 1980), Appendix B, alternative blasting level criteria';

function usbmCurve(id: StandardCurveId, title: string, flat_ips: number): ComplianceCurve {
  const low = breakpointHz(flat_ips, 0.03);
  const high = breakpointHz(flat_ips, 0.008);
  const top = breakpointHz(2.0, 0.008);
  return {
    id,
    title,
    source: USBM_SOURCE,
    frequency_independent: false,
    segments: [
      { kind: 'constant_displacement', from_hz: 1, to_hz: low, disp_in: 0.03 },
      { kind: 'flat', from_hz: low, to_hz: high, ppv_ips: flat_ips },
      { kind: 'constant_displacement', from_hz: high, to_hz: top, disp_in: 0.008 },
      { kind: 'flat', from_hz: top, to_hz: null, ppv_ips: 2.0 },
    ],
  };
}

/** 0.75 in/s at 11 Hz, held as displacement up to where it meets 2.0 in/s. */
const OSMRE_MID_DISP_IN = 0.75 / (2 * Math.PI * 11);

/**
 * OSMRE Figure 1. Its 11 → 30 Hz constant-displacement line would reach 2.05 in/s at 30 Hz; the
 * chart draws it to 2.0, so here it ends where it meets 2.0 in/s (29.33 Hz) and 2.0 holds above.
 */
const OSMRE_CHART: ComplianceCurve = {
  id: 'osmre-chart',
  title: 'OSMRE blasting level chart',
  source: '30 CFR 816.67(d)(4), Figure 1 (blasting level chart)',
  frequency_independent: false,
  segments: [
    { kind: 'constant_displacement', from_hz: 0, to_hz: 4, disp_in: 0.03 },
    { kind: 'flat', from_hz: 4, to_hz: 11, ppv_ips: 0.75 },
    { kind: 'constant_displacement', from_hz: 11, to_hz: breakpointHz(2.0, OSMRE_MID_DISP_IN), disp_in: OSMRE_MID_DISP_IN },
    { kind: 'flat', from_hz: breakpointHz(2.0, OSMRE_MID_DISP_IN), to_hz: null, ppv_ips: 2.0 },
  ],
};

const STANDARD_CURVES: ReadonlyMap<string, ComplianceCurve> = new Map([
  ['usbm-ri8507-drywall', usbmCurve('usbm-ri8507-drywall', 'USBM RI 8507, drywall (modern homes)', 0.75)],
  ['usbm-ri8507-plaster', usbmCurve('usbm-ri8507-plaster', 'USBM RI 8507, plaster on lath (older homes)', 0.5)],
  ['osmre-chart', OSMRE_CHART],
]);

/**
 * OSMRE limits by distance (no frequency analysis). Whole feet in the rule: a distance up to
 * `up_to_ft` (inclusive) takes the row, so 300 ft → 1.25, 300.5 or 301 ft → 1.00, 5001 ft → 0.75.
 */
export const OSMRE_DISTANCE_LIMITS: readonly { up_to_ft: number | null; ppv_ips: number; scaled_distance_factor: number }[] = [
  { up_to_ft: 300, ppv_ips: 1.25, scaled_distance_factor: 50 },
  { up_to_ft: 5000, ppv_ips: 1.0, scaled_distance_factor: 55 },
  { up_to_ft: null, ppv_ips: 0.75, scaled_distance_factor: 65 },
];

const OSMRE_DISTANCE_SOURCE = '30 CFR 816.67(d)(2), maximum PPV by distance from the blast';

/** osmre-distance for a sensor `distance_ft` from the blast; without a distance the curve has no limit. */
export function osmreDistanceCurve(distance_ft: number | null): ComplianceCurve {
  const base = { id: 'osmre-distance', title: 'OSMRE limit by distance', frequency_independent: true };
  if (distance_ft === null) return { ...base, source: `${OSMRE_DISTANCE_SOURCE} (no distance given)`, segments: [] };
  if (!Number.isFinite(distance_ft) || distance_ft < 0) throw new RangeError(`distance_ft must be a number ≥ 0, got ${distance_ft}`);
  const row = OSMRE_DISTANCE_LIMITS.find((r) => r.up_to_ft === null || distance_ft <= r.up_to_ft)!;
  return {
    ...base,
    title: `OSMRE limit by distance (${distance_ft} ft)`,
    source: `${OSMRE_DISTANCE_SOURCE}: ${row.ppv_ips.toFixed(2)} in/s at ${distance_ft} ft`,
    segments: [{ kind: 'flat', from_hz: 0, to_hz: null, ppv_ips: row.ppv_ips }],
  };
}

/** A standard curve by id; osmre-distance needs the distance (see osmreDistanceCurve). */
export function standardCurve(id: StandardCurveId, distance_ft: number | null = null): ComplianceCurve {
  if (id === 'osmre-distance') return osmreDistanceCurve(distance_ft);
  const curve = STANDARD_CURVES.get(id);
  if (!curve) throw new RangeError(`unknown standard curve: ${String(id)}`);
  return curve;
}

/** Air-blast limits, 30 CFR 816.67(b) / USBM RI 8485: by the measuring system's low-frequency limit. */
export const AIR_BLAST_LIMITS: readonly { system: string; limit_db: number; weighting: 'linear' | 'C' }[] = [
  { system: '0.1 Hz high-pass', limit_db: 134, weighting: 'linear' },
  { system: '2 Hz high-pass', limit_db: 133, weighting: 'linear' },
  { system: '6 Hz high-pass', limit_db: 129, weighting: 'linear' },
  { system: 'C-weighted, slow response', limit_db: 105, weighting: 'C' },
];
export const AIR_BLAST_SOURCE = '30 CFR 816.67(b); USBM RI 8485';

function segmentLimit(segment: CurveSegment, hz: number): number {
  switch (segment.kind) {
    case 'flat':
      return segment.ppv_ips;
    case 'constant_displacement':
      return 2 * Math.PI * hz * segment.disp_in;
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

/**
 * The limit for a channel. A ZC frequency flagged "gt_100" is unknown but above 100 Hz: it is judged
 * when the curve is one flat value all the way above 100 Hz (every standard chart is: 2.0 in/s).
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

/** Judges each geophone channel against a curve: fail when any margin is 1 or more, else n/a when a channel could not be judged, else pass. */
export function checkCompliance(curve: ComplianceCurve, channels: readonly ChannelAnalysis[]): ComplianceResult {
  const judged = channels.map((c) => {
    const limit = channelLimit(curve, c);
    const margin = limit !== null && limit > 0 && c.ppv_ips !== null ? c.ppv_ips / limit : null;
    return { name: c.name, freq_hz: c.zc_freq_hz, ppv_ips: c.ppv_ips, limit_ips: limit, margin };
  });
  let verdict: Verdict = 'pass';
  if (judged.some((c) => c.margin !== null && c.margin >= 1)) verdict = 'fail';
  else if (judged.length === 0 || judged.some((c) => c.margin === null)) verdict = 'n/a';
  return { standard: curve.id, source: curve.source, verdict, channels: judged };
}

/** A configured curve failed validation; `problems` lists every reason, each naming its field. */
export class CurveDefinitionError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`invalid compliance curve: ${problems.join('; ')}`);
    this.name = 'CurveDefinitionError';
    this.problems = problems;
  }
}

export interface UserCurveDefinition {
  name: string;
  /** (Hz, in/s) points in increasing frequency, joined by straight lines on the log–log chart. */
  points: readonly { hz: number; ips: number }[];
  source?: string;
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function isPositiveNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/**
 * A user-defined curve from configuration (unknown input, checked field by field). The points are
 * joined by straight lines on the log–log chart (a flat or constant-displacement run is one);
 * the last point's limit holds above it, as every standard curve ends flat; below the first point
 * there is no limit.
 */
export function userCurve(input: unknown): ComplianceCurve {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new CurveDefinitionError([`a curve must be an object {name, points}, got ${describe(input)}`]);
  }
  const { name, points, source } = input as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '') problems.push(`name: must be a non-empty string, got ${describe(name)}`);
  else if ((STANDARD_CURVE_IDS as readonly string[]).includes(name.trim())) problems.push(`name: "${name.trim()}" is a standard curve id; choose another name`);
  if (source !== undefined && (typeof source !== 'string' || source.trim() === '')) problems.push(`source: must be a non-empty string when given, got ${describe(source)}`);

  const valid: { hz: number; ips: number }[] = [];
  if (!Array.isArray(points)) problems.push(`points: must be an array of {hz, ips}, got ${describe(points)}`);
  else {
    if (points.length < 2) problems.push(`points: needs at least 2 points, got ${points.length}`);
    points.forEach((p: unknown, i) => {
      const { hz, ips } = typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : { hz: undefined, ips: undefined };
      if (!isPositiveNumber(hz)) problems.push(`points[${i}].hz: must be a number > 0, got ${describe(hz)}`);
      if (!isPositiveNumber(ips)) problems.push(`points[${i}].ips: must be a number > 0, got ${describe(ips)}`);
      if (isPositiveNumber(hz) && isPositiveNumber(ips)) valid.push({ hz, ips });
      else valid.push({ hz: NaN, ips: NaN });
    });
    for (let i = 1; i < valid.length; i++) {
      const [a, b] = [valid[i - 1]!, valid[i]!];
      if (b.hz <= a.hz) problems.push(`points[${i}].hz: must be greater than points[${i - 1}].hz (${a.hz}), got ${b.hz}`);
    }
  }
  if (problems.length) throw new CurveDefinitionError(problems);

  const id = (name as string).trim();
  const segments: CurveSegment[] = [];
  for (let i = 1; i < valid.length; i++) {
    const [a, b] = [valid[i - 1]!, valid[i]!];
    segments.push({ kind: 'loglog_line', from_hz: a.hz, to_hz: b.hz, from_ips: a.ips, to_ips: b.ips });
  }
  const last = valid[valid.length - 1]!;
  segments.push({ kind: 'flat', from_hz: last.hz, to_hz: null, ppv_ips: last.ips });
  return { id, title: id, source: typeof source === 'string' ? source.trim() : 'user-defined curve (configuration)', segments, frequency_independent: false };
}
