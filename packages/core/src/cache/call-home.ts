/**
 * What a call-home session does (http-api.md, "Auto Call Home"), declared once: the waveform
 * policies the call-home plugin's settings offer, the choices a session is run with, and which
 * events' waveforms a policy wants. The session itself is RelayService.callHome: the same
 * client, per-unit lock and archive as a call-up.
 */
import type { ClientOptions } from '../client/minimate-client.js';
import { SfmError } from '../errors.js';
import type { ComplianceConfig, Event, Session } from '../model.js';

/** Which waveforms a call-home downloads: every event's, none, or those of events that reached a trigger level. */
export const CALL_HOME_WAVEFORMS = ['all', 'none', 'over_trigger'] as const;
export type CallHomeWaveforms = (typeof CALL_HOME_WAVEFORMS)[number];

export interface CallHomeOptions {
  /** The calling modem's address (HOST:PORT), as the Session names it. */
  peer: string;
  waveforms: CallHomeWaveforms;
  /** Erase the unit once everything on it is archived durably. */
  eraseAfterDownload: boolean;
  /** Start monitoring once everything is archived (and after the erase). */
  restartMonitoring: boolean;
  /**
   * Whether the unit with this serial may call in; a refusal ends the call before anything is
   * kept (no event, no Session, no Unit).
   */
  accept?: (serial: string) => boolean | Promise<boolean>;
  /** The name of the raw capture kept for this session (Session.capture). */
  capture?: string | null;
  /** The device client's timings for this call (the relay's by default). */
  client?: ClientOptions;
}

export interface CallHomeOutcome {
  /** The unit's serial, once it said it. */
  serial: string | null;
  /** ok, or the error code that ended the call. */
  result: string;
  /** The Session recorded for it; null when the unit never said who it is or was refused. */
  session: Session | null;
  /** The unit was refused (its serial is not accepted): nothing was kept. */
  refused: boolean;
}

/** The unit's trigger levels, from its compliance setup. */
export type TriggerLevels = Pick<ComplianceConfig, 'trigger_level_ips' | 'mic_trigger_psi'>;

/**
 * Whether `policy` wants the waveform of `event`. `over_trigger`: a geophone channel's peak at or
 * over the geophone trigger level, or the microphone's at or over its trigger level; when the
 * levels or the peaks are not known the waveform is wanted (keeping too much beats losing one).
 * A monitor-log record has no waveform.
 */
export function wantsWaveform(policy: CallHomeWaveforms, event: Event, levels: TriggerLevels | null): boolean {
  if (event.record_type === 'monitor_log' || policy === 'none') return false;
  if (policy === 'all') return true;
  const { tran_ips, vert_ips, long_ips, mic_psi } = event.peaks;
  const geo = [tran_ips, vert_ips, long_ips];
  const geoLevel = levels?.trigger_level_ips ?? null;
  const micLevel = levels?.mic_trigger_psi ?? null;
  if (geoLevel === null || geo.every((p) => p === null)) return true;
  if (geo.some((p) => p !== null && p >= geoLevel)) return true;
  return micLevel !== null && mic_psi !== null && mic_psi >= micLevel;
}

/** A unit whose serial may not call in (`ach.accept`): the call ends before anything is kept. */
export class CallerRefused extends SfmError {
  override name = 'CallerRefused';
  constructor(message: string) {
    super('TARGET_NOT_ALLOWED', message);
  }
}
