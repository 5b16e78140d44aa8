/**
 * Which standards an analysis judges an event against: the configuration's choice (the core
 * settings compliance_standards, compliance_distance_ft, compliance_curves and air_blast_standard,
 * checked at startup) and a request's (`?standard=`, `?distance_ft=`), resolved to curves.
 */
import { InvalidInput } from '../errors.js';
import type { CurveDefinition } from '../kernel/config.js';
import type { AnalysisOptions } from './analyse.js';
import {
  CurveDefinitionError, STANDARD_CURVE_IDS, airBlastLimit, standardCurve, userCurve,
  type AirBlastId, type ComplianceCurve, type StandardCurveId,
} from './curves.js';

/** A sensor's distance from the blast, feet (osmre-distance): in the configuration, ?distance_ft= and --distance-ft alike. */
export const DISTANCE_FT_LIMITS = { minimum: 0, maximum: 1_000_000 } as const;

/** The standards judged when neither the configuration nor the request names any. */
export const DEFAULT_STANDARDS: readonly StandardCurveId[] = ['osmre-chart'];
/** The MiniMate Plus's linear microphone is flat from 2 Hz: the 133 dB limit of 2 Hz systems. */
export const DEFAULT_AIR_BLAST: AirBlastId = 'osmre-airblast-2hz';

export interface AnalysisSettings {
  /** Judged when a request names none: standard ids or configured curves' names. */
  standards: readonly string[];
  /** The sensor's distance from the blast (osmre-distance) when a request gives none. */
  distance_ft: number | null;
  /** The configured curves, by name. */
  curves: ReadonlyMap<string, ComplianceCurve>;
  /** The air-blast limit the microphone is judged against; null: not judged. */
  air_blast: AirBlastId | null;
}

export const DEFAULT_ANALYSIS_SETTINGS: AnalysisSettings = { standards: DEFAULT_STANDARDS, distance_ft: null, curves: new Map(), air_blast: DEFAULT_AIR_BLAST };

/** The configuration's values, as core's settings declare them (kernel/config.ts). */
export interface AnalysisSettingValues {
  compliance_standards: readonly string[];
  compliance_distance_ft: number | null;
  compliance_curves: readonly CurveDefinition[];
  air_blast_standard: AirBlastId | null;
}

/** The settings from checked configuration values; what does not hold across them is added to `problems`, named by key. */
export function analysisSettings(values: AnalysisSettingValues, problems: string[]): AnalysisSettings {
  const curves = new Map<string, ComplianceCurve>();
  values.compliance_curves.forEach((def, i) => {
    if (values.compliance_curves.findIndex((d) => d.name === def.name) < i) problems.push(`compliance_curves[${i}].name: "${def.name}" names another curve too`);
    try {
      const curve = userCurve(def);
      if (!curves.has(curve.id)) curves.set(curve.id, curve);
    } catch (e) {
      if (!(e instanceof CurveDefinitionError)) throw e;
      for (const p of e.problems) problems.push(`compliance_curves[${i}].${p}`);
    }
  });
  const settings: AnalysisSettings = { standards: values.compliance_standards, distance_ft: values.compliance_distance_ft, curves, air_blast: values.air_blast_standard };
  try {
    checkedNames('compliance_standards', values.compliance_standards, settings);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    problems.push(e.message);
  }
  return settings;
}

/** Every name a standard may be asked for by. */
export function standardNames(settings: AnalysisSettings): string[] {
  return [...STANDARD_CURVE_IDS, ...settings.curves.keys()];
}

function checkedNames(field: string, names: readonly string[], settings: AnalysisSettings): string[] {
  const known = standardNames(settings);
  const seen = new Set<string>();
  for (const name of names) {
    if (!known.includes(name)) throw new InvalidInput(field, `unknown standard "${name}" (known: ${known.join(', ')})`);
    if (seen.has(name)) throw new InvalidInput(field, `names "${name}" twice`);
    seen.add(name);
  }
  return [...names];
}

/** A request's choice: the standards (comma-separated text, or a list) and the distance for osmre-distance. */
export interface AnalysisRequest {
  standard?: string | readonly string[];
  distance_ft?: number | null;
  /** Samples per channel the event holds (its total_samples), when known: a shorter channel is incomplete. */
  total_samples?: number | null;
}

/**
 * The options for analyse(): the standards asked for (default: the configured ones) resolved to
 * curves, the air-blast limit configured. An unknown or repeated name is InvalidInput naming
 * `standard`.
 */
export function analysisOptions(settings: AnalysisSettings = DEFAULT_ANALYSIS_SETTINGS, request: AnalysisRequest = {}): AnalysisOptions {
  const asked = typeof request.standard === 'string' ? request.standard.split(',').map((s) => s.trim()) : request.standard;
  if (asked?.some((s) => s === '')) throw new InvalidInput('standard', 'an empty name (give standards separated by commas)');
  const names = asked ? checkedNames('standard', asked, settings) : settings.standards;
  const distance = request.distance_ft ?? settings.distance_ft;
  return {
    curves: names.map((name) => settings.curves.get(name) ?? standardCurve(name as StandardCurveId, distance)),
    air_blast: settings.air_blast === null ? null : airBlastLimit(settings.air_blast),
    total_samples: request.total_samples ?? null,
  };
}

/** A text that tells analyses under different options apart (for keeping one per waveform and options). */
export function analysisOptionsKey(opts: AnalysisOptions): string {
  return JSON.stringify([opts.curves?.map((c) => [c.id, c.source, c.segments]) ?? null, opts.air_blast?.id ?? null, opts.total_samples ?? null]);
}
