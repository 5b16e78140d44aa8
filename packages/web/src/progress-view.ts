/**
 * Long device work made visible: follows GET /device/progress (server-sent events — the reports
 * the CLI draws its progress line from) for one address and shows a progress bar while a sync, a
 * project-text read or a waveform download runs. The page never waits on it: requests go on as
 * they are, this only watches.
 */
import type { ProgressReport } from '@sfm/core';
import { h } from './dom.js';
import { addressQuery, progressFraction, progressText, type Address } from './logic.js';

export interface ProgressView {
  element: HTMLElement;
  close(): void;
}

/** `onIdle`: device work at the address has just ended (what the page shows may be out of date). */
export function followProgress(address: Address, onIdle?: () => void): ProgressView {
  let busy = false;
  const bar = h('progress', { max: '1', 'aria-label': 'device work' });
  const text = h('span', { class: 'progress-text' });
  const element = h('div', { class: 'progress', role: 'status', 'aria-live': 'polite', hidden: true }, text, bar);
  const source = new EventSource(`/device/progress?${addressQuery(address)}`);
  source.addEventListener('progress', (e) => {
    const p = JSON.parse((e as MessageEvent<string>).data) as ProgressReport;
    element.hidden = p.step === 'idle';
    if (p.step === 'idle' && busy) onIdle?.();
    busy = p.step !== 'idle';
    element.dataset.step = p.step;
    text.textContent = progressText(p);
    const f = progressFraction(p);
    if (f === null) bar.removeAttribute('value');
    else bar.value = f;
  });
  return { element, close: () => source.close() };
}
