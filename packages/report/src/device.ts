/**
 * The report of an event a unit holds, read through DeviceAccess (the caching relay, or the unit
 * directly): what `GET /device/event/{idx}/report.pdf` and `sfm report IDX` answer.
 */
import { SfmError, type Analysis, type DeviceInfo, type Waveform } from '@sfm/core';
import { analyse, type AnalysisOptions } from '@sfm/core/analysis';
import type { AnalysisReadOptions, DeviceAccess, Served } from '@sfm/core/service';
import type { DeviceTarget } from '@sfm/core/transport';
import { renderReport } from './report.js';

export interface DeviceReportOptions extends Pick<AnalysisReadOptions, 'onSyncProgress' | 'onProgress'> {
  /** The standards (analysisOptions()). */
  analysis?: AnalysisOptions;
  /** Read the waveform from the unit again. */
  force?: boolean;
  /** Serve what is cached when the unit cannot be reached (default true). */
  stale?: boolean;
  /** The sfm version, printed in the footer. */
  version: string;
}

/** The caching relay says when a waveform it holds was downloaded; reading the unit directly, it is now. */
interface KnowsReceipt {
  waveformReceivedAt(target: DeviceTarget, index: number): string | null;
}

/** The unit could not be asked: its firmware and setup are left out of the report rather than failing it. */
const UNIT_UNAVAILABLE = new Set(['DEVICE_UNREACHABLE', 'DEVICE_TIMEOUT', 'DEVICE_BUSY', 'PROTOCOL_ERROR']);

/**
 * The event's waveform (downloaded when needed) and its analysis, the event's header and
 * event-time project text (read before answering), and the unit's firmware and setup — left
 * out, not failed, when the unit cannot be asked for them — rendered as the one-page report.
 * `waveform` is how the waveform was served (cache outcome and Age for the answer's headers).
 */
export async function deviceEventReport(
  access: DeviceAccess,
  target: DeviceTarget,
  index: number,
  opts: DeviceReportOptions,
): Promise<{ pdf: Buffer; analysis: Analysis; waveform: Served<Waveform> }> {
  const waveform = await access.waveform(target, index, { force: opts.force, stale: opts.stale, onSyncProgress: opts.onSyncProgress, onProgress: opts.onProgress });
  const analysis = analyse(waveform.value, opts.analysis);
  const event = await access.event(target, index, { stale: opts.stale, waitForText: true });
  let info: DeviceInfo | null = null;
  try {
    info = (await access.info(target, { stale: opts.stale })).value;
  } catch (e) {
    if (!(e instanceof SfmError && UNIT_UNAVAILABLE.has(e.code))) throw e;
  }
  const knows = access as Partial<KnowsReceipt>;
  const receivedAt = typeof knows.waveformReceivedAt === 'function' ? knows.waveformReceivedAt(target, index) : new Date().toISOString();
  const pdf = await renderReport({
    event: { ...event.value, received_at: receivedAt },
    waveform: waveform.value,
    analysis,
    curves: opts.analysis?.curves,
    unit: info && { firmware: info.firmware, trigger_level_ips: info.compliance.trigger_level_ips, mic_trigger_psi: info.compliance.mic_trigger_psi },
    version: opts.version,
  });
  return { pdf, analysis, waveform };
}
