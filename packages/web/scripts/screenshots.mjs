#!/usr/bin/env node
/**
 * Screenshots of each view for the README (docs/screenshots/*.png): a real `sfm serve` with the
 * emulated unit "demo" and a store in memory, driven in headless Chromium. Run after a build:
 * `pnpm screenshots`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = join(ROOT, 'docs', 'screenshots');

/** Starts sfm serve on a free port; resolves its base URL once it says where it serves. */
function serve() {
  const child = spawn(process.execPath, [join(ROOT, 'packages/app/dist/main.js'), 'serve', '--store', 'memory', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolveUrl, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`sfm serve exited (${code}) before serving:\n${out}`)));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /serving (http:\/\/\S+)/.exec(out);
      if (m) resolveUrl({ url: m[1], child });
    });
  });
}

const { url, child } = await serve();
const browser = await launchBrowser();
try {
  mkdirSync(OUT, { recursive: true });
  const page = await browser.context.newPage();
  const shot = async (name) => {
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
    console.log(`docs/screenshots/${name}.png`);
  };
  await page.goto(`${url}/#/device/demo`);
  await page.locator('section', { hasText: 'Events on the unit' }).locator('tbody tr').first().waitFor();
  // Once the project text read after the answer is in (the page shows it when the session ends).
  await page.waitForFunction(() => !document.body.textContent.includes('(reading…)') && document.querySelectorAll('a[href^="#/event/"]').length > 0, null, { timeout: 60_000 });
  await page.getByText('Change the compliance setup').click();
  await shot('unit');
  await page.goto(`${url}/#/`);
  await page.locator('table.fleet tbody tr').first().waitFor();
  await shot('fleet');
  const serial = await page.locator('table.fleet tbody tr').first().getAttribute('data-serial');
  await page.goto(`${url}/#/unit/${serial}/event/0`);
  await page.locator('.waveform-holder[data-plotted="true"]').waitFor({ timeout: 60_000 });
  await page.locator('svg.compliance-chart').waitFor();
  await shot('event');
  await page.goto(`${url}/#/sessions`);
  await page.locator('tbody tr').first().waitFor();
  await shot('sessions');
} finally {
  await browser.close();
  child.kill('SIGTERM');
}
