/**
 * The web application in a real browser (Debian's headless Chromium driven by playwright-core)
 * against the HTTP front end and the emulated unit over TCP: fleet → unit → event → waveform,
 * a configuration write that asks for the token, the review flag, the erase's confirmation and
 * the sessions — checking what is on screen, and each view against axe-core's rules (serious and
 * critical violations fail). Screenshots go to test-output/ (not kept in git).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from '@sfm/test-support';
import { CHROMIUM, launchBrowser } from '../scripts/browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const WEB_ROOT = join(here, '..', 'dist');
const OUT = join(here, '..', 'test-output');
const TOKEN = 'browser-test-token-0123456789';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** In the page: axe-core's violations of the WCAG 2.1 A/AA rules and its best practices (text: the test type-check has no DOM). */
const AXE_RUN = `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
  .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, where: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`;

/** Serious and critical accessibility violations on the page as it is now (axe-core, injected). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const found = await page.evaluate<{ id: string; impact: string | null; help: string; where: string[] }[]>(AXE_RUN);
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.where.join('; ')}`);
}

describe.skipIf(!existsSync(CHROMIUM))('the web application in Chromium', () => {
  let f: Fixture;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const errors: string[] = [];

  const shot = (name: string) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error(`the web application is not built: ${WEB_ROOT} has no index.html (run pnpm build)`);
    mkdirSync(OUT, { recursive: true });
    f = await startFixture({ webRoot: WEB_ROOT, token: TOKEN, sim: { events: 3 } });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    // A refused request (the 401 that asks for the token) is logged by the browser too: only script errors count.
    page.on('console', (m) => void (m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text())));
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await f?.close();
  });

  it('fleet → unit → event → waveform, with the analysis and the compliance chart', async () => {
    await page.goto(`${f.url}/`);
    const demo = page.locator('table.fleet tbody tr', { hasText: 'demo' });
    await expect.poll(() => demo.textContent()).toContain('never read');
    expect(await axeViolations(page)).toEqual([]);

    await demo.getByRole('link', { name: 'demo' }).click();
    const live = page.locator('section', { has: page.getByRole('heading', { name: 'Events on the unit' }) });
    await live.locator('tbody tr').nth(2).waitFor();
    expect(await page.locator('h1').textContent()).toBe('Unit demo');
    // The view draws the list again when the session that read it ends (its text came in): poll.
    await expect.poll(() => page.locator('.facts').first().textContent()).toContain(f.sim.unit.serial);
    await expect.poll(() => live.locator('tbody tr').count()).toBe(3);
    expect(await axeViolations(page)).toEqual([]);
    await shot('unit');

    // The unit was read: the fleet lists it by serial now, with its status.
    await page.getByRole('navigation').getByRole('link', { name: 'Fleet' }).click();
    const row = page.locator(`table.fleet tbody tr[data-serial="${f.sim.unit.serial}"]`);
    await row.waitFor();
    await expect.poll(() => row.textContent()).toMatch(/V.*%.*off.*3/);
    await shot('fleet');

    await row.getByRole('link', { name: f.sim.unit.serial }).click();
    await live.getByRole('link', { name: '0', exact: true }).click();
    const waveform = page.locator('.waveform-holder[data-plotted="true"]');
    await waveform.waitFor({ timeout: 15_000 });
    expect(await waveform.locator('.channel canvas').count()).toBe(4);
    expect(await waveform.locator('.channel').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')!.split(':')[0]))).toEqual(['Tran', 'Vert', 'Long', 'MicL']);
    await page.locator('table.analysis tbody tr').nth(3).waitFor();
    expect(await page.locator('table.analysis tbody th').allTextContents()).toEqual(['Tran', 'Vert', 'Long', 'MicL']);
    const chart = page.locator('svg.compliance-chart');
    expect(await chart.locator('path.curve').getAttribute('data-standard')).toBe('osmre-chart');
    expect(await chart.locator('g.channel-point').count()).toBe(3);

    // Zoom and pan act on the one time axis: buttons, then the keyboard.
    const holder = page.locator('.waveform');
    const windowOf = async () => (await holder.getAttribute('data-window'))!.split(',').map(Number) as [number, number];
    const [lo, hi] = await windowOf();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    const [zlo, zhi] = await windowOf();
    expect(zhi - zlo).toBeCloseTo((hi - lo) / 2, 3);
    await page.locator('.channels').focus();
    await page.keyboard.press('ArrowRight');
    const [plo] = await windowOf();
    expect(plo).toBeGreaterThan(zlo);
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    expect(await windowOf()).toEqual([lo, hi]);

    // The links give the CSV and the PDF.
    for (const [name, type] of [['Waveform as CSV', 'text/csv'], ['Report (PDF)', 'application/pdf']] as const) {
      const href = await page.getByRole('link', { name }).getAttribute('href');
      const r = await fetch(new URL(href!, f.url));
      expect(r.headers.get('content-type'), name).toContain(type);
    }
    expect(await axeViolations(page)).toEqual([]);
    await shot('event');
  }, 60_000);

  it('a configuration write: checked as the API checks it, then sent with the token asked for', async () => {
    await page.goto(`${f.url}/#/device/demo`);
    await page.getByText('Change the compliance setup').click();
    const form = page.locator('#compliance-form');
    await form.getByLabel('trigger level (in/s)').fill('99');
    await form.getByLabel('project', { exact: true }).fill('Browser Test');
    await form.getByRole('button', { name: 'Write to the unit' }).click();
    await expect.poll(() => form.getByLabel('trigger level (in/s)').getAttribute('aria-invalid')).toBe('true');
    expect(await form.locator('.field-error:not([hidden])').first().textContent()).toMatch(/at most 10/);

    await form.getByLabel('trigger level (in/s)').fill('0.6');
    await form.getByRole('button', { name: 'Write to the unit' }).click();
    const dialog = page.getByRole('dialog', { name: 'This server asks for its token' });
    await dialog.waitFor();
    await dialog.getByLabel('Bearer token').fill(TOKEN);
    await dialog.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => form.locator('.form-status').textContent()).toBe('Saved: trigger_level_ips, project.');
    const info = (await f.call('/device/info?device=demo&force=true')).json;
    expect([info.compliance.project, info.compliance.trigger_level_ips]).toEqual(['Browser Test', 0.6]);
  }, 30_000);

  it('the review flag, the erase\'s confirmation and the sessions', async () => {
    const archived = (await f.call(`/db/events?serial=${f.sim.unit.serial}&limit=5`)).json.events as { id: number; key: string; has_waveform: boolean }[];
    const id = archived.find((e) => e.has_waveform)!.id; // the one the walk above plotted
    await page.goto(`${f.url}/#/event/${id}`);
    await page.locator('.waveform-holder[data-plotted="true"]').waitFor({ timeout: 15_000 });
    await page.getByLabel('False trigger').check();
    await expect.poll(() => page.locator('.review .form-status').textContent()).toBe('Marked as a false trigger.');
    expect((await f.call(`/db/events/${id}`)).json.false_trigger).toBe(true);

    await page.goto(`${f.url}/#/device/demo`);
    await page.getByRole('button', { name: 'Erase the unit…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Erase every event on the unit?' });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('The archive holds 3 events of this unit');
    expect(await axeViolations(page)).toEqual([]);
    await shot('erase-confirmation');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(f.sim.unit.events.length).toBe(3);

    await page.getByRole('navigation').getByRole('link', { name: 'Sessions' }).click();
    const first = page.locator('tbody tr').first();
    await first.waitFor();
    expect(await first.textContent()).toContain('call-up');
    expect(await axeViolations(page)).toEqual([]);
    await shot('sessions');
    expect(errors).toEqual([]);
  }, 30_000);
});
