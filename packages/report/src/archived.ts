/**
 * The report of an archived event (`GET /db/events/{id}/report.pdf`, `sfm db report ID`): no
 * device I/O — the event as archived, its kept waveform and the unit's last known setup.
 */
import type { Analysis, ArchivedEvent, Unit, Waveform } from '@sfm/core';
import type { AnalysisOptions } from '@sfm/core/analysis';
import type { Served } from '@sfm/core/service';
import { renderReport } from './report.js';

/** What the report reads: the relay's archived analysis and the fleet's unit. */
export interface ArchiveReportSource {
  archivedAnalysis(id: number, options: AnalysisOptions): Promise<{ event: ArchivedEvent; waveform: Served<Waveform>; analysis: Served<Analysis> } | undefined>;
  store: { archive: { unit(serial: string): Promise<Unit | undefined> } };
}

/** Undefined when the archive holds no waveform of that event. */
export async function archivedEventReport(
  source: ArchiveReportSource,
  id: number,
  opts: { analysis: AnalysisOptions; version: string },
): Promise<{ pdf: Buffer; event: ArchivedEvent; analysis: Analysis; waveform: Served<Waveform> } | undefined> {
  const a = await source.archivedAnalysis(id, opts.analysis);
  if (!a) return undefined;
  const info = (await source.store.archive.unit(a.event.serial))?.info ?? null;
  const pdf = await renderReport({
    event: a.event,
    waveform: a.waveform.value,
    analysis: a.analysis.value,
    curves: opts.analysis.curves,
    unit: info && { firmware: info.firmware, trigger_level_ips: info.compliance.trigger_level_ips, mic_trigger_psi: info.compliance.mic_trigger_psi },
    version: opts.version,
  });
  return { pdf, event: a.event, analysis: a.analysis.value, waveform: a.waveform };
}
