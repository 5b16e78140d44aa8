/**
 * The web application in headless Chromium (Debian's, driven by playwright-core), against the
 * whole HTTP server on an archive of 1,000 units and 100,000 events: the fleet's first render
 * (from navigation to the table on screen, the units fetched included), an event of a 60-s,
 * 4-channel record at 4096 Sa/s (~1 M points) — fetched and parsed, then plotted — and a zoom
 * of its four channels. Medians over RUNS fresh page loads. Targets: fleet ≤ 1 s, plot ≤ 1 s,
 * zoom ≤ 100 ms.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RelayService, keptWaveform, type StoredEvent } from '@sfm/core/cache';
import { DeviceRegistry, silentLogger } from '@sfm/core/kernel';
import { TransportRegistry } from '@sfm/core/transport';
import type { Event } from '@sfm/core';
import { MemoryStore } from '@sfm/store-memory';
import { defaultHttpSettings, startHttpServer } from '@sfm/adapter-http';
import { WEB_ROOT } from '@sfm/web';
import { CHROMIUM, launchBrowser } from '@sfm/web/browser';
import { report } from './report.js';

const UNITS = 1000;
const EVENTS_PER_UNIT = 100;
const RUNS = 5;
const RECORD_S = 60;
const RATE = 4096;
const PRETRIGGER = 1024;
const TARGETS = { fleet_ms: 1000, plot_ms: 1000, zoom_ms: 100 };

function event(unit: number, i: number): StoredEvent {
  const key = 0x01110000 + i * 0x400;
  const pvs = Math.round(((i * 7919 + unit) % 1000) / 10) / 100;
  const e: Event = {
    index: i, key: key.toString(16).toUpperCase().padStart(8, '0'), timestamp: `2026-03-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00:${String(unit % 60).padStart(2, '0')}`,
    end_timestamp: null, record_type: 'waveform', sample_rate: RATE, record_time_s: RECORD_S, total_samples: RECORD_S * RATE + PRETRIGGER, pretrigger_samples: PRETRIGGER, trigger_level_ips: null,
    peaks: { tran_ips: pvs / 2, vert_ips: pvs / 3, long_ips: pvs / 4, mic_psi: 0.002, pvs_ips: pvs },
    project: { project: `Quarry ${unit % 4}`, client: 'Acme Aggregates', operator: 'J. Smith', sensor_location: `House ${unit}`, notes: null }, project_pending: false,
  };
  return { event: e, key, geoRange: 'normal', fetchedAt: Date.now() };
}

/** A blast-like channel in body units: quiet pretrigger, then two decaying tones. */
function channel(n: number, f1: number, f2: number, peak: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = (i - PRETRIGGER) / RATE;
    const quiet = ((i * 31) % 7) - 3;
    out[i] = t < 0 ? quiet : quiet + Math.round(peak * Math.exp(-t / 4) * (Math.sin(2 * Math.PI * f1 * t) + 0.3 * Math.sin(2 * Math.PI * f2 * t)));
  }
  return out;
}

/** In the page: a zoom redraws all four channels — from the click to the frame after it. */
const ZOOM_IN_MS = `(async () => {
  const button = [...document.querySelectorAll('button')].find((b) => b.getAttribute('aria-label') === 'Zoom in');
  const t0 = performance.now();
  button.click();
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - t0;
})()`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[(s.length >> 1) - 1]! + s[s.length >> 1]!) / 2;
}

export async function runWebBench(): Promise<{ ok: boolean }> {
  if (!existsSync(join(WEB_ROOT, 'index.html')) || !existsSync(CHROMIUM)) {
    process.stderr.write(`\n== web ==\nskipped: ${existsSync(CHROMIUM) ? 'the web application is not built (pnpm build)' : `no Chromium at ${CHROMIUM} (apt-get install chromium)`}\n`);
    return { ok: false };
  }
  const store = new MemoryStore({ maxBytes: 2 * 1024 ** 3 });
  for (let u = 0; u < UNITS; u++) await store.appendEvents(`BE${10000 + u}`, Array.from({ length: EVENTS_PER_UNIT }, (_, i) => event(u, i)));
  const n = RECORD_S * RATE + PRETRIGGER;
  // The unit's newest event (the archive lists newest first): the long record.
  const big = event(0, EVENTS_PER_UNIT);
  big.event.timestamp = '2026-04-01T12:00:00';
  await store.appendEvents('BE10000', [big]);
  const { stored } = keptWaveform('BE10000', {
    key: big.key, timestamp: big.event.timestamp, index: big.event.index, sampleRate: RATE, pretriggerSamples: PRETRIGGER, geoRange: 'normal', fetchedAt: Date.now(),
    channels: { Tran: channel(n, 14, 38, 900), Vert: channel(n, 9, 27, 1100), Long: channel(n, 22, 61, 600), MicL: channel(n, 6, 17, 500) },
  });
  await store.putWaveform('BE10000', stored);
  const id = (await store.archive.events({ serial: 'BE10000', limit: 1 })).items[0]!.id;

  const relay = new RelayService(new TransportRegistry(), store);
  const server = await startHttpServer({ relay, devices: new DeviceRegistry(), logger: silentLogger, version: 'bench', webRoot: WEB_ROOT, settings: defaultHttpSettings({ port: 0 }) });
  const browser = await launchBrowser();
  const fleet: number[] = [];
  const received: number[] = [];
  const plot: number[] = [];
  const zoom: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/`);
      await page.locator('table.fleet tbody tr').first().waitFor();
      fleet.push(await page.evaluate(() => performance.getEntriesByName('sfm:view-fleet')[0]!.startTime));
      await page.close();

      const ev = await browser.context.newPage();
      ev.on('pageerror', (e) => process.stderr.write(`web bench: page error: ${e.message}\n`));
      await ev.goto(`${server.url}/#/event/${id}`);
      await ev.locator('.waveform-holder[data-plotted="true"]').waitFor({ timeout: 60_000 });
      const [r, p] = await ev.evaluate(() => ['sfm:waveform-received', 'sfm:waveform-plotted'].map((m) => performance.getEntriesByName(m)[0]!.startTime));
      received.push(r!);
      plot.push(p! - r!);
      // A zoom redraws all four channels: from the click to the frame after it.
      zoom.push(await ev.evaluate<number>(ZOOM_IN_MS));
      await ev.close();
    }
  } finally {
    await browser.close();
    await server.close();
    await store.close();
  }
  const m = { fleet_ms: median(fleet), received_ms: median(received), plot_ms: median(plot), zoom_ms: median(zoom) };
  const met = { fleet_ms: m.fleet_ms <= TARGETS.fleet_ms, plot_ms: m.plot_ms <= TARGETS.plot_ms, zoom_ms: m.zoom_ms <= TARGETS.zoom_ms };
  const ok = Object.values(met).every(Boolean);
  const f = (v: number): string => v.toFixed(1);
  report(
    { group: 'web', runs: RUNS, units: UNITS, archived_events: UNITS * EVENTS_PER_UNIT + 1, record: { seconds: RECORD_S, sample_rate: RATE, points: 4 * n }, ...Object.fromEntries(Object.entries(m).map(([k, v]) => [k, +v.toFixed(1)])), targets: TARGETS, ok },
    [
      ['measure (median of fresh loads)', 'ms', 'target'],
      [`fleet first render (${UNITS} units, ${UNITS * EVENTS_PER_UNIT} events archived)`, f(m.fleet_ms), `≤ ${TARGETS.fleet_ms} ${met.fleet_ms ? 'met' : 'NOT MET'}`],
      [`event page: waveform fetched and parsed (${4 * n} points)`, f(m.received_ms), ''],
      ['…then plotted (4 channels)', f(m.plot_ms), `≤ ${TARGETS.plot_ms} ${met.plot_ms ? 'met' : 'NOT MET'}`],
      ['zoom in (4 channels redrawn)', f(m.zoom_ms), `≤ ${TARGETS.zoom_ms} ${met.zoom_ms ? 'met' : 'NOT MET'}`],
    ],
  );
  return { ok };
}
