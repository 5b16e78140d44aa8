/**
 * The event's charts: the four channels stacked (Tran, Vert, Long, MicL) with one time axis —
 * zoom and pan act on all four — the trigger line at t = 0 and each channel's peak marked; and
 * the compliance chart, PPV against frequency on log–log axes with each standard's curve (from
 * GET /analysis/curves) and each geophone channel's point (from the analysis).
 *
 * The waveform is drawn by uPlot, which aggregates the samples that fall on one pixel column, so
 * a 60-s 4-channel record at 4096 Sa/s (~1 M points) draws and zooms without thinning it first.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Analysis, StandardCurveView, Waveform } from '@sfm/core';
import { h } from './dom.js';
import { fmt } from './logic.js';

/** Channel colours, each at least 4.5:1 against white. */
export const CHANNEL_COLORS: Record<string, string> = { Tran: '#1f5fa8', Vert: '#a23b00', Long: '#2d6a1f', MicL: '#6b3fa0' };
const CURVE_COLORS = ['#b00020', '#444444', '#8a5a00', '#00607a'];

export interface WaveformCharts {
  element: HTMLElement;
  /** Resolves once every channel has been drawn the first time. */
  drawn: Promise<void>;
  destroy(): void;
}

/** The signed sample at a channel's peak (the waveform gives |peak| and its time). */
function peakSample(samples: ArrayLike<number>, t0: number, rate: number, tPeak: number): number {
  const i = Math.round((tPeak - t0) * rate);
  return samples[Math.min(samples.length - 1, Math.max(0, i))] ?? 0;
}

export function waveformCharts(w: Waveform, width: number): WaveformCharts {
  const n = Math.max(0, ...w.channels.map((c) => c.samples.length));
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = w.t0_s + i / w.sample_rate;
  const full = { min: t[0] ?? 0, max: t[n - 1] ?? 1 };
  const plots: uPlot[] = [];
  /** data-window: the time window shown (seconds from the trigger), the same on every channel. */
  const element = h('div', { class: 'waveform', 'data-window': `${full.min.toFixed(4)},${full.max.toFixed(4)}` });
  let syncing = false;
  let pending = w.channels.length;
  let resolveDrawn!: () => void;
  const drawn = new Promise<void>((resolve) => (resolveDrawn = resolve));

  /** Sets the time window of every channel (zoom, pan, reset). */
  const setWindow = (min: number, max: number): void => {
    const span = Math.max(max - min, 8 / w.sample_rate);
    let lo = Math.max(full.min, Math.min(min, full.max - span));
    const hi = Math.min(full.max, lo + span);
    lo = Math.max(full.min, hi - span);
    syncing = true;
    for (const p of plots) p.setScale('x', { min: lo, max: hi });
    syncing = false;
    element.dataset.window = `${lo.toFixed(4)},${hi.toFixed(4)}`;
  };
  const window = (): { min: number; max: number } => ({ min: plots[0]?.scales.x.min ?? full.min, max: plots[0]?.scales.x.max ?? full.max });

  const rows = w.channels.map((c) => {
    const samples = Float32Array.from(c.samples);
    const peakY = peakSample(samples, w.t0_s, w.sample_rate, c.peak.t_s);
    const color = CHANNEL_COLORS[c.name] ?? '#333';
    const holder = h('div', { class: 'channel', role: 'img', 'aria-label': `${c.name}: peak ${fmt(c.peak.value, c.unit)} at ${fmt(c.peak.t_s, 's')}` });
    const opts: uPlot.Options = {
      width,
      height: 130,
      legend: { show: false },
      cursor: { sync: { key: `wf-${w.serial}-${w.key}` }, drag: { x: true, y: false, setScale: true } },
      scales: { x: { time: false } },
      axes: [
        { stroke: '#333', grid: { stroke: '#e3e3e3' } },
        { stroke: '#333', grid: { stroke: '#e3e3e3' }, size: 60, label: `${c.name} (${c.unit})`, labelSize: 18 },
      ],
      series: [{}, { label: c.name, stroke: color, width: 1, points: { show: false } }],
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== 'x' || syncing) return;
            const { min, max } = u.scales.x;
            if (min !== undefined && max !== undefined) setWindow(min, max);
          },
        ],
        draw: [
          (u) => {
            const ctx = u.ctx;
            const { top, height } = u.bbox;
            ctx.save();
            // The trigger: t = 0.
            const x0 = u.valToPos(0, 'x', true);
            if (x0 >= u.bbox.left && x0 <= u.bbox.left + u.bbox.width) {
              ctx.strokeStyle = '#b00020';
              ctx.setLineDash([5, 4]);
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x0, top);
              ctx.lineTo(x0, top + height);
              ctx.stroke();
            }
            // The peak: a ring where it is.
            const px = u.valToPos(c.peak.t_s, 'x', true);
            const py = u.valToPos(peakY, 'y', true);
            if (px >= u.bbox.left && px <= u.bbox.left + u.bbox.width) {
              ctx.setLineDash([]);
              ctx.strokeStyle = '#000';
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.beginPath();
              ctx.arc(px, py, 5 * devicePixelRatio, 0, 2 * Math.PI);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
        ready: [
          () => {
            if (--pending === 0) resolveDrawn();
          },
        ],
      },
    };
    plots.push(new uPlot(opts, [t as unknown as number[], samples as unknown as number[]], holder));
    return holder;
  });
  if (w.channels.length === 0) resolveDrawn();

  const zoom = (factor: number): void => {
    const { min, max } = window();
    const mid = (min + max) / 2;
    const half = ((max - min) * factor) / 2;
    setWindow(mid - half, mid + half);
  };
  const pan = (fraction: number): void => {
    const { min, max } = window();
    const d = (max - min) * fraction;
    setWindow(min + d, max + d);
  };
  const button = (text: string, label: string, act: () => void): HTMLButtonElement => h('button', { type: 'button', 'aria-label': label, title: label, onclick: act }, text);
  const controls = h(
    'div',
    { class: 'chart-controls', role: 'toolbar', 'aria-label': 'Zoom and pan (also: drag across a chart to zoom; arrow keys, + and − when the charts have focus)' },
    button('−', 'Zoom out', () => zoom(2)),
    button('+', 'Zoom in', () => zoom(0.5)),
    button('←', 'Pan left', () => pan(-0.25)),
    button('→', 'Pan right', () => pan(0.25)),
    button('Reset zoom', 'Reset zoom', () => setWindow(full.min, full.max)),
  );
  const stack = h('div', { class: 'channels', tabindex: '0', 'aria-label': 'The four channels, one time axis' }, ...rows);
  stack.addEventListener('keydown', (e) => {
    const act: Record<string, () => void> = { ArrowLeft: () => pan(-0.1), ArrowRight: () => pan(0.1), '+': () => zoom(0.5), '=': () => zoom(0.5), '-': () => zoom(2), '0': () => setWindow(full.min, full.max) };
    const fn = act[e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  });
  element.append(controls, stack);
  return { element, drawn, destroy: () => plots.forEach((p) => p.destroy()) };
}

// --- the compliance chart -------------------------------------------------------------------------

const AXES = { minHz: 1, maxHz: 1000, minIps: 0.01, maxIps: 10 };

/** PPV against ZC frequency on log–log axes: the standards' curves and each geophone channel's point (SVG). */
export function complianceChart(analysis: Analysis, curves: readonly StandardCurveView[]): SVGSVGElement {
  const W = 520;
  const H = 340;
  const pad = { l: 56, r: 22, t: 12, b: 44 };
  const pw = W - pad.l - pad.r;
  const ph = H - pad.t - pad.b;
  const x = (hz: number): number => pad.l + (Math.log10(hz / AXES.minHz) / Math.log10(AXES.maxHz / AXES.minHz)) * pw;
  const y = (v: number): number => pad.t + ph - (Math.log10(v / AXES.minIps) / Math.log10(AXES.maxIps / AXES.minIps)) * ph;
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  const ns = 'http://www.w3.org/2000/svg';
  const el = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const points = analysis.channels.filter((c) => c.ppv_ips !== null && c.ppv_ips > 0);
  const summary = `Compliance chart: ${curves.map((c) => c.title).join(', ') || 'no standard'}; ${points.map((c) => `${c.name} ${fmt(c.ppv_ips, 'in/s')} at ${c.zc_freq_hz === null ? (c.zc_flag ?? '—') : fmt(c.zc_freq_hz, 'Hz')}`).join('; ')}`;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'compliance-chart', role: 'img', 'aria-label': summary });
  svg.append(el('title', {}, summary));
  // Grid: 1–9 × 10^k, decades darker.
  for (let d = AXES.minHz; d < AXES.maxHz; d *= 10) {
    for (let m = 1; m <= 9; m++) svg.append(el('line', { x1: x(d * m), x2: x(d * m), y1: pad.t, y2: pad.t + ph, stroke: m === 1 ? '#b5b5b5' : '#e6e6e6' }));
    svg.append(el('text', { x: x(d), y: pad.t + ph + 16, 'text-anchor': 'middle', class: 'tick' }, String(d)));
  }
  svg.append(el('text', { x: x(AXES.maxHz), y: pad.t + ph + 16, 'text-anchor': 'middle', class: 'tick' }, String(AXES.maxHz)));
  for (let d = AXES.minIps; d < AXES.maxIps * 0.999; d *= 10) {
    for (let m = 1; m <= 9; m++) svg.append(el('line', { x1: pad.l, x2: pad.l + pw, y1: y(d * m), y2: y(d * m), stroke: m === 1 ? '#b5b5b5' : '#e6e6e6' }));
    svg.append(el('text', { x: pad.l - 6, y: y(d) + 4, 'text-anchor': 'end', class: 'tick' }, String(Number(d.toPrecision(1)))));
  }
  svg.append(el('text', { x: pad.l - 6, y: y(AXES.maxIps) + 4, 'text-anchor': 'end', class: 'tick' }, String(AXES.maxIps)));
  svg.append(el('rect', { x: pad.l, y: pad.t, width: pw, height: ph, fill: 'none', stroke: '#333' }));
  svg.append(el('text', { x: pad.l + pw / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis' }, 'ZC frequency (Hz)'));
  svg.append(el('text', { x: 14, y: pad.t + ph / 2, 'text-anchor': 'middle', class: 'axis', transform: `rotate(-90 14 ${pad.t + ph / 2})` }, 'PPV (in/s)'));
  // Curves: corners joined by straight lines (every curve segment is straight on log–log axes).
  curves.forEach((c, i) => {
    const d = c.points
      .filter((p) => p.hz >= AXES.minHz && p.hz <= AXES.maxHz)
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.hz).toFixed(1)},${y(clamp(p.ips, AXES.minIps, AXES.maxIps)).toFixed(1)}`)
      .join(' ');
    if (d) svg.append(el('path', { d, fill: 'none', stroke: CURVE_COLORS[i % CURVE_COLORS.length]!, 'stroke-width': i === 0 ? 2.2 : 1.4, 'stroke-dasharray': i === 0 ? 'none' : '6 3', class: 'curve', 'data-standard': c.id }));
  });
  // Each geophone channel's point; a channel whose frequency is off the chart sits on its edge.
  for (const c of points) {
    const hz = c.zc_freq_hz ?? (c.zc_flag === 'gt_100' ? AXES.maxHz : c.zc_flag === 'lt_1' ? AXES.minHz : null);
    if (hz === null) continue;
    const g = el('g', { class: 'channel-point', 'data-channel': c.name });
    g.append(el('circle', { cx: x(clamp(hz, AXES.minHz, AXES.maxHz)), cy: y(clamp(c.ppv_ips!, AXES.minIps, AXES.maxIps)), r: 5.5, fill: CHANNEL_COLORS[c.name] ?? '#333', stroke: '#fff', 'stroke-width': 1.5 }));
    g.append(el('title', {}, `${c.name}: ${fmt(c.ppv_ips, 'in/s')} at ${c.zc_freq_hz === null ? c.zc_flag : fmt(c.zc_freq_hz, 'Hz')}`));
    svg.append(g);
  }
  return svg;
}

/** The legend of the compliance chart: curves and channels. */
export function complianceLegend(curves: readonly StandardCurveView[], analysis: Analysis): HTMLElement {
  return h(
    'ul',
    { class: 'legend' },
    ...curves.map((c, i) => h('li', {}, h('span', { class: 'swatch', style: `background:${CURVE_COLORS[i % CURVE_COLORS.length]}` }), `${c.title} — ${c.source}`)),
    ...analysis.channels.map((c) => h('li', {}, h('span', { class: 'swatch round', style: `background:${CHANNEL_COLORS[c.name]}` }), c.name)),
  );
}
