/** --standard / --distance-ft as the reports read them, and the verdicts line they print. */
import { InvalidInput, type Analysis } from '@sfm/core';
import { DEFAULT_ANALYSIS_SETTINGS, analysisOptions, type AnalysisOptions } from '@sfm/core/analysis';
import type { CliServices } from './cli.js';
import { UsageError } from './io.js';

/** The standards asked for, else the configuration's; an unknown name is bad usage. */
export function requestedAnalysis(services: Pick<CliServices, 'analysis'>, standard: string | undefined, distanceFt: number | undefined): AnalysisOptions {
  try {
    return analysisOptions(services.analysis ?? DEFAULT_ANALYSIS_SETTINGS, { standard, distance_ft: distanceFt });
  } catch (e) {
    throw e instanceof InvalidInput ? new UsageError(`--standard: ${e.why}`) : e;
  }
}

/** ": std pass, std2 fail" — each standard's verdict, for the line that says what was written. */
export function verdicts(a: Analysis): string {
  const list = a.compliance.map((c) => `${c.standard} ${c.verdict}`).join(', ');
  return list ? `: ${list}` : '';
}
