/**
 * The emulated unit's synthetic events analysed end to end through HTTP: the figures checked
 * against what the unit itself reports for the event (its peaks) and against the waveform the
 * relay serves, worked out here the plain way; the analysis kept in memory; the report rendered
 * and read back with poppler.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Analysis, Event, Waveform } from '@sfm/core';
import { startFixture, type Fixture } from '@sfm/test-support';
import { checkResponses } from './contract.test-helpers.js';

const D = '?device=demo';
const G_IPS2 = 386.09;

/** OSMRE Figure 1 as 30 CFR 816.67 draws it, written out here (the chart's 11–30 Hz line drawn to 2.0 in/s). */
function osmreLimit(hz: number): number {
  if (hz < 4) return 2 * Math.PI * hz * 0.03;
  if (hz < 11) return 0.75;
  if (hz < 30) return Math.min(0.75 * (hz / 11), 2.0);
  return 2.0;
}

/** The samples either side of the peak where the sign first changes (or a zero): the half cycle's bounds, to ±1 sample. */
function halfCycle(samples: number[], at: number): { before: number; after: number } {
  const sign = Math.sign(samples[at]!);
  let before = at;
  while (before >= 0 && sign * samples[before]! > 0) before--;
  let after = at;
  while (after < samples.length && sign * samples[after]! > 0) after++;
  return { before, after };
}

const close = (a: number, b: number, rel = 1e-6) => expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(b), 1e-9));

function poppler(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  expect(r.status, `${tool}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe('GET /device/event/{idx}/analysis and report.pdf on the emulated unit', () => {
  let f: Fixture;
  let events: Event[];
  let dir: string;
  beforeAll(async () => {
    f = await startFixture({ sim: { events: 4, recordTimeS: 2 } });
    await checkResponses(f); // every answer checked against the served OpenAPI document
    events = (await f.call(`/device/events${D}`)).json.events;
    dir = mkdtempSync(join(tmpdir(), 'sfm-analysis-'));
  });
  afterAll(async () => {
    await f.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads each event\'s figures off its waveform: the unit\'s own peaks, and the definitions worked out here', async () => {
    for (const event of events) {
      const w: Waveform = (await f.call(`/device/event/${event.index}/waveform${D}`)).json;
      const r = await f.call(`/device/event/${event.index}/analysis${D}`);
      expect(r.status).toBe(200);
      const a: Analysis = r.json;
      expect(a).toMatchObject({ schema: 'sfm.analysis.v1', serial: w.serial, key: event.key, timestamp: event.timestamp, sample_rate: w.sample_rate });

      const unitPeaks = [event.peaks.tran_ips, event.peaks.vert_ips, event.peaks.long_ips];
      a.channels.forEach((c, i) => {
        const samples = w.channels.find((x) => x.name === c.name)!.samples;
        // PPV: what the unit reports (stored as float32), and the waveform's own peak and its time.
        close(c.ppv_ips!, unitPeaks[i]!);
        expect(c.ppv_ips).toBe(w.channels.find((x) => x.name === c.name)!.peak.value);
        const at = samples.findIndex((v) => Math.abs(v) === c.ppv_ips);
        close(c.ppv_t_s!, w.t0_s + at / w.sample_rate, 1e-9);
        // Acceleration: the steepest step over the whole record.
        let step = 0;
        for (let k = 1; k < samples.length; k++) step = Math.max(step, Math.abs(samples[k]! - samples[k - 1]!));
        close(c.peak_accel_g!, (step * w.sample_rate) / G_IPS2, 1e-9);
        // ZC frequency: the half cycle around the peak is known to a sample at each end.
        const { before, after } = halfCycle(samples, at);
        const [low, high] = [w.sample_rate / (2 * (after - before)), w.sample_rate / (2 * Math.max(after - before - 2, 1))];
        if (c.zc_freq_hz !== null) {
          expect(c.zc_flag).toBeNull();
          expect(c.zc_freq_hz).toBeGreaterThanOrEqual(low * (1 - 1e-9));
          expect(c.zc_freq_hz).toBeLessThanOrEqual(Math.min(high, 100) * (1 + 1e-9));
        } else {
          expect(c.zc_flag).toBe('gt_100');
          expect(high).toBeGreaterThan(100);
        }
        expect(c.peak_disp_in).toBeGreaterThan(0);
        expect(c.dominant_freq_hz).toBeGreaterThanOrEqual(1);
      });
      close(a.pvs.ips!, event.peaks.pvs_ips!);
      close(a.mic.pspl_psi!, event.peaks.mic_psi!);
      close(a.mic.pspl_db!, 20 * Math.log10((a.mic.pspl_psi! * 6894.757) / 20e-6), 1e-12);

      // The OSMRE chart, the default: the limit at each channel's ZC frequency, the margin, the verdict.
      const [judged] = a.compliance;
      expect(judged!.standard).toBe('osmre-chart');
      judged!.channels.forEach((j, i) => {
        const c = a.channels[i]!;
        const limit = c.zc_freq_hz === null ? 2.0 : osmreLimit(c.zc_freq_hz); // gt_100: the flat 2.0 in/s above 30 Hz
        close(j.limit_ips!, limit, 1e-9);
        close(j.margin!, c.ppv_ips! / limit, 1e-9);
      });
      expect(judged!.verdict).toBe(judged!.channels.some((j) => j.margin! >= 1) ? 'fail' : 'pass');
      expect(a.air_blast).toMatchObject({ standard: 'osmre-airblast-2hz', limit_db: 133, verdict: a.mic.pspl_db! >= 133 ? 'fail' : 'pass' });
    }
  });

  it('keeps the analysis: a repeat, and other standards on the same waveform, need no device I/O; If-None-Match answers 304', async () => {
    const first = await f.call(`/device/event/1/analysis${D}&standard=usbm-ri8507-plaster,osmre-distance&distance_ft=250`);
    expect(first.json.compliance.map((c: { standard: string }) => c.standard)).toEqual(['usbm-ri8507-plaster', 'osmre-distance']);
    expect(first.json.compliance[1].channels.map((c: { limit_ips: number }) => c.limit_ips)).toEqual([1.25, 1.25, 1.25]);
    await f.relay.idle(); // the session may go on reading event-time project text after answering
    f.sim.server.resetStats();
    const again = await f.call(`/device/event/1/analysis${D}&standard=usbm-ri8507-plaster,osmre-distance&distance_ft=250`);
    expect(again.headers.get('x-cache')).toBe('hit');
    expect(again.text).toBe(first.text);
    const other = await f.call(`/device/event/1/analysis${D}&standard=usbm-ri8507-drywall`);
    expect(other.headers.get('x-cache')).toBe('hit');
    expect(other.json.channels).toEqual(first.json.channels);
    expect((await f.call(`/device/event/1/analysis${D}&standard=usbm-ri8507-plaster,osmre-distance&distance_ft=250`, { headers: { 'if-none-match': first.headers.get('etag')! } })).status).toBe(304);
    expect(f.sim.server.stats.framesReceived).toBe(0);
    // Another standard is another representation: another tag.
    expect(other.headers.get('etag')).not.toBe(first.headers.get('etag'));
  });

  it('downloads the waveform for a cold analysis, as the waveform route does', async () => {
    f.sim.unit.recordEvent();
    const list = (await f.call(`/device/events${D}`)).json;
    const idx = list.count - 1;
    const a = await f.call(`/device/event/${idx}/analysis${D}`);
    expect(a.headers.get('x-cache')).toBe('miss');
    close(a.json.pvs.ips, list.events[idx].peaks.pvs_ips);
    expect((await f.call(`/device/event/${idx}/waveform${D}`)).headers.get('x-cache')).toBe('hit');
  });

  it('renders the report: one page naming the unit, each PPV and the verdict, as a PNG too', async () => {
    const a: Analysis = (await f.call(`/device/event/2/analysis${D}`)).json;
    const r = await fetch(`${f.url}/device/event/2/report.pdf${D}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/pdf');
    expect(r.headers.get('content-disposition')).toBe(`inline; filename="${a.serial}-${a.key}.pdf"`);
    expect(r.headers.get('x-cache')).toBe('hit');
    const pdf = join(dir, 'report.pdf');
    writeFileSync(pdf, Buffer.from(await r.arrayBuffer()));
    expect(/^Pages:\s+1$/m.test(poppler('pdfinfo', [pdf]))).toBe(true);
    const text = poppler('pdftotext', ['-layout', pdf, '-']);
    expect(text).toContain(a.serial);
    expect(text).toContain(a.key);
    for (const c of a.channels) expect(text).toContain(c.ppv_ips! < 1 ? c.ppv_ips!.toFixed(4) : c.ppv_ips!.toFixed(3));
    const verdict = [a.compliance[0]!.verdict, a.air_blast!.verdict].includes('fail') ? 'FAIL' : 'PASS';
    expect(text).toMatch(new RegExp(`Verdict[\\s\\S]*${verdict}`));
    expect(text).toContain(`OSMRE blasting level chart: ${a.compliance[0]!.verdict.toUpperCase()}`);
    expect(text).toContain('sfm 9.8.7-test');
    poppler('pdftoppm', ['-png', '-r', '40', '-singlefile', pdf, join(dir, 'report')]);
    const png = readFileSync(join(dir, 'report.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([440, 340]); // 11 × 8.5 in at 40 dpi
  });
});
