import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyse, analysisOptions, analysisSettings } from '@sfm/core/analysis';
import { renderReport, type ReportInput } from './report.js';
import { exampleReportInput } from './example.js';

// Poppler (pdftotext, pdftoppm, pdfinfo) reads back what was drawn.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfm-report-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function poppler(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  expect(r.status, `${tool}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function render(name: string, input: ReportInput): Promise<{ pdf: string; text: string }> {
  const pdf = join(dir, `${name}.pdf`);
  writeFileSync(pdf, await renderReport(input));
  return { pdf, text: poppler('pdftotext', ['-layout', pdf, '-']) };
}

function pages(pdf: string): number {
  return Number(/^Pages:\s+(\d+)/m.exec(poppler('pdfinfo', [pdf]))![1]);
}

describe('renderReport', () => {
  it('prints the unit, every channel PPV, the vector sum, the microphone and the verdict on one page', async () => {
    const input = exampleReportInput();
    const { pdf, text } = await render('example', input);
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    expect(pages(pdf)).toBe(1);
    expect(text).toContain('UM11873');
    expect(text).toContain('S338.17');
    expect(text).toContain('0111A400');
    expect(text).toContain('2026-04-09 07:15:02');
    expect(text).toContain('2026-04-09 11:31:40 UTC');
    expect(text).toContain('Quarry North Expansion');
    expect(text).toContain('1024 Sa/s');
    for (const c of input.analysis.channels) {
      expect(c.ppv_ips).toBeLessThan(1);
      expect(text).toContain(c.ppv_ips!.toFixed(4));
      expect(text).toContain(c.zc_freq_hz!.toFixed(1));
    }
    expect(text).toContain(input.analysis.pvs.ips!.toFixed(4));
    expect(text).toContain(`${input.analysis.mic.pspl_db!.toFixed(1)} dB(L)`);
    expect(text).toMatch(/Verdict[\s\S]*PASS/);
    expect(text).toMatch(/USBM RI 8507, drywall \(modern homes\): PASS\s+largest margin \d\.\d\d \(\w+\)/);
    expect(text).toContain('OSMRE blasting level chart: PASS');
    expect(text).toContain(`Air blast: ${input.analysis.mic.pspl_db!.toFixed(1)} dB(L) against 133 dB (2 Hz high-pass system (or lower), peak): margin ${input.analysis.air_blast!.margin!.toFixed(2)}, PASS`);
    expect(text).toContain('sfm 0.1.0');
    expect(text).toContain('assumes one predominant frequency');
    expect(text).toContain('FFT dominant frequency');
    expect(text).toContain('Trigger');
  });

  it('renders a PNG from the PDF', async () => {
    const { pdf } = await render('png', exampleReportInput());
    const base = join(dir, 'png');
    poppler('pdftoppm', ['-png', '-r', '60', '-singlefile', pdf, base]);
    const png = readFileSync(`${base}.png`);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // 11 × 8.5 in at 60 dpi.
    expect(png.readUInt32BE(16)).toBe(660);
    expect(png.readUInt32BE(20)).toBe(510);
  });

  it('prints FAIL with the margins when the event exceeds the standard', async () => {
    const input = exampleReportInput(3, 1024, 3);
    const vert = input.analysis.compliance[0]!.channels.find((c) => c.name === 'Vert')!;
    expect(vert.margin).toBeGreaterThan(1);
    const { text } = await render('fail', input);
    expect(text).toMatch(/Verdict[\s\S]*FAIL/);
    expect(text).toMatch(/drywall \(modern homes\): FAIL\s+largest margin/);
    expect(text).toContain(`margin ${vert.margin!.toFixed(2)}`);
  });

  it('prints flags as the vendor does and unknowns as a dash', async () => {
    const input = exampleReportInput();
    const [tran, vert, long] = input.analysis.channels;
    Object.assign(tran!, { zc_freq_hz: null, zc_flag: 'gt_100' });
    Object.assign(vert!, { zc_freq_hz: null, zc_flag: 'lt_1' });
    Object.assign(long!, { zc_freq_hz: null, zc_flag: 'n/a' });
    const { text } = await render('flags', { ...input, unit: null, event: { key: input.event.key, timestamp: null }, analysis: { ...input.analysis, compliance: [], air_blast: null } });
    expect(text).toMatch(/ZC frequency \(Hz\)\s+>100\s+<1\s+N\/A/);
    expect(text).toMatch(/Firmware\s+—/);
    expect(text).toMatch(/Received \(UTC\)\s+—/);
    expect(text).toMatch(/Project\s+—/);
    expect(text).toContain('Air blast: not judged');
    expect(text).toContain('no standard was asked for');
    expect(text).toMatch(/Verdict[\s\S]*N\/A/);
  });

  it('says where the trigger level comes from: the event, else the unit\'s setup now', async () => {
    const input = exampleReportInput();
    expect((await render('setup', input)).text).toMatch(/Geo trigger level\s+0\.0200 in\/s \(setup now\)/);
    expect((await render('own', { ...input, event: { ...input.event, trigger_level_ips: 0.05 } })).text).toMatch(/Geo trigger level\s+0\.0500 in\/s\s/);
  });

  it('draws a configured curve and the distance rule with their titles and sources in the footer', async () => {
    const problems: string[] = [];
    const settings = analysisSettings(
      {
        compliance_standards: ['rhode-island'],
        compliance_distance_ft: 400,
        air_blast_standard: 'osmre-airblast-2hz',
        compliance_curves: [{ name: 'rhode-island', title: 'Rhode Island 23-28.28-9', source: 'R.I. Gen. Laws 23-28.28-9', points: [{ hz: 2.5, ips: 0.5 }, { hz: 10, ips: 0.5 }, { hz: 40, ips: 2 }] }],
      },
      problems,
    );
    expect(problems).toEqual([]);
    const input = exampleReportInput();
    const options = analysisOptions(settings, { standard: 'rhode-island,osmre-distance' });
    const { text } = await render('user', { ...input, analysis: analyse(input.waveform, options), curves: options.curves });
    expect(text).toMatch(/Standards: Rhode Island 23-28\.28-9: R\.I\. Gen\. Laws 23-28\.28-9; OSMRE limit by distance \(400 ft\): 30 CFR 816\.67\(d\)\(2\)/);
    expect(text).toContain('* against Rhode Island 23-28.28-9');
    expect(text).toMatch(/OSMRE limit by distance \(400 ft\): PASS/);
    // Without the curves, a standard that is not a fixed one is listed but not drawn.
    expect((await render('undrawn', { ...input, analysis: analyse(input.waveform, options) })).text).toContain('rhode-island: PASS (curve not drawn)');
  });

  it('keeps a 60-s, 4096 Sa/s record to one small page (traces decimated per column)', async () => {
    const input = exampleReportInput(60, 4096);
    const { pdf, text } = await render('long', input);
    expect(pages(pdf)).toBe(1);
    expect(statSync(pdf).size).toBeLessThan(120_000);
    expect(text).toContain('4096 Sa/s');
    expect(text).toContain('60.00 s');
  });
});
