#!/usr/bin/env node
// Builds every package, type-checks every test, runs the whole vitest suite, and ends with
// the line CI reads: "N passed, N failed". Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = (name) => join('node_modules', '.bin', name);

// The real-serial-port tests run over a socat pseudo-terminal pair: install Debian's socat when
// it is missing and we may (root with apt-get), as the README's test command promises.
if (spawnSync('sh', ['-c', 'command -v socat'], { stdio: 'ignore' }).status !== 0) {
  const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (canInstall) {
    console.log('installing socat (Debian package) for the serial-port tests…');
    spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat'], { stdio: 'inherit' });
  } else {
    console.log('socat is missing: the real-serial-port tests will fail (install it: apt-get install socat)');
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
