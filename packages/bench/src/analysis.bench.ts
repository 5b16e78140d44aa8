/**
 * Event analysis and the PDF report on 4-channel records of 3 s and 60 s at 1024 and 4096 Sa/s,
 * built from real-shaped bodies (buildWaveform, normal range), judged against two standards.
 * Analysis time is set against JSON.stringify of the same Waveform — what serving it costs anyway
 * — with the target that analysing the 60-s 4096 Sa/s record (~1 M samples) takes well under it:
 * at most TARGET_RATIO of it. Medians over RUNS runs after a warm-up.
 */
import type { Waveform } from '@sfm/core';
import { analyse, analysisOptions } from '@sfm/core/analysis';
import { buildWaveform } from '@sfm/core/service';
import { renderReport } from '@sfm/report';
import { report } from './report.js';

const RUNS = 7;
const TARGET_RATIO = 0.5;
const WARM_UP = 3;
const PRETRIGGER_S = 0.25;

/** A blast-like channel in body units: quiet pretrigger, then two decaying tones. */
function blastUnits(n: number, rate: number, pretrigger: number, f1: number, f2: number, peakUnits: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = (i - pretrigger) / rate;
    const quiet = Math.round(0.6 * Math.sin(i * 0.37 + f1));
    out[i] = t < 0 ? quiet : quiet + Math.round(peakUnits * Math.exp(-t / 0.6) * (Math.sin(2 * Math.PI * f1 * t) + 0.3 * Math.sin(2 * Math.PI * f2 * t)));
  }
  return out;
}

function record(seconds: number, rate: number): Waveform {
  const pretrigger = Math.round(PRETRIGGER_S * rate);
  const n = pretrigger + seconds * rate;
  return buildWaveform({
    serial: 'UM11873',
    index: 0,
    key: '0111A400',
    timestamp: '2026-04-09T07:15:02',
    sample_rate: rate,
    pretrigger_samples: pretrigger,
    geo_range: 'normal',
    body: {
      truncated: false,
      channels: {
        Tran: blastUnits(n, rate, pretrigger, 14, 38, 90),
        Vert: blastUnits(n, rate, pretrigger, 9, 27, 110),
        Long: blastUnits(n, rate, pretrigger, 22, 61, 60),
        MicL: blastUnits(n, rate, pretrigger, 6, 17, 50),
      },
    },
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median milliseconds of `fn` over RUNS runs after WARM_UP unmeasured ones. */
async function medianMs(fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < WARM_UP + RUNS; run++) {
    const t0 = performance.now();
    await fn();
    if (run >= WARM_UP) times.push(performance.now() - t0);
  }
  return median(times);
}

export async function runAnalysisBench(): Promise<{ ok: boolean }> {
  const cases: [number, number][] = [
    [3, 1024],
    [3, 4096],
    [60, 1024],
    [60, 4096],
  ];
  const rows: { seconds: number; rate: number; samples: number; analyseMs: number; stringifyMs: number; renderMs: number | null; pdfBytes: number | null }[] = [];
  const options = analysisOptions(undefined, { standard: 'usbm-ri8507-drywall,osmre-chart' });
  for (const [seconds, rate] of cases) {
    const w = record(seconds, rate);
    const analyseMs = await medianMs(() => analyse(w, options));
    const stringifyMs = await medianMs(() => JSON.stringify(w));
    // The report for one short and one long record: 3 s at 1024 Sa/s, 60 s at 4096 Sa/s.
    const renders = (seconds === 3 && rate === 1024) || (seconds === 60 && rate === 4096);
    let renderMs: number | null = null;
    let pdfBytes: number | null = null;
    if (renders) {
      const input = { waveform: w, analysis: analyse(w, options), curves: options.curves, event: { key: w.key, timestamp: w.timestamp, record_time_s: seconds }, version: 'bench' };
      renderMs = await medianMs(async () => void (pdfBytes = (await renderReport(input)).length));
    }
    rows.push({ seconds, rate, samples: w.channels.reduce((sum, c) => sum + c.samples.length, 0), analyseMs, stringifyMs, renderMs, pdfBytes });
  }
  const target = rows.find((r) => r.seconds === 60 && r.rate === 4096)!;
  const ok = target.analyseMs <= TARGET_RATIO * target.stringifyMs;
  const ms = (v: number | null): string => (v === null ? '' : v.toFixed(2));
  report(
    {
      group: 'analysis',
      runs: RUNS,
      target: `analyse(60 s, 4096 Sa/s, 4 channels) ≤ ${TARGET_RATIO} × JSON.stringify(same waveform)`,
      rows: rows.map((r) => ({
        record_s: r.seconds,
        sample_rate: r.rate,
        samples: r.samples,
        analyse_ms: +r.analyseMs.toFixed(3),
        stringify_ms: +r.stringifyMs.toFixed(3),
        analyse_over_stringify: +(r.analyseMs / r.stringifyMs).toFixed(3),
        render_ms: r.renderMs === null ? null : +r.renderMs.toFixed(2),
        pdf_bytes: r.pdfBytes,
      })),
      ok,
    },
    [
      ['record', 'samples', 'analyse ms', 'stringify ms', 'analyse ÷ stringify', 'report ms', 'PDF bytes'],
      ...rows.map((r) => [`${r.seconds} s @ ${r.rate} Sa/s`, String(r.samples), ms(r.analyseMs), ms(r.stringifyMs), (r.analyseMs / r.stringifyMs).toFixed(2), ms(r.renderMs), r.pdfBytes === null ? '' : String(r.pdfBytes)]),
      [`target: 60 s @ 4096 analyse ≤ ${TARGET_RATIO} × stringify`, '', '', '', ok ? 'met' : 'NOT MET', '', ''],
    ],
  );
  return { ok };
}
