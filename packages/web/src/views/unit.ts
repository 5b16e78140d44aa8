/**
 * One unit: identity and status, its compliance setup (and the form that changes it), its live
 * events (the relay's cache of what the unit holds now) and its archived history (every event sfm
 * ever read of it, a page at a time), monitoring, call-home settings and the erase. Each part
 * loads on its own, so a slow unit does not hold up what the archive already knows.
 */
import type { ArchivedEventPage, CallHomeConfig, ComplianceConfig, ConfiguredDevice, DeviceInfo, EventList, MonitorStatus, Unit } from '@sfm/core';
import { ApiError, getJson, getServed, openApiDocument, sendJson, type Served } from '../api.js';
import { confirmDialog } from '../dialogs.js';
import { facts, fill, h, notice, section } from '../dom.js';
import { schemaForm } from '../forms.js';
import { addressOf, addressQuery, ago, fmt, pageOf, type Address, type FieldSchema } from '../logic.js';
import { followProgress } from '../progress-view.js';

const EVENTS_PAGE = 100;
const ARCHIVE_PAGE = 50;

function servedNote(s: Served<unknown>): string {
  const parts = [s.cache ?? 'fresh'];
  if (s.ageS !== null) parts.push(`${s.ageS} s old`);
  if (s.warning) parts.push(s.warning);
  return parts.join(' · ');
}

/** Loads a part: shows "loading", then what `draw` makes, or the error — never holding up the rest. */
function part(el: HTMLElement, work: () => Promise<(HTMLElement | null)[]>): Promise<void> {
  el.setAttribute('aria-busy', 'true');
  fill(el, h('p', { class: 'loading' }, 'Loading…'));
  return work()
    .then((children) => fill(el, ...children))
    .catch((e: unknown) => fill(el, notice(e instanceof Error ? e.message : String(e), 'error')))
    .finally(() => el.removeAttribute('aria-busy'));
}

export interface UnitRef {
  serial?: string;
  name?: string;
}

export async function unitView(main: HTMLElement, ref: UnitRef, cleanup: (fn: () => void) => void): Promise<void> {
  const devices = await getJson<ConfiguredDevice[]>('/devices');
  let unit: Unit | undefined;
  if (ref.serial) {
    unit = await getJson<Unit>(`/db/units/${encodeURIComponent(ref.serial)}`).catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    });
  }
  const address: Address | undefined = ref.name ? { device: ref.name } : addressOf(ref.serial!, unit?.last_address ?? null, devices);
  let serial = ref.serial ?? devices.find((d) => d.name === ref.name)?.serial ?? undefined;
  const q = address ? `?${addressQuery(address)}` : '';

  const identity = h('div');
  const compliance = h('div');
  const live = h('div');
  const archive = h('div');
  const actions = h('div');
  const callHome = h('div');
  // When the unit's session ends (its project text read after the answer, say), show what it brought.
  const progress = address ? followProgress(address, () => void Promise.all([loadLive(false, true), loadArchive()])) : undefined;
  if (progress) cleanup(progress.close);

  const loadIdentity = (force: boolean): Promise<void> =>
    part(identity, async () => {
      if (!address) return [unit ? facts([['Serial', unit.serial], ['Last address', unit.last_address]]) : null, notice('No address to reach this unit at: it only called home.')];
      const f = force ? '&force=true' : '';
      const [info, status] = await Promise.all([getServed<DeviceInfo>(`/device/info${q}${f}`), getServed<MonitorStatus>(`/device/monitor/status${q}${f}`).catch((e: Error) => e)]);
      const s = status instanceof Error ? undefined : status.value;
      serial ??= info.value.serial;
      drawCompliance(info.value.compliance);
      return [
        facts([
          ['Serial', info.value.serial],
          ['Firmware', info.value.firmware],
          ['DSP', info.value.dsp_version],
          ['Calibrated', info.value.calibration_date],
          ['Records ever made', info.value.event_count],
          ['Monitoring', s ? (s.is_monitoring ? 'on' : 'off') : '—'],
          ['Battery', s ? fmt(s.battery_v, 'V') : '—'],
          ['Memory used', s ? `${Math.round((100 * (s.memory_total - s.memory_free)) / Math.max(1, s.memory_total))} % of ${Math.round(s.memory_total / 1024)} KB` : '—'],
          ['Unit clock', s?.clock ?? '—'],
        ]),
        h('p', { class: 'served' }, `info: ${servedNote(info)}${status instanceof Error ? ` · status: ${status.message}` : ` · status: ${servedNote(status)}`}`),
      ];
    });

  const drawCompliance = (c: ComplianceConfig): void => {
    void part(compliance, async () => {
      const doc = await openApiDocument();
      const schema = doc.components.schemas.ComplianceChanges as FieldSchema;
      const form = schemaForm({
        id: 'compliance-form',
        schema,
        current: c as unknown as Record<string, unknown>,
        submitLabel: 'Write to the unit',
        submit: async (changes) => (await sendJson<ComplianceConfig>('POST', `/device/config${q}`, changes)) as unknown as Record<string, unknown>,
      });
      return [h('details', {}, h('summary', {}, 'Change the compliance setup'), form), facts(Object.entries(c).map(([k, v]) => [k.replace(/_/g, ' '), v === null ? '—' : String(v)]))];
    });
  };

  /** `cached`: the list as the last probe left it (no device I/O when that was within the hour). */
  const loadLive = (force: boolean, cached = false): Promise<void> =>
    part(live, async () => {
      if (!address) return [notice('Not reachable by sfm: see the archived history.')];
      const s = await getServed<EventList>(`/device/events${q}${force ? '&force=true' : cached ? '&max_age=3600' : ''}`);
      const list = s.value;
      const unitSerial = list.serial;
      let page = 0;
      const body = h('tbody');
      const pager = h('span', { 'aria-live': 'polite' });
      const draw = (p: number): void => {
        const view = pageOf([...list.events].reverse(), p, EVENTS_PAGE);
        page = view.page;
        fill(
          body,
          ...view.items.map((e) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, e.record_type === 'monitor_log' ? String(e.index) : h('a', { href: `#/unit/${encodeURIComponent(unitSerial)}/event/${e.index}` }, String(e.index))),
              h('td', {}, e.timestamp ?? '—'),
              h('td', {}, e.record_type),
              h('td', { class: 'num' }, fmt(e.peaks.pvs_ips, 'in/s')),
              h('td', {}, e.project_pending ? '(reading…)' : (e.project.project ?? '—')),
            ),
          ),
        );
        pager.textContent = view.pages > 1 ? `page ${view.page + 1} of ${view.pages}` : '';
      };
      draw(0);
      return [
        h('p', { class: 'served' }, `${list.count} event${list.count === 1 ? '' : 's'} on the unit · ${servedNote(s)}`),
        h(
          'table',
          {},
          h('caption', {}, 'What the unit holds now, newest first'),
          h('thead', {}, h('tr', {}, ...['Index', 'Recorded (unit time)', 'Type', 'PVS', 'Project'].map((c) => h('th', { scope: 'col' }, c)))),
          body,
        ),
        list.count > EVENTS_PAGE ? h('div', { class: 'pager-row' }, h('button', { type: 'button', onclick: () => draw(page - 1) }, 'Previous page'), pager, h('button', { type: 'button', onclick: () => draw(page + 1) }, 'Next page')) : null,
      ];
    });

  const loadArchive = (): Promise<void> =>
    part(archive, async () => {
      const of = serial;
      if (!of) return [notice('Read the unit once to start its archive.')];
      const body = h('tbody');
      const more = h('button', { type: 'button' }, 'Load more');
      let cursor: string | null = null;
      const load = async (): Promise<void> => {
        more.disabled = true;
        const page = await getJson<ArchivedEventPage>(`/db/events?serial=${encodeURIComponent(of)}&limit=${ARCHIVE_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        for (const e of page.events) {
          body.append(
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, h('a', { href: `#/event/${e.id}` }, String(e.id))),
              h('td', {}, e.timestamp ?? '—'),
              h('td', {}, e.record_type),
              h('td', { class: 'num' }, fmt(e.peaks.pvs_ips, 'in/s')),
              h('td', {}, e.analysis_summary?.compliance ?? '—'),
              h('td', {}, e.has_waveform ? 'yes' : 'no'),
              h('td', {}, e.false_trigger ? 'false trigger' : ''),
            ),
          );
        }
        cursor = page.next_cursor;
        more.hidden = cursor === null;
        more.disabled = false;
      };
      more.addEventListener('click', () => void load());
      await load();
      return [
        h(
          'table',
          {},
          h('caption', {}, 'Every event sfm has read from this unit, newest first'),
          h('thead', {}, h('tr', {}, ...['Id', 'Recorded (unit time)', 'Type', 'PVS', 'Compliance', 'Waveform', 'Review'].map((c) => h('th', { scope: 'col' }, c)))),
          body,
        ),
        more,
      ];
    });

  const loadCallHome = (): Promise<void> =>
    part(callHome, async () => {
      const [config, doc] = await Promise.all([getJson<CallHomeConfig>(`/device/call-home${q}`), openApiDocument()]);
      return [
        schemaForm({
          id: 'call-home-form',
          schema: doc.components.schemas.CallHomeChanges as FieldSchema,
          current: config as unknown as Record<string, unknown>,
          submitLabel: 'Write call-home settings',
          submit: async (changes) => (await sendJson<CallHomeConfig>('POST', `/device/call-home${q}`, changes)) as unknown as Record<string, unknown>,
        }),
      ];
    });

  const refresh = (): void => {
    void loadIdentity(true).then(loadArchive);
    void loadLive(true);
  };

  const actionStatus = h('p', { role: 'status', class: 'form-status' });
  const act = async (what: string, work: () => Promise<unknown>): Promise<void> => {
    actionStatus.textContent = `${what}…`;
    try {
      await work();
      actionStatus.textContent = `${what}: done.`;
      void loadIdentity(false);
    } catch (e) {
      actionStatus.textContent = `${what}: ${(e as Error).message}`;
    }
  };
  const erase = async (): Promise<void> => {
    const [u, list] = await Promise.all([
      serial ? getJson<Unit>(`/db/units/${encodeURIComponent(serial)}`).catch(() => undefined) : undefined,
      getJson<EventList>(`/device/events${q}&max_age=31536000`).catch(() => undefined),
    ]);
    const archived = u?.event_count ?? 0;
    const onUnit = list ? `${list.count} event${list.count === 1 ? '' : 's'}` : 'its events';
    const ok = await confirmDialog(
      'Erase every event on the unit?',
      `The unit holds ${onUnit}; sfm reads any it has not archived before erasing. The archive holds ${archived} event${archived === 1 ? '' : 's'} of this unit and keeps them all.`,
      'Erase the unit',
    );
    if (!ok) return;
    await act('Erasing', () => sendJson('POST', `/device/events/erase${q}`, { confirm: true }));
    void loadLive(false);
    void loadArchive();
  };
  if (address) {
    fill(
      actions,
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'button', onclick: () => void act('Starting monitoring', () => sendJson('POST', `/device/monitor/start${q}`, {})) }, 'Start monitoring'),
        h('button', { type: 'button', onclick: () => void act('Stopping monitoring', () => sendJson('POST', `/device/monitor/stop${q}`, {})) }, 'Stop monitoring'),
        h('button', { type: 'button', class: 'danger', onclick: () => void erase() }, 'Erase the unit…'),
      ),
      actionStatus,
    );
    fill(callHome, h('button', { type: 'button', onclick: () => void loadCallHome() }, 'Read call-home settings from the unit'));
  }

  fill(
    main,
    h('h1', {}, `Unit ${serial ?? ref.name ?? ''}`),
    h(
      'p',
      { class: 'subtitle' },
      address ? `Reached ${'device' in address ? `as device "${address.device}"` : `at ${addressQuery(address)}`}` : 'No address known',
      unit ? ` · last seen ${ago(unit.last_seen, Date.now())}` : '',
      ' · ',
      address ? h('button', { type: 'button', id: 'refresh', onclick: refresh }, 'Refresh from the unit') : null,
    ),
    progress?.element ?? null,
    section('Identity and status', identity),
    section('Compliance setup', compliance),
    section('Events on the unit', live),
    section('Archived history', archive),
    address ? section('Monitoring and erase', actions) : null,
    address ? section('Call home', callHome) : null,
  );
  if (!address) fill(compliance, unit?.info ? facts(Object.entries(unit.info.compliance).map(([k, v]) => [k.replace(/_/g, ' '), v === null ? '—' : String(v)])) : notice('Not known.'));
  // The archive needs the serial, which a configured unit's info gives.
  await Promise.all([loadIdentity(false).then(loadArchive), loadLive(false)]);
}
