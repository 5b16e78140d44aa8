/** Readable output for people at a terminal (--json gives the contract's JSON instead). */
import type { ArchivedEvent, CallHomeConfig, ComplianceConfig, DeviceInfo, Event, EventList, MonitorStatus, Session, StorageRange, Unit } from '@sfm/core';

const v = (x: unknown, unit = ''): string => (x === null || x === undefined || x === '' ? '—' : `${x}${unit}`);
const mode = (m: ComplianceConfig['recording_mode']): string => (m ? m.replace(/_/g, ' ') : '—');

export function formatCompliance(c: ComplianceConfig): string {
  return [
    `Recording     ${mode(c.recording_mode)}, ${v(c.sample_rate, ' Sa/s')}, record ${v(c.record_time_s, ' s')}, histogram interval ${v(c.histogram_interval_s, ' s')}`,
    `Geophones     ${v(c.geo_range)} range (full scale ${v(c.geo_full_scale_ips, ' in/s')}), trigger ${v(c.trigger_level_ips, ' in/s')}, alarm ${v(c.alarm_level_ips, ' in/s')}`,
    `Microphone    trigger ${v(c.mic_trigger_psi, ' psi')}, alarm ${v(c.mic_alarm_psi, ' psi')}`,
    `Project       ${v(c.project)}`,
    `Client        ${v(c.client)}`,
    `Operator      ${v(c.operator)}`,
    `Location      ${v(c.sensor_location)}`,
    `Notes         ${v(c.notes)}`,
  ].join('\n');
}

export function formatInfo(i: DeviceInfo): string {
  return [
    `Serial        ${i.serial}`,
    `Firmware      ${v(i.firmware)} (minor ${v(i.firmware_minor)}), DSP ${v(i.dsp_version)}`,
    `Calibrated    ${v(i.calibration_date)}`,
    `Records ever  ${v(i.event_count)}`,
    formatCompliance(i.compliance),
  ].join('\n');
}

/** "1 event", "5 events". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const num = (x: number | null, digits = 3): string => (x === null ? '—' : x.toFixed(digits));
/** The event's project name, or that it is still to be read (never shown as blank); a monitor log's interval and level. */
const projectOf = (e: Event): string => {
  if (e.record_type === 'monitor_log') return `(monitored until ${v(e.end_timestamp)}, trigger ${v(e.trigger_level_ips, ' in/s')})`;
  return e.project_pending ? '(text not read yet)' : v(e.project.project);
};

export function formatEvents(list: EventList): string {
  if (list.count === 0) return `${list.serial}: no events stored`;
  const rows = [['#', 'key', 'time', 'type', 'Tran', 'Vert', 'Long', 'PVS in/s', 'Mic psi', 'project']];
  for (const e of list.events) {
    rows.push([String(e.index), e.key, v(e.timestamp), e.record_type, num(e.peaks.tran_ips), num(e.peaks.vert_ips), num(e.peaks.long_ips), num(e.peaks.pvs_ips), num(e.peaks.mic_psi, 4), projectOf(e)]);
  }
  return `${list.serial}: ${plural(list.count, 'event')}\n${table(rows)}`;
}

export function formatEvent(e: Event): string {
  if (e.record_type === 'monitor_log') {
    return [
      `Event ${e.index}  key ${e.key}  ${v(e.timestamp)}  ${e.record_type}`,
      `Monitored     ${v(e.timestamp)} to ${v(e.end_timestamp)}, nothing crossed the trigger level`,
      `Trigger       ${v(e.trigger_level_ips, ' in/s')} (geophones)`,
    ].join('\n');
  }
  return [
    `Event ${e.index}  key ${e.key}  ${v(e.timestamp)}  ${e.record_type}`,
    `Sampling      ${v(e.sample_rate, ' Sa/s')}, ${v(e.record_time_s, ' s')}, ${v(e.total_samples)} samples (${v(e.pretrigger_samples)} pre-trigger)`,
    `Peaks         Tran ${num(e.peaks.tran_ips)}  Vert ${num(e.peaks.vert_ips)}  Long ${num(e.peaks.long_ips)} in/s   PVS ${num(e.peaks.pvs_ips)} in/s   Mic ${num(e.peaks.mic_psi, 4)} psi`,
    e.project_pending
      ? `Project       ${projectOf(e)}`
      : `Project       ${v(e.project.project)} / ${v(e.project.client)} / ${v(e.project.operator)} / ${v(e.project.sensor_location)}`,
  ].join('\n');
}

export function formatStatus(s: MonitorStatus): string {
  const pct = s.memory_total ? ((100 * s.memory_free) / s.memory_total).toFixed(0) : '—';
  return [
    `Monitoring    ${s.is_monitoring ? 'on' : 'off'}`,
    `Battery       ${s.battery_v.toFixed(2)} V`,
    `Memory        ${s.memory_free.toLocaleString('en')} of ${s.memory_total.toLocaleString('en')} bytes free (${pct}%)`,
    `Unit clock    ${v(s.clock)}`,
  ].join('\n');
}

export function formatRange(r: StorageRange): string {
  return r.is_empty ? `no events stored (next key ${r.next_key})` : `first key ${r.first_key}, last key ${v(r.last_key)}, next key ${r.next_key}`;
}

export function formatCallHome(c: CallHomeConfig): string {
  const t = (x: CallHomeConfig['time1']) => `${x.enabled ? 'on ' : 'off'} ${String(x.hour).padStart(2, '0')}:${String(x.minute).padStart(2, '0')}`;
  return [
    `Auto call home   ${c.enabled ? 'on' : 'off'}`,
    `Dial string      ${v(c.dial_string)}`,
    `After event      ${c.after_event_recorded ? 'yes' : 'no'}`,
    `At times         ${c.at_specified_times ? 'yes' : 'no'}  (1: ${t(c.time1)}, 2: ${t(c.time2)})`,
    `Retries          ${c.num_retries}, every ${c.retry_interval_s} s; wait for connection ${c.wait_for_connection_s} s; warm-up ${c.warm_up_time_s} s`,
  ].join('\n');
}

export function formatUnits(units: Unit[]): string {
  if (units.length === 0) return 'no unit seen yet';
  const rows = [['serial', 'last seen (UTC)', 'address', 'events', 'last event', 'PVS in/s', 'battery', 'monitoring']];
  for (const u of units) {
    rows.push([
      u.serial, u.last_seen.slice(0, 19), v(u.last_address), String(u.event_count), v(u.last_event?.timestamp), num(u.last_event?.peaks.pvs_ips ?? null),
      u.last_status ? `${u.last_status.battery_v.toFixed(2)} V` : '—', u.last_status ? (u.last_status.is_monitoring ? 'on' : 'off') : '—',
    ]);
  }
  return plainTable(rows);
}

export function formatArchivedEvents(events: ArchivedEvent[]): string {
  if (events.length === 0) return 'no archived event matches';
  const rows = [['id', 'serial', 'key', 'time', 'type', 'PVS in/s', 'waveform', 'project', 'review']];
  for (const e of events) {
    rows.push([String(e.id), e.serial, e.key, v(e.timestamp), e.record_type, num(e.peaks.pvs_ips), e.has_waveform ? 'yes' : 'no', e.project_pending ? '(text not read yet)' : v(e.project.project), e.false_trigger ? 'false trigger' : '']);
  }
  return plainTable(rows);
}

export function formatSessions(sessions: Session[]): string {
  if (sessions.length === 0) return 'no session recorded';
  const rows = [['id', 'serial', 'kind', 'started (UTC)', 'seconds', 'new events', 'new waveforms', 'erased', 'result']];
  for (const s of sessions) rows.push([String(s.id), s.serial, s.kind, s.started_at.slice(0, 19), s.duration_s.toFixed(1), String(s.events_new), String(s.waveforms_new), s.erased ? 'yes' : '', s.result]);
  return plainTable(rows);
}

/** Left-aligned columns. */
function plainTable(rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(w[c]!)).join('  ').trimEnd()).join('\n');
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c >= 4 && c <= 8 ? cell.padStart(w[c]!) : cell.padEnd(w[c]!))).join('  ').trimEnd()).join('\n');
}
