/**
 * One event: its header and peaks, the four channels, the analysis table and the compliance
 * chart, links to the CSV and the PDF report, and the operator's review (false trigger, notes).
 * A live event (by index on the unit) is read through /device/event/{idx}/…, an archived one
 * through /db/events/{id}/…; a live event already in the archive is reviewed there too.
 */
import type { Analysis, ArchivedEvent, ArchivedEventPage, ConfiguredDevice, Event, StandardCurveView, Unit, Waveform } from '@sfm/core';
import { ApiError, getJson, getServed, sendJson } from '../api.js';
import { complianceChart, complianceLegend, waveformCharts, type WaveformCharts } from '../charts.js';
import { facts, fill, h, notice, section } from '../dom.js';
import { addressOf, addressQuery, fmt } from '../logic.js';
import { followProgress } from '../progress-view.js';

interface Sources {
  waveform: string;
  analysis: string;
  csv: string;
  pdf: string;
}

function analysisTable(a: Analysis): HTMLElement {
  const th = (t: string): HTMLElement => h('th', { scope: 'col' }, t);
  const zc = (hz: number | null, flag: string | null): string => (hz !== null ? fmt(hz, 'Hz') : flag === 'gt_100' ? '>100 Hz' : flag === 'lt_1' ? '<1 Hz' : '—');
  const primary = a.compliance[0];
  return h(
    'div',
    {},
    h(
      'table',
      { class: 'analysis' },
      h('caption', {}, `Figures per channel${primary ? `; limits of ${primary.standard}` : ''}`),
      h('thead', {}, h('tr', {}, th('Channel'), th('PPV'), th('at'), th('ZC frequency'), th('Peak accel.'), th('Peak displ.'), th('FFT dominant'), th('Limit'), th('Margin'))),
      h(
        'tbody',
        {},
        ...a.channels.map((c) => {
          const j = primary?.channels.find((x) => x.name === c.name);
          return h(
            'tr',
            {},
            h('th', { scope: 'row' }, c.name),
            h('td', { class: 'num' }, fmt(c.ppv_ips, 'in/s')),
            h('td', { class: 'num' }, fmt(c.ppv_t_s, 's')),
            h('td', { class: 'num' }, zc(c.zc_freq_hz, c.zc_flag)),
            h('td', { class: 'num' }, fmt(c.peak_accel_g, 'g')),
            h('td', { class: 'num' }, fmt(c.peak_disp_in, 'in')),
            h('td', { class: 'num' }, fmt(c.dominant_freq_hz, 'Hz')),
            h('td', { class: 'num' }, fmt(j?.limit_ips ?? null, 'in/s')),
            h('td', { class: 'num' }, j?.margin === null || j?.margin === undefined ? '—' : `${Math.round(j.margin * 100)} %`),
          );
        }),
        h('tr', {}, h('th', { scope: 'row' }, 'MicL'), h('td', { class: 'num' }, fmt(a.mic.pspl_psi, 'psi')), h('td', { class: 'num' }, fmt(a.mic.t_s, 's')), h('td', { class: 'num' }, zc(a.mic.zc_freq_hz, a.mic.zc_flag)), h('td', { colspan: '3' }, `${fmt(a.mic.pspl_db, 'dB(L)')}`), h('td', { class: 'num' }, a.air_blast ? `${a.air_blast.limit_db} dB` : '—'), h('td', { class: 'num' }, a.air_blast?.margin == null ? '—' : `${Math.round(a.air_blast.margin * 100)} %`)),
      ),
    ),
    facts([
      ['Peak vector sum', `${fmt(a.pvs.ips, 'in/s')} at ${fmt(a.pvs.t_s, 's')}`],
      ...a.compliance.map((r): [string, string] => [r.standard, r.verdict]),
      ...(a.air_blast ? [[a.air_blast.standard, a.air_blast.verdict] as [string, string]] : []),
    ]),
  );
}

function reviewForm(e: ArchivedEvent): HTMLElement {
  const box = h('input', { type: 'checkbox', id: 'false-trigger' });
  box.checked = e.false_trigger;
  const notes = h('textarea', { id: 'review-notes', rows: '2', maxlength: '4000' });
  notes.value = e.notes ?? '';
  const status = h('p', { role: 'status', class: 'form-status' });
  const save = async (body: Record<string, unknown>): Promise<void> => {
    status.textContent = 'Saving…';
    try {
      const now = await sendJson<ArchivedEvent>('PATCH', `/db/events/${e.id}`, body);
      box.checked = now.false_trigger;
      status.textContent = now.false_trigger ? 'Marked as a false trigger.' : 'Saved.';
    } catch (err) {
      box.checked = e.false_trigger;
      status.textContent = `Not saved: ${(err as Error).message}`;
    }
  };
  box.addEventListener('change', () => void save({ false_trigger: box.checked }));
  return h(
    'div',
    { class: 'review' },
    h('div', { class: 'field check' }, box, h('label', { for: 'false-trigger' }, 'False trigger')),
    h('div', { class: 'field' }, h('label', { for: 'review-notes' }, 'Notes'), notes, h('button', { type: 'button', onclick: () => void save({ notes: notes.value || null }) }, 'Save notes')),
    status,
  );
}

async function eventDetail(main: HTMLElement, title: string, header: HTMLElement, src: Sources, archived: ArchivedEvent | undefined, progress: HTMLElement | null, cleanup: (fn: () => void) => void): Promise<void> {
  const wave = h('div', { class: 'waveform-holder' });
  const analysis = h('div');
  const chart = h('div');
  fill(
    main,
    h('h1', {}, title),
    progress,
    section('Event', header, h('p', { class: 'links' }, h('a', { href: src.csv, download: '' }, 'Waveform as CSV'), ' · ', h('a', { href: src.pdf, target: '_blank', rel: 'noopener' }, 'Report (PDF)'))),
    archived ? section('Review', reviewForm(archived)) : null,
    section('Waveform', wave),
    section('Analysis', analysis),
    section('Compliance', chart),
  );
  fill(wave, h('p', { class: 'loading' }, 'Loading the waveform (a download from the unit can take minutes over a modem)…'));
  fill(analysis, h('p', { class: 'loading' }, 'Loading…'));

  const waveform = getJson<Waveform>(src.waveform).then(
    (w) => {
      performance.mark('sfm:waveform-received');
      const charts: WaveformCharts = waveformCharts(w, Math.max(320, Math.min(1200, wave.clientWidth || main.clientWidth || 900)));
      cleanup(charts.destroy);
      fill(wave, charts.element);
      return charts.drawn.then(() => {
        performance.mark('sfm:waveform-plotted');
        wave.dataset.plotted = 'true';
      });
    },
    (e: Error) => fill(wave, notice(e.message, 'error')),
  );
  const analysed = Promise.all([getJson<Analysis>(src.analysis), getJson<StandardCurveView[]>('/analysis/curves')]).then(
    ([a, curves]) => {
      fill(analysis, analysisTable(a));
      fill(chart, complianceChart(a, curves), complianceLegend(curves, a));
    },
    (e: Error) => {
      const text = e instanceof ApiError && e.status === 404 && e.message.includes('no such route') ? 'This server gives no analysis of archived events yet.' : e.message;
      fill(analysis, notice(text, 'error'));
      fill(chart, notice('No analysis, no chart.', 'info'));
    },
  );
  await Promise.all([waveform, analysed]);
}

function eventFacts(e: Event | ArchivedEvent): HTMLElement {
  return facts([
    ['Recorded (unit time)', e.timestamp],
    ['Key', e.key],
    ['Type', e.record_type],
    ['Sample rate', e.sample_rate === null ? '—' : `${e.sample_rate} Sa/s`],
    ['Record time', fmt(e.record_time_s, 's')],
    ['PVS (unit)', fmt(e.peaks.pvs_ips, 'in/s')],
    ['Tran / Vert / Long', `${fmt(e.peaks.tran_ips)} / ${fmt(e.peaks.vert_ips)} / ${fmt(e.peaks.long_ips)} in/s`],
    ['Mic', fmt(e.peaks.mic_psi, 'psi')],
    ['Project', e.project.project],
    ['Client', e.project.client],
    ['Operator', e.project.operator],
    ['Sensor location', e.project.sensor_location],
  ]);
}

/** An event the unit holds now, by its index. */
export async function liveEventView(main: HTMLElement, serial: string, index: number, cleanup: (fn: () => void) => void): Promise<void> {
  const devices = await getJson<ConfiguredDevice[]>('/devices');
  const unit = await getJson<Unit>(`/db/units/${encodeURIComponent(serial)}`).catch(() => undefined);
  const address = addressOf(serial, unit?.last_address ?? null, devices);
  if (!address) {
    fill(main, h('h1', {}, `Event ${index}`), notice(`No address known for unit ${serial}.`, 'error'));
    return;
  }
  const q = addressQuery(address);
  const progress = followProgress(address);
  cleanup(progress.close);
  const event = (await getServed<Event>(`/device/event/${index}?${q}`)).value;
  // The same event in the archive (serial, timestamp, key), for the review.
  let archived: ArchivedEvent | undefined;
  if (event.timestamp) {
    const page = await getJson<ArchivedEventPage>(`/db/events?serial=${encodeURIComponent(serial)}&from=${event.timestamp}&to=${event.timestamp}&limit=10`).catch(() => undefined);
    archived = page?.events.find((e) => e.key === event.key);
  }
  const base = `/device/event/${index}`;
  await eventDetail(
    main,
    `Event ${index} of unit ${serial}`,
    eventFacts(event),
    { waveform: `${base}/waveform?${q}`, analysis: `${base}/analysis?${q}`, csv: `${base}/waveform?${q}&format=csv`, pdf: `${base}/report.pdf?${q}` },
    archived,
    progress.element,
    cleanup,
  );
}

/** An event of the archive, by its id. */
export async function archivedEventView(main: HTMLElement, id: number, cleanup: (fn: () => void) => void): Promise<void> {
  const e = await getJson<ArchivedEvent>(`/db/events/${id}`);
  const base = `/db/events/${id}`;
  if (!e.has_waveform) {
    fill(main, h('h1', {}, `Archived event ${id} of unit ${e.serial}`), section('Event', eventFacts(e)), section('Review', reviewForm(e)), notice('Its waveform was never downloaded.'));
    return;
  }
  await eventDetail(
    main,
    `Archived event ${id} of unit ${e.serial}`,
    h('div', {}, eventFacts(e), h('p', {}, h('a', { href: `#/unit/${encodeURIComponent(e.serial)}` }, `Unit ${e.serial}`), ` · received ${e.received_at} (${e.source})`)),
    { waveform: `${base}/waveform`, analysis: `${base}/analysis`, csv: `${base}/waveform?format=csv`, pdf: `${base}/report.pdf` },
    e,
    null,
    cleanup,
  );
}
