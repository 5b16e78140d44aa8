/** The web application: hash routes to views, each built on the HTTP API alone. */
import { setTokenPrompt } from './api.js';
import { askToken } from './dialogs.js';
import { fill, notice } from './dom.js';
import { parseRoute } from './logic.js';
import { archivedEventView, liveEventView } from './views/event.js';
import { fleetView } from './views/fleet.js';
import { sessionsView } from './views/sessions.js';
import { unitView } from './views/unit.js';
import './style.css';

setTokenPrompt(askToken);
const main = document.getElementById('main')!;
let cleanups: (() => void)[] = [];
let generation = 0;

async function render(): Promise<void> {
  const mine = ++generation;
  for (const fn of cleanups.splice(0)) fn();
  const cleanup = (fn: () => void): void => void (mine === generation ? cleanups.push(fn) : fn());
  const route = parseRoute(location.hash);
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#/${route.view === 'sessions' ? 'sessions' : ''}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.setAttribute('aria-busy', 'true');
  fill(main, notice('Loading…'));
  try {
    switch (route.view) {
      case 'fleet':
        await fleetView(main);
        break;
      case 'sessions':
        await sessionsView(main);
        break;
      case 'unit':
        await unitView(main, { serial: route.serial }, cleanup);
        break;
      case 'device':
        await unitView(main, { name: route.name }, cleanup);
        break;
      case 'live-event':
        await liveEventView(main, route.serial, route.index, cleanup);
        break;
      case 'archived-event':
        await archivedEventView(main, route.id, cleanup);
        break;
    }
  } catch (e) {
    if (mine === generation) fill(main, notice(e instanceof Error ? e.message : String(e), 'error'));
  } finally {
    main.removeAttribute('aria-busy');
    if (mine === generation) performance.mark(`sfm:view-${route.view}`);
  }
}

window.addEventListener('hashchange', () => {
  void render();
  main.focus();
});
void render();
