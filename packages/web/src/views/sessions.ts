/** Sessions: call-up syncs and units calling home (GET /db/sessions), a page at a time by the API's cursor. */
import type { SessionPage } from '@sfm/core';
import { getJson } from '../api.js';
import { h, fill, section } from '../dom.js';
import { fmt } from '../logic.js';

const PAGE = 50;

export async function sessionsView(main: HTMLElement): Promise<void> {
  const body = h('tbody');
  const more = h('button', { type: 'button' }, 'Load more');
  const count = h('p', { 'aria-live': 'polite' });
  let cursor: string | null = null;
  let total = 0;
  const load = async (): Promise<void> => {
    more.disabled = true;
    const page = await getJson<SessionPage>(`/db/sessions?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const s of page.sessions) {
      body.append(
        h(
          'tr',
          {},
          h('td', {}, h('time', { datetime: s.started_at }, s.started_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))),
          h('th', { scope: 'row' }, h('a', { href: `#/unit/${encodeURIComponent(s.serial)}` }, s.serial)),
          h('td', {}, s.kind),
          h('td', {}, s.peer),
          h('td', { class: 'num' }, fmt(s.duration_s, 's', 2)),
          h('td', { class: 'num' }, s.events_new),
          h('td', { class: 'num' }, s.waveforms_new),
          h('td', {}, s.erased ? 'yes' : 'no'),
          h('td', {}, h('span', { class: s.result === 'ok' ? 'ok' : 'mark mark-unreachable' }, s.result)),
          h('td', {}, s.capture ?? '—'),
        ),
      );
    }
    total += page.sessions.length;
    cursor = page.next_cursor;
    more.hidden = cursor === null;
    more.disabled = false;
    count.textContent = `${total} session${total === 1 ? '' : 's'} shown${cursor ? ' (more to load)' : ''}`;
  };
  more.addEventListener('click', () => void load());
  fill(
    main,
    h('h1', {}, 'Sessions'),
    section(
      'Call-up syncs and call-home sessions',
      h(
        'table',
        {},
        h('caption', {}, 'Newest first'),
        h('thead', {}, h('tr', {}, ...['Started (UTC)', 'Unit', 'Kind', 'Peer', 'Duration', 'New events', 'New waveforms', 'Erased', 'Result', 'Capture'].map((c) => h('th', { scope: 'col' }, c)))),
        body,
      ),
      count,
      more,
    ),
  );
  await load();
}
