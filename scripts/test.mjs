#!/usr/bin/env node
// Builds every package, type-checks every test, runs the whole vitest suite, and ends with
// the line CI reads: "N passed, N failed". Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = (name) => join('node_modules', '.bin', name);

// Tests use real parts: a socat pseudo-terminal pair (serial), Debian's headless Chromium (the
// web application), poppler (the PDF report), a PostgreSQL server (the PostgreSQL store). Install
// the Debian packages that are missing when we may (root with apt-get), as the README's test
// command promises; otherwise say which tests will fail and how to install them.
const has = (check) => spawnSync('sh', ['-c', check], { stdio: 'ignore' }).status === 0;
const needed = [
  ['socat', 'command -v socat', 'the real-serial-port tests'],
  ['chromium', 'test -x /usr/bin/chromium', 'the web application\'s browser tests'],
  ['poppler-utils', 'command -v pdftotext', 'the PDF report tests'],
  ['postgresql', 'ls /usr/lib/postgresql/*/bin/pg_ctl || command -v pg_ctl || test -n "$SFM_PG_URL"', 'the PostgreSQL store tests'],
].filter(([, check]) => !has(check));
if (needed.length > 0) {
  const names = needed.map(([pkg]) => pkg).join(' ');
  if (process.getuid?.() === 0 && has('command -v apt-get')) {
    console.log(`installing Debian packages the tests use: ${names}…`);
    spawnSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${names}`], { stdio: 'inherit' });
  } else {
    for (const [pkg, , what] of needed) console.log(`${pkg} is missing: ${what} will fail (install it: apt-get install ${pkg})`);
  }
}
// The packages (tests are not part of any package's build), the web application's static files
// (its browser tests load them), then every test file type-checked.
const steps = [
  ['build', bin('tsc'), ['-b']],
  ['web build', 'pnpm', ['--filter', '@sfm/web', '--silent', 'build']],
  ['test type-check', bin('tsc'), ['-p', 'tsconfig.test.json']],
];
for (const [what, command, args] of steps) {
  const r = spawnSync(command, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.log(`${what} failed`);
    console.log('0 passed, 1 failed');
    process.exit(r.status ?? 1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sfm-test-'));
const report = join(dir, 'report.json');
const run = spawnSync(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], { stdio: 'inherit' });

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numFailedTestSuites > 0 && r.numFailedTests === 0 ? r.numFailedTestSuites : 0);
  skipped = r.numPendingTests + r.numTodoTests;
} catch {
  failed = Math.max(failed, 1); // no report: the runner itself broke
}
rmSync(dir, { recursive: true, force: true });
const status = run.status ?? 1;
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status);
