/**
 * The one-page event report (analysis.md §3): a vector PDF, US Letter landscape, drawn with
 * pdfkit's standard fonts (nothing embedded). Top to bottom: header, figures table beside the
 * vector sum, microphone and verdict, then the four traces beside the log–log compliance chart,
 * and a footer naming the sfm version and the standards.
 */
import PDFDocument from 'pdfkit';
import type { Event, ProjectText, Waveform, WaveformChannel } from '@sfm/core';
import {
  AIR_BLAST_LIMITS, FFT_MAX_WINDOW, STANDARD_CURVE_IDS, limitAt, standardCurve, worstVerdict,
  type Analysis, type ChannelAnalysis, type ComplianceCurve, type ComplianceResult, type StandardCurveId, type Verdict,
} from '@sfm/core/analysis';
import { GEO_RANGES } from '@sfm/core/schema';
import { geoFullScaleIps } from '@sfm/core/protocol';
import { decimateMinMax } from './decimate.js';
import { UNKNOWN, decimalsFor, fixed, ips, niceStep, text, verdictText, zcFrequency } from './format.js';

/**
 * The event's header fields the report prints: an `Event` as /device/events lists it (or the
 * archive's ArchivedEvent, which has these fields and received_at) will do.
 */
export type ReportEvent = Pick<Event, 'key' | 'timestamp'> &
  Partial<Pick<Event, 'record_type' | 'record_time_s' | 'trigger_level_ips' | 'project'>> & {
    /** When sfm received the event, ISO 8601 UTC. */
    received_at?: string | null;
  };

/** What is known of the unit besides the event: its firmware and its setup now. */
export interface ReportUnit {
  firmware?: string | null;
  /** The geophone trigger level of the unit's setup now, printed as such when the event does not give its own. */
  trigger_level_ips?: number | null;
  mic_trigger_psi?: number | null;
}

export interface ReportInput {
  event: ReportEvent;
  waveform: Waveform;
  /** analyse(waveform, options): its first standard's limits and margins fill the table. */
  analysis: Analysis;
  /**
   * The curves the analysis was judged against (options.curves), to draw on the chart. A standard
   * not given here is drawn from its id when it is a fixed one (the USBM curves, the OSMRE chart).
   */
  curves?: readonly ComplianceCurve[];
  unit?: ReportUnit | null;
  /** The sfm version, printed in the footer. */
  version: string;
}

type GeophoneName = ChannelAnalysis['name'];
type Doc = PDFKit.PDFDocument;

const PAGE_W = 792; // US Letter, landscape
const PAGE_H = 612;
const MARGIN = 30;
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const COLOR = {
  text: '#111111',
  muted: '#5a5a5a',
  rule: '#9a9a9a',
  grid: '#d4d4d4',
  gridMinor: '#ececec',
  shade: '#f3f3f3',
  trace: '#1a1a1a',
  trigger: '#c62828',
  peak: '#c62828',
  verdict: { pass: '#2e7d32', fail: '#c62828', 'n/a': '#6d6d6d' } satisfies Record<Verdict, string>,
};
const CURVE_COLORS = ['#1f4e9c', '#8a5a00', '#6a1b9a', '#00796b'];
const CHANNEL_STYLE: Record<GeophoneName, { color: string; marker: 'circle' | 'square' | 'diamond' }> = {
  Tran: { color: '#1565c0', marker: 'circle' },
  Vert: { color: '#2e7d32', marker: 'square' },
  Long: { color: '#e65100', marker: 'diamond' },
};
const TRACE_ORDER = ['Tran', 'Vert', 'Long', 'MicL'] as const;

/** The curve drawn for each standard the analysis judged (null when its geometry is not known here). */
function curvesOf(input: ReportInput): (ComplianceCurve | null)[] {
  return input.analysis.compliance.map((r) => {
    const given = input.curves?.find((c) => c.id === r.standard);
    if (given) return given;
    const fixed = r.standard !== 'osmre-distance' && (STANDARD_CURVE_IDS as readonly string[]).includes(r.standard);
    return fixed ? standardCurve(r.standard as StandardCurveId) : null;
  });
}

/** The overall verdict: the worst over the standards and the air-blast limit. */
function overall(analysis: Analysis): Verdict {
  return worstVerdict([...analysis.compliance.map((r) => r.verdict), ...(analysis.air_blast ? [analysis.air_blast.verdict] : [])]);
}

/** A standard's name for people: the curve's title, else its id. */
function titleOf(result: ComplianceResult, curve: ComplianceCurve | null): string {
  return curve?.title ?? result.standard;
}

export function renderReport(input: ReportInput): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'LETTER',
    layout: 'landscape',
    margin: 0,
    info: { Title: `Event report ${input.analysis.serial} ${input.event.key}`, Creator: `sfm ${input.version}`, Producer: `sfm ${input.version}` },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const curves = curvesOf(input);

  drawHeader(doc, input);
  drawFigures(doc, input, curves, 116);
  drawTraces(doc, input, { x: MARGIN, y: 244, width: 448, height: 298 });
  drawChart(doc, input, curves, { x: 500, y: 238, width: 262, height: 318 });
  drawFooter(doc, input, curves);
  doc.end();
  return done;
}

// ---- text helpers -------------------------------------------------------------------------------

interface TextStyle {
  size?: number;
  bold?: boolean;
  color?: string;
  /** Truncate with an ellipsis to this width; with `align`, the box to align in. */
  width?: number;
  align?: 'left' | 'right' | 'center';
}

function put(doc: Doc, value: string, x: number, y: number, style: TextStyle = {}): void {
  doc.font(style.bold ? BOLD : FONT).fontSize(style.size ?? 8).fillColor(style.color ?? COLOR.text);
  const shown = style.width === undefined ? value : fit(doc, value, style.width);
  let left = x;
  if (style.width !== undefined && style.align === 'right') left = x + style.width - doc.widthOfString(shown);
  if (style.width !== undefined && style.align === 'center') left = x + (style.width - doc.widthOfString(shown)) / 2;
  doc.text(shown, left, y, { lineBreak: false });
}

function fit(doc: Doc, value: string, width: number): string {
  if (doc.widthOfString(value) <= width) return value;
  let cut = value.length;
  while (cut > 0 && doc.widthOfString(`${value.slice(0, cut)}…`) > width) cut--;
  return `${value.slice(0, cut)}…`;
}

function rule(doc: Doc, y: number): void {
  doc.moveTo(MARGIN, y).lineTo(PAGE_W - MARGIN, y).lineWidth(0.6).strokeColor(COLOR.rule).stroke();
}

/** "2026-04-09T07:15:00" → "2026-04-09 07:15:00"; an ISO instant → "… UTC". */
function dateTime(value: string | null | undefined, utc: boolean): string {
  if (!value) return UNKNOWN;
  if (!utc) return value.replace('T', ' ');
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? value : `${parsed.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

// ---- header -------------------------------------------------------------------------------------

/** The geophone range the waveform was recorded in, from its full scale. */
function geoRangeOf(w: Waveform): string {
  const fullScale = w.channels.find((c) => c.name !== 'MicL')?.full_scale;
  if (fullScale === undefined) return UNKNOWN;
  const range = GEO_RANGES.find((r) => geoFullScaleIps(r) === fullScale);
  return `${range ?? 'full scale'}, ${fixed(fullScale, 2)} in/s${range ? ' full scale' : ''}`;
}

function drawHeader(doc: Doc, input: ReportInput): void {
  const { waveform: w, event, unit } = input;
  put(doc, 'Vibration Event Report', MARGIN, 24, { size: 15, bold: true });
  put(doc, `Unit ${input.analysis.serial}   Event ${event.key}`, MARGIN, 27, { size: 11, bold: true, width: PAGE_W - 2 * MARGIN, align: 'right' });
  rule(doc, 46);

  const geophoneSamples = w.channels.find((c) => c.name === 'Tran')?.samples.length ?? 0;
  const recordTime = event.record_time_s ?? (geophoneSamples > 0 ? (geophoneSamples - w.pretrigger_samples) / w.sample_rate : null);
  const project: Partial<ProjectText> = event.project ?? {};
  // The event's own trigger level when it gives one; else the unit's setup now, said so.
  const trigger = event.trigger_level_ips != null ? `${ips(event.trigger_level_ips)} in/s` : unit?.trigger_level_ips != null ? `${ips(unit.trigger_level_ips)} in/s (setup now)` : UNKNOWN;
  const columns: { x: number; labelWidth: number; valueWidth: number; rows: [string, string][] }[] = [
    {
      x: MARGIN,
      labelWidth: 96,
      valueWidth: 150,
      rows: [
        ['Unit serial', input.analysis.serial],
        ['Firmware', text(unit?.firmware)],
        ['Event key', `${event.key}${event.record_type ? ` (${event.record_type.replace('_', ' ')})` : ''}`],
        ['Event time (unit local)', dateTime(event.timestamp, false)],
        ['Received (UTC)', dateTime(event.received_at, true)],
      ],
    },
    {
      x: 290,
      labelWidth: 80,
      valueWidth: 180,
      rows: [
        ['Project', text(project.project)],
        ['Client', text(project.client)],
        ['Operator', text(project.operator)],
        ['Sensor location', text(project.sensor_location)],
        ['Notes', text(project.notes)],
      ],
    },
    {
      x: 565,
      labelWidth: 92,
      valueWidth: 105,
      rows: [
        ['Sample rate', `${w.sample_rate} Sa/s`],
        ['Record time', recordTime === null ? UNKNOWN : `${fixed(recordTime, 2)} s + ${fixed(w.pretrigger_samples / w.sample_rate, 3)} s pretrigger`],
        ['Geophone range', geoRangeOf(w)],
        ['Geo trigger level', trigger],
        ['Mic trigger level', unit?.mic_trigger_psi == null ? UNKNOWN : `${fixed(unit.mic_trigger_psi, 5)} psi (setup now)`],
      ],
    },
  ];
  for (const column of columns) {
    column.rows.forEach(([label, value], i) => {
      const y = 52 + i * 11.5;
      put(doc, label, column.x, y, { color: COLOR.muted, width: column.labelWidth - 4 });
      put(doc, value, column.x + column.labelWidth, y, { bold: true, width: column.valueWidth });
    });
  }
  rule(doc, 112);
}

// ---- figures ------------------------------------------------------------------------------------

/** "PASS", "FAIL", "N/A" and, when it was judged, the largest margin and its channel. */
function resultLine(r: ComplianceResult): string {
  const worst = r.channels.reduce<{ name: string; margin: number } | null>((best, c) => (c.margin !== null && (best === null || c.margin > best.margin) ? { name: c.name, margin: c.margin } : best), null);
  const why = r.verdict === 'n/a' ? 'not judged on every channel (no frequency to read a limit at, or no limit there)' : worst ? `largest margin ${worst.margin.toFixed(2)} (${worst.name})` : '';
  return `${verdictText(r.verdict)}${why ? `   ${why}` : ''}`;
}

function drawFigures(doc: Doc, input: ReportInput, curves: readonly (ComplianceCurve | null)[], top: number): void {
  const { analysis } = input;
  const primary = analysis.compliance[0];
  const rowHeight = 12;
  const labelWidth = 136;
  const columnWidth = 78;
  const byName = (name: GeophoneName): ChannelAnalysis | undefined => analysis.channels.find((c) => c.name === name);
  const judgedByName = (name: GeophoneName) => primary?.channels.find((c) => c.name === name);
  const rows: [string, (name: GeophoneName) => string][] = [
    ['PPV (in/s)', (n) => ips(byName(n)?.ppv_ips)],
    ['ZC frequency (Hz)', (n) => zcFrequency(byName(n)?.zc_freq_hz ?? null, byName(n)?.zc_flag ?? 'n/a')],
    ['Time of peak (s)', (n) => fixed(byName(n)?.ppv_t_s, 3)],
    ['Peak acceleration (g)', (n) => fixed(byName(n)?.peak_accel_g, 3)],
    ['Peak displacement (in)', (n) => fixed(byName(n)?.peak_disp_in, 5)],
    ['FFT dominant frequency (Hz)', (n) => fixed(byName(n)?.dominant_freq_hz, 1)],
    ['Limit at ZC frequency (in/s) *', (n) => fixed(judgedByName(n)?.limit_ips, 3)],
    ['Margin (PPV / limit) *', (n) => fixed(judgedByName(n)?.margin, 2)],
  ];
  const names: GeophoneName[] = ['Tran', 'Vert', 'Long'];
  const tableWidth = labelWidth + names.length * columnWidth;
  doc.rect(MARGIN, top, tableWidth, rowHeight).fill(COLOR.shade);
  names.forEach((name, i) => put(doc, name, MARGIN + labelWidth + i * columnWidth, top + 2.5, { bold: true, size: 8.5, color: CHANNEL_STYLE[name].color, width: columnWidth - 6, align: 'right' }));
  rows.forEach(([label, value], r) => {
    const y = top + (r + 1) * rowHeight;
    if (r % 2 === 1) doc.rect(MARGIN, y, tableWidth, rowHeight).fill(COLOR.shade);
    put(doc, label, MARGIN + 4, y + 2.5, { color: COLOR.muted, width: labelWidth - 8 });
    names.forEach((name, i) => put(doc, value(name), MARGIN + labelWidth + i * columnWidth, y + 2.5, { bold: r === 0, size: 8.5, width: columnWidth - 6, align: 'right' }));
  });
  const footnote = primary ? `* against ${titleOf(primary, curves[0] ?? null)}` : '* no standard was asked for';
  put(doc, footnote, MARGIN + 4, top + (rows.length + 1) * rowHeight + 2, { size: 6.5, color: COLOR.muted, width: tableWidth - 8 });

  // Right of the table: vector sum, microphone and air blast, verdict.
  const x = MARGIN + tableWidth + 24;
  const width = PAGE_W - MARGIN - x;
  const { pvs, mic } = analysis;
  put(doc, 'Peak Vector Sum', x, top + 1, { bold: true, size: 8.5 });
  put(doc, `${ips(pvs.ips)} in/s   at ${fixed(pvs.t_s, 3)} s`, x + 104, top + 1, { size: 8.5, width: width - 104 });
  put(doc, 'Microphone (MicL)', x, top + 15, { bold: true, size: 8.5 });
  put(doc, `PSPL ${fixed(mic.pspl_psi, 5)} psi = ${fixed(mic.pspl_db, 1)} dB(L)   at ${fixed(mic.t_s, 3)} s`, x + 104, top + 15, { size: 8.5, width: width - 104 });
  put(doc, `ZC frequency ${zcFrequency(mic.zc_freq_hz, mic.zc_flag)} Hz`, x + 104, top + 27, { size: 8.5, width: width - 104 });
  const ab = analysis.air_blast;
  const limit = ab && AIR_BLAST_LIMITS.find((l) => l.id === ab.standard);
  const airBlast = ab
    ? `Air blast: ${fixed(ab.pspl_db, 1)} dB(L) against ${ab.limit_db} dB${limit?.weighting === 'C' ? 'C' : ''} (${limit?.system ?? ab.standard}): margin ${fixed(ab.margin, 2)}, ${verdictText(ab.verdict)}`
    : 'Air blast: not judged';
  put(doc, airBlast, x, top + 41, { size: 7, color: COLOR.muted, width });

  // The verdict: the worst over everything judged, then each standard's.
  const boxTop = top + 58;
  const boxHeight = 52;
  const verdict = overall(analysis);
  const color = COLOR.verdict[verdict];
  doc.roundedRect(x, boxTop, width, boxHeight, 3).lineWidth(1.2).strokeColor(color).stroke();
  put(doc, 'Verdict', x + 8, boxTop + 6, { bold: true, size: 8.5 });
  put(doc, verdictText(verdict), x + 8, boxTop + 20, { bold: true, size: 18, color });
  const lines = analysis.compliance.map((r, i) => `${titleOf(r, curves[i] ?? null)}: ${resultLine(r)}`);
  if (ab) lines.push(`Air blast ${ab.limit_db} dB: ${verdictText(ab.verdict)}`);
  const room = 4;
  const shown = lines.length > room ? [...lines.slice(0, room - 1), `… and ${lines.length - room + 1} more (see the chart)`] : lines;
  shown.forEach((line, i) => put(doc, line, x + 72, boxTop + 7 + i * 10, { size: 7, bold: i === 0 && analysis.compliance.length > 0, color: i === 0 ? COLOR.text : COLOR.muted, width: width - 80 }));
}

// ---- traces -------------------------------------------------------------------------------------

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k at or above `value`: a round full scale the trace nearly fills. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8]) if (m * power >= value * (1 - 1e-12)) return Number((m * power).toPrecision(6));
  return 10 * power;
}

function drawTraces(doc: Doc, input: ReportInput, box: Box): void {
  const { waveform: w, analysis } = input;
  const labelWidth = 50;
  const plot = { x: box.x + labelWidth, width: box.width - labelWidth };
  const axisHeight = 26;
  const gap = 6;
  const panelHeight = (box.height - axisHeight - gap * (TRACE_ORDER.length - 1)) / TRACE_ORDER.length;
  const longest = Math.max(1, ...w.channels.map((c) => c.samples.length));
  const t0 = w.t0_s;
  const t1 = w.t0_s + (longest - 1) / w.sample_rate;
  const xOf = (t: number): number => plot.x + ((t - t0) / (t1 - t0 || 1)) * plot.width;

  const geoPeak = Math.max(0, ...analysis.channels.map((c) => c.ppv_ips ?? 0));
  const scales = {
    geo: niceCeiling(geoPeak > 0 ? geoPeak * 1.08 : (w.channels.find((c) => c.name === 'Tran')?.full_scale ?? 1)),
    mic: niceCeiling(analysis.mic.pspl_psi ? analysis.mic.pspl_psi * 1.08 : (w.channels.find((c) => c.name === 'MicL')?.full_scale ?? 1)),
  };
  const tickStep = niceStep(t1 - t0, 8);
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / tickStep) * tickStep; t <= t1 + 1e-9; t += tickStep) ticks.push(Math.abs(t) < 1e-12 ? 0 : t);

  TRACE_ORDER.forEach((name, i) => {
    const top = box.y + i * (panelHeight + gap);
    const mid = top + panelHeight / 2;
    const isMic = name === 'MicL';
    const scale = isMic ? scales.mic : scales.geo;
    const unit = isMic ? 'psi' : 'in/s';
    const channel: WaveformChannel | undefined = w.channels.find((c) => c.name === name);
    const peak = isMic ? { value: analysis.mic.pspl_psi, t: analysis.mic.t_s } : (() => {
      const c = analysis.channels.find((a) => a.name === name);
      return { value: c?.ppv_ips ?? null, t: c?.ppv_t_s ?? null };
    })();

    // Frame, time grid, zero line.
    doc.lineWidth(0.4);
    for (const t of ticks) doc.moveTo(xOf(t), top).lineTo(xOf(t), top + panelHeight).strokeColor(COLOR.gridMinor).stroke();
    doc.moveTo(plot.x, mid).lineTo(plot.x + plot.width, mid).strokeColor(COLOR.grid).stroke();
    doc.rect(plot.x, top, plot.width, panelHeight).lineWidth(0.5).strokeColor(COLOR.rule).stroke();

    put(doc, name, box.x, top + panelHeight / 2 - 10, { bold: true, size: 9, color: isMic ? COLOR.text : CHANNEL_STYLE[name as GeophoneName].color });
    put(doc, `±${scale} ${unit}`, box.x, top + panelHeight / 2 + 1, { size: 6.5, color: COLOR.muted });

    if (!channel || channel.samples.length === 0) {
      put(doc, 'no samples', plot.x, mid - 4, { size: 7, color: COLOR.muted, width: plot.width, align: 'center' });
      return;
    }
    const yOf = (v: number): number => mid - (Math.max(-scale, Math.min(scale, v)) / scale) * (panelHeight / 2 - 1);
    const line = decimateMinMax(channel.samples, Math.round(plot.width));
    doc.save();
    doc.rect(plot.x, top, plot.width, panelHeight).clip();
    for (let k = 0; k < line.index.length; k++) {
      const x = xOf(t0 + line.index[k]! / w.sample_rate);
      const y = yOf(line.value[k]!);
      if (k === 0) doc.moveTo(x, y);
      else doc.lineTo(x, y);
    }
    doc.lineWidth(0.5).lineJoin('round').strokeColor(COLOR.trace).stroke();
    doc.restore();

    if (peak.value !== null && peak.t !== null) {
      const index = Math.round((peak.t - t0) * w.sample_rate);
      const px = xOf(peak.t);
      const py = yOf(channel.samples[index] ?? 0);
      doc.circle(px, py, 2.2).lineWidth(0.8).strokeColor(COLOR.peak).stroke();
      const label = isMic ? `${fixed(peak.value, 5)} psi` : `${ips(peak.value)} in/s`;
      doc.font(FONT).fontSize(6.5);
      const labelX = px + 4 + doc.widthOfString(label) > plot.x + plot.width ? px - 4 - doc.widthOfString(label) : px + 4;
      const labelY = Math.min(Math.max(py - 3.5, top + 1), top + panelHeight - 8);
      put(doc, label, labelX, labelY, { size: 6.5, color: COLOR.peak });
    }
  });

  // The trigger (t = 0) across every panel.
  const bottom = box.y + TRACE_ORDER.length * panelHeight + (TRACE_ORDER.length - 1) * gap;
  if (t0 <= 0 && t1 >= 0) {
    doc.save();
    doc.moveTo(xOf(0), box.y - 2).lineTo(xOf(0), bottom).dash(3, { space: 2 }).lineWidth(0.7).strokeColor(COLOR.trigger).stroke();
    doc.restore();
    put(doc, 'Trigger', xOf(0) - 20, box.y - 10, { size: 6.5, color: COLOR.trigger, width: 40, align: 'center' });
  }

  const decimals = decimalsFor(tickStep);
  for (const t of ticks) {
    doc.moveTo(xOf(t), bottom).lineTo(xOf(t), bottom + 3).lineWidth(0.5).strokeColor(COLOR.rule).stroke();
    put(doc, t.toFixed(decimals), xOf(t) - 20, bottom + 5, { size: 6.5, width: 40, align: 'center' });
  }
  put(doc, 'Time (s) from trigger', plot.x, bottom + 15, { size: 7, color: COLOR.muted, width: plot.width, align: 'center' });
}

// ---- compliance chart ---------------------------------------------------------------------------

const CHART = { minHz: 1, maxHz: 100, minIps: 0.01, maxIps: 10 };

function drawChart(doc: Doc, input: ReportInput, curves: readonly (ComplianceCurve | null)[], box: Box): void {
  const { analysis } = input;
  const primary = analysis.compliance[0];
  put(doc, 'Compliance: PPV against ZC frequency', box.x, box.y, { bold: true, size: 8.5, width: box.width });
  const plot = { x: box.x + 36, y: box.y + 16, width: box.width - 42, height: 190 };
  const decades = { x: Math.log10(CHART.maxHz / CHART.minHz), y: Math.log10(CHART.maxIps / CHART.minIps) };
  const xOf = (hz: number): number => plot.x + (Math.log10(hz / CHART.minHz) / decades.x) * plot.width;
  const yOf = (v: number): number => plot.y + plot.height - (Math.log10(v / CHART.minIps) / decades.y) * plot.height;

  // Grid: every 1–9 × 10^k, decades darker; labels at 1, 2, 5 × 10^k.
  doc.lineWidth(0.4);
  for (let decade = CHART.minHz; decade < CHART.maxHz; decade *= 10) {
    for (let m = 1; m <= 9; m++) {
      const hz = decade * m;
      doc.moveTo(xOf(hz), plot.y).lineTo(xOf(hz), plot.y + plot.height).strokeColor(m === 1 ? COLOR.grid : COLOR.gridMinor).stroke();
      if (m === 1 || m === 2 || m === 5) put(doc, String(hz), xOf(hz) - 12, plot.y + plot.height + 3, { size: 6.5, width: 24, align: 'center' });
    }
  }
  put(doc, String(CHART.maxHz), xOf(CHART.maxHz) - 12, plot.y + plot.height + 3, { size: 6.5, width: 24, align: 'center' });
  for (let decade = CHART.minIps; decade < CHART.maxIps * 0.999; decade *= 10) {
    for (let m = 1; m <= 9; m++) {
      const v = decade * m;
      doc.moveTo(plot.x, yOf(v)).lineTo(plot.x + plot.width, yOf(v)).strokeColor(m === 1 ? COLOR.grid : COLOR.gridMinor).stroke();
      if (m === 1 || m === 2 || m === 5) put(doc, trimNumber(v), plot.x - 30, yOf(v) - 2.5, { size: 6.5, width: 27, align: 'right' });
    }
  }
  put(doc, trimNumber(CHART.maxIps), plot.x - 30, yOf(CHART.maxIps) - 2.5, { size: 6.5, width: 27, align: 'right' });
  doc.rect(plot.x, plot.y, plot.width, plot.height).lineWidth(0.6).strokeColor(COLOR.rule).stroke();
  put(doc, 'ZC frequency (Hz)', plot.x, plot.y + plot.height + 12, { size: 7, color: COLOR.muted, width: plot.width, align: 'center' });
  doc.save();
  doc.rotate(-90, { origin: [box.x + 2, plot.y + plot.height / 2] });
  put(doc, 'PPV (in/s)', box.x + 2 - 40, plot.y + plot.height / 2 - 3, { size: 7, color: COLOR.muted, width: 80, align: 'center' });
  doc.restore();

  // Curves: the first standard solid, the others dashed, sampled finely on the log axis.
  doc.save();
  doc.rect(plot.x, plot.y, plot.width, plot.height).clip();
  curves.forEach((curve, i) => {
    if (!curve) return;
    let drawing = false;
    const steps = 400;
    for (let s = 0; s <= steps; s++) {
      const hz = CHART.minHz * (CHART.maxHz / CHART.minHz) ** (s / steps);
      const limit = limitAt(curve, hz);
      if (limit === null || limit <= 0) {
        drawing = false;
        continue;
      }
      const [x, y] = [xOf(hz), yOf(limit)];
      if (drawing) doc.lineTo(x, y);
      else doc.moveTo(x, y);
      drawing = true;
    }
    doc.lineWidth(i === 0 ? 1.6 : 0.9).strokeColor(CURVE_COLORS[i % CURVE_COLORS.length]!);
    if (i > 0) doc.dash(4, { space: 2 });
    doc.stroke();
    doc.undash();
  });
  doc.restore();

  // Each channel's point; a ">100 Hz" or "<1 Hz" channel sits on the edge, pointing off the chart.
  const clampIps = (v: number): number => Math.min(CHART.maxIps, Math.max(CHART.minIps, v));
  for (const c of analysis.channels) {
    if (c.ppv_ips === null || c.ppv_ips <= 0) continue;
    const style = CHANNEL_STYLE[c.name];
    const y = yOf(clampIps(c.ppv_ips));
    if (c.zc_freq_hz !== null) marker(doc, style.marker, xOf(Math.min(CHART.maxHz, Math.max(CHART.minHz, c.zc_freq_hz))), y, style.color);
    else if (c.zc_flag === 'gt_100') offChart(doc, xOf(CHART.maxHz), y, 1, style.color);
    else if (c.zc_flag === 'lt_1') offChart(doc, xOf(CHART.minHz), y, -1, style.color);
  }

  // Legend: one line per channel with its margin (first standard), then one per standard with its verdict.
  let y = plot.y + plot.height + 26;
  for (const c of primary?.channels ?? []) {
    const a = analysis.channels.find((x) => x.name === c.name);
    const style = CHANNEL_STYLE[c.name];
    marker(doc, style.marker, box.x + 4, y + 3, style.color);
    const freq = a ? zcFrequency(a.zc_freq_hz, a.zc_flag) : UNKNOWN;
    put(doc, `${c.name}  ${ips(c.ppv_ips)} in/s at ${freq} Hz   limit ${fixed(c.limit_ips, 3)}   margin ${fixed(c.margin, 2)}`, box.x + 12, y, { size: 7, width: box.width - 12 });
    y += 10.5;
  }
  y += 2;
  analysis.compliance.forEach((r, i) => {
    if (y > box.y + box.height - 8) return; // no room left: the verdict box lists them all
    const curve = curves[i] ?? null;
    if (curve) {
      doc.moveTo(box.x, y + 3).lineTo(box.x + 9, y + 3).lineWidth(i === 0 ? 1.6 : 0.9).strokeColor(CURVE_COLORS[i % CURVE_COLORS.length]!);
      if (i > 0) doc.dash(2, { space: 1 });
      doc.stroke();
      doc.undash();
    }
    put(doc, `${titleOf(r, curve)}: ${verdictText(r.verdict)}${curve ? '' : ' (curve not drawn)'}`, box.x + 12, y, { size: 7, bold: i === 0, width: box.width - 12 });
    y += 10.5;
  });
}

/** 0.01 → "0.01", 0.5 → "0.5", 2 → "2". */
function trimNumber(v: number): string {
  return String(Number(v.toPrecision(6)));
}

function marker(doc: Doc, shape: 'circle' | 'square' | 'diamond', x: number, y: number, color: string): void {
  const r = 3;
  if (shape === 'circle') doc.circle(x, y, r);
  else if (shape === 'square') doc.rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8);
  else doc.polygon([x, y - r * 1.2], [x + r * 1.2, y], [x, y + r * 1.2], [x - r * 1.2, y]);
  doc.lineWidth(0.6).fillColor(color).strokeColor('#000000').fillAndStroke();
}

/** A triangle on the chart's edge pointing out of it (direction 1: right, −1: left). */
function offChart(doc: Doc, x: number, y: number, direction: 1 | -1, color: string): void {
  doc.polygon([x + direction * 4, y], [x - direction * 2, y - 3.5], [x - direction * 2, y + 3.5]);
  doc.lineWidth(0.6).fillColor(color).strokeColor('#000000').fillAndStroke();
}

// ---- footer -------------------------------------------------------------------------------------

function drawFooter(doc: Doc, input: ReportInput, curves: readonly (ComplianceCurve | null)[]): void {
  rule(doc, 560);
  const width = PAGE_W - 2 * MARGIN;
  const { compliance, air_blast } = input.analysis;
  const sources = [...compliance.map((r, i) => `${titleOf(r, curves[i] ?? null)}: ${r.source}`), ...(air_blast ? [`air blast: ${air_blast.source}`] : [])];
  put(doc, `sfm ${input.version}`, MARGIN, 564, { size: 7, bold: true });
  put(doc, 'Page 1 of 1', MARGIN, 564, { size: 7, color: COLOR.muted, width, align: 'right' });
  doc
    .font(FONT)
    .fontSize(6.5)
    .fillColor(COLOR.muted)
    .text(
      [
        `Standards: ${sources.length ? sources.join('; ') : 'none asked for'}.`,
        `ZC frequency: the zero-crossing frequency of each channel's peak half cycle; it assumes one predominant frequency and is approximate on compound waveforms (the FFT dominant frequency, over up to ${FFT_MAX_WINDOW} samples around the peak, is shown beside it). ` +
          "Times are seconds from the trigger (t = 0, negative in the pretrigger); the event time is the unit's own clock. A margin of 1.00 or more fails.",
      ].join('\n'),
      MARGIN,
      573,
      { width, lineGap: 0.5, height: PAGE_H - 573 - 4, ellipsis: true },
    );
}
