#!/usr/bin/env node
// Renders the synthetic example event to a PDF and a PNG (after `pnpm build`):
//   node packages/report/scripts/render-example.mjs [out.png] [dpi]
// docs/report-example.png is made this way.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderReport } from '../dist/index.js';
import { exampleReportInput } from '../dist/example.js';

const out = resolve(process.argv[2] ?? 'report-example.png');
const dpi = process.argv[3] ?? '90';
const dir = mkdtempSync(join(tmpdir(), 'sfm-report-'));
try {
  const pdf = join(dir, 'report.pdf');
  writeFileSync(pdf, await renderReport(exampleReportInput()));
  const r = spawnSync('pdftoppm', ['-png', '-r', dpi, '-singlefile', pdf, out.replace(/\.png$/, '')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log(out);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
