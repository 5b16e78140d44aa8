/**
 * What an archived event means, end to end on a real SQLite file: a waveform is analysed as it is
 * archived (its analysis_summary, under the configured standards), and the archive answers the
 * same analysis and report as the live routes — with no device I/O.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analysisOptions, analysisSummary } from '@sfm/core/analysis';
import { SqliteStore } from '@sfm/store-sqlite';
import { runCli, type CliIO } from '@sfm/adapter-cli';
import { startFixture, type Fixture, type FixtureOptions } from '@sfm/test-support';

const D = '?device=demo';
let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function fixture(relay?: FixtureOptions['relay']): Promise<{ fx: Fixture; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sfm-archive-analysis-'));
  f = await startFixture({ store: new SqliteStore(join(dir, 'sfm.db')), sim: { events: 3 }, relay });
  return { fx: f, dir };
}

/** Reads the event's waveform through the live route and answers its archived row. */
async function archiveWaveform(fx: Fixture, idx: number): Promise<any> {
  expect((await fx.call(`/device/event/${idx}/waveform${D}`)).status).toBe(200);
  await fx.relay.idle();
  const events = (await fx.call('/db/events?limit=100')).json.events as any[];
  return events.find((e) => e.key === fx.sim.unit.events[idx]!.key)!;
}

describe('archived events and their analysis', () => {
  it('a waveform is analysed as it is archived: the summary is the live analysis under the configured standards', async () => {
    const { fx } = await fixture();
    const before = (await fx.call(`/device/events${D}`)).json;
    await fx.relay.idle();
    expect(((await fx.call('/db/events')).json.events as any[]).map((e) => e.analysis_summary)).toEqual([null, null, null]);
    const row = await archiveWaveform(fx, 1);
    expect(row.key).toBe(before.events[1].key);
    const live = (await fx.call(`/device/event/1/analysis${D}`)).json;
    expect(row.analysis_summary).toEqual(analysisSummary(live));
    expect(row.analysis_summary.pvs_ips).toBeGreaterThan(0);
    // only that event was analysed
    expect(((await fx.call('/db/events')).json.events as any[]).filter((e) => e.analysis_summary !== null)).toHaveLength(1);
  });

  it('the summary follows the standards the relay was configured with', async () => {
    // A limit no event meets (0.000001 in/s at every frequency): the summary must say fail.
    const tiny = { id: 'tiny', title: 'Tiny', source: 'test', frequency_independent: true, segments: [{ kind: 'flat' as const, from_hz: 0, to_hz: null, ppv_ips: 1e-6 }] };
    const { fx } = await fixture({ archiveAnalysis: { ...analysisOptions(), curves: [tiny] } });
    await fx.call(`/device/events${D}`);
    const row = await archiveWaveform(fx, 0);
    expect(row.analysis_summary.compliance).toBe('fail');
  });

  it('/db/events/{id}/analysis and report.pdf answer from the archive, as the live routes do, with no device I/O', async () => {
    const { fx, dir } = await fixture();
    await fx.call(`/device/events${D}`);
    const row = await archiveWaveform(fx, 2);
    const live = await fx.call(`/device/event/2/analysis${D}&standard=usbm-ri8507-drywall,osmre-distance&distance_ft=400`);
    const frames = fx.sim.server.stats.framesReceived;

    const a = await fx.call(`/db/events/${row.id}/analysis?standard=usbm-ri8507-drywall,osmre-distance&distance_ft=400`);
    expect(a.status).toBe(200);
    expect(a.json).toEqual(live.json);
    expect(a.headers.get('etag')).toBe(live.headers.get('etag'));
    expect((await fx.call(`/db/events/${row.id}/analysis?standard=usbm-ri8507-drywall,osmre-distance&distance_ft=400`, { headers: { 'if-none-match': a.headers.get('etag')! } })).status).toBe(304);
    const byDefault = await fx.call(`/db/events/${row.id}/analysis`);
    expect(byDefault.json.compliance.map((c: { standard: string }) => c.standard)).toEqual(['osmre-chart']);
    expect(byDefault.headers.get('etag')).not.toBe(a.headers.get('etag'));

    const pdf = await fetch(`${fx.url}/db/events/${row.id}/report.pdf?standard=usbm-ri8507-drywall`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toContain(`${row.serial}-${row.key}.pdf`);
    const file = join(dir, 'r.pdf');
    writeFileSync(file, Buffer.from(await pdf.arrayBuffer()));
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toContain(row.serial);
    expect(text).toContain(row.key);
    expect(fx.sim.server.stats.framesReceived).toBe(frames);

    // The CLI writes the same report from the same archive.
    const out = { stdout: '', stderr: '' };
    const io: CliIO = { stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s), stderrIsTTY: false };
    const services = async () => ({ access: fx.relay, relay: fx.relay, archive: fx.relay.store.archive, close: () => {} });
    const cliFile = join(dir, 'cli.pdf');
    expect(await runCli(['db', 'report', String(row.id), '--out', cliFile, '--standard', 'usbm-ri8507-drywall', '--json'], io, { services, version: 'test' })).toBe(0);
    expect(out.stderr).toMatch(new RegExp(`wrote .*cli\\.pdf \\(${row.serial} event ${row.key}: usbm-ri8507-drywall (pass|fail|n/a)\\)`));
    expect(JSON.parse(out.stdout).compliance[0].standard).toBe('usbm-ri8507-drywall');
    expect(readFileSync(cliFile).subarray(0, 5).toString()).toBe('%PDF-');
    expect(fx.sim.server.stats.framesReceived).toBe(frames);
  });

  it('an event whose waveform was never read, an unknown id, a bad standard: clear errors', async () => {
    const { fx, dir } = await fixture();
    await fx.call(`/device/events${D}`);
    await fx.relay.idle();
    const [e] = (await fx.call('/db/events?limit=1')).json.events as any[];
    for (const path of [`/db/events/${e.id}/analysis`, `/db/events/${e.id}/report.pdf`, '/db/events/987654/analysis']) {
      const r = await fx.call(path);
      expect([r.status, r.json.error.code]).toEqual([404, 'NOT_FOUND']);
      expect(r.json.error.message).toMatch(/has no waveform/);
    }
    const bad = await fx.call(`/db/events/${e.id}/analysis?standard=nope`);
    expect([bad.status, bad.json.error.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(bad.json.error.message).toContain('osmre-chart');
    expect((await fx.call('/db/events/0/analysis')).status).toBe(400);

    const err = { s: '' };
    const io: CliIO = { stdout: () => {}, stderr: (s) => void (err.s += s), stderrIsTTY: false };
    const services = async () => ({ access: fx.relay, relay: fx.relay, archive: fx.relay.store.archive, close: () => {} });
    expect(await runCli(['db', 'report', String(e.id), '--out', join(dir, 'x.pdf')], io, { services })).toBe(4);
    expect(await runCli(['db', 'report', 'abc', '--out', join(dir, 'x.pdf')], io, { services })).toBe(2);
    expect(await runCli(['db', 'report', String(e.id)], io, { services })).toBe(2);
    expect(await runCli(['db', 'units', '7'], io, { services })).toBe(2);
    expect(err.s).toMatch(/has no waveform[\s\S]*a whole number from 1[\s\S]*--out FILE\.pdf[\s\S]*takes no id/);
  });
});
