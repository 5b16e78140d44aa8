/**
 * The fleet: every unit of the archive (GET /db/units) and every configured unit not read yet
 * (GET /devices), with what was last heard of each. Shown in pages, with a filter: a fleet of
 * thousands stays quick because only one page is in the DOM.
 */
import type { ConfiguredDevice, Unit } from '@sfm/core';
import { getJson } from '../api.js';
import { fill, h, notice, section } from '../dom.js';
import { ago, filterRows, fleetRows, fmt, pageOf, type FleetRow } from '../logic.js';

const PAGE = 50;

export async function fleetView(main: HTMLElement): Promise<void> {
  const [units, devices] = await Promise.all([getJson<Unit[]>('/db/units'), getJson<ConfiguredDevice[]>('/devices')]);
  const rows = fleetRows(units, devices, Date.now());
  let page = 0;
  let shown = rows;
  const body = h('tbody');
  const pager = h('p', { class: 'pager', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', onclick: () => draw(page - 1) }, 'Previous page');
  const next = h('button', { type: 'button', onclick: () => draw(page + 1) }, 'Next page');
  const filter = h('input', { type: 'search', id: 'fleet-filter', placeholder: 'serial, name or address' });
  filter.addEventListener('input', () => {
    shown = filterRows(rows, filter.value);
    draw(0);
  });

  const row = (r: FleetRow): HTMLTableRowElement =>
    h(
      'tr',
      { 'data-serial': r.serial ?? '' },
      h('th', { scope: 'row' }, h('a', { href: r.href }, r.serial ?? r.name ?? '?')),
      h('td', {}, r.where),
      h('td', {}, r.lastSeen ? h('time', { datetime: r.lastSeen, title: r.lastSeen }, ago(r.lastSeen, Date.now())) : '—'),
      h('td', {}, r.lastEvent ? `${r.lastEvent.timestamp ?? '—'} · PVS ${fmt(r.lastEvent.pvs_ips, 'in/s')}` : '—'),
      h('td', { class: 'num' }, fmt(r.batteryV, 'V')),
      h('td', { class: 'num' }, r.memoryUsedPct === null ? '—' : `${r.memoryUsedPct} %`),
      h('td', {}, r.monitoring === null ? '—' : r.monitoring ? 'on' : 'off'),
      h('td', { class: 'num' }, r.events),
      h('td', {}, ...r.marks.map((m) => h('span', { class: `mark mark-${m.replace(' ', '-')}` }, m))),
    );

  const draw = (p: number): void => {
    const view = pageOf(shown, p, PAGE);
    page = view.page;
    fill(body, ...view.items.map(row));
    pager.textContent = `${shown.length} unit${shown.length === 1 ? '' : 's'}${view.pages > 1 ? ` · page ${view.page + 1} of ${view.pages}` : ''}`;
    prev.disabled = view.page === 0;
    next.disabled = view.page >= view.pages - 1;
    prev.hidden = next.hidden = view.pages === 1;
  };

  fill(
    main,
    h('h1', {}, 'Fleet'),
    section(
      'Units',
      h('div', { class: 'toolbar' }, h('label', { for: 'fleet-filter' }, 'Filter'), filter),
      rows.length === 0 ? notice('No unit yet: configure devices, or let a unit call home.') : null,
      h(
        'table',
        { class: 'fleet' },
        h('caption', {}, 'Every unit sfm has read, newest activity first, then configured units not read yet'),
        h('thead', {}, h('tr', {}, ...['Serial', 'Where', 'Last seen', 'Last event', 'Battery', 'Memory used', 'Monitoring', 'Archived events', 'Marks'].map((c) => h('th', { scope: 'col' }, c)))),
        body,
      ),
      h('div', { class: 'pager-row' }, prev, pager, next),
    ),
  );
  draw(0);
}
