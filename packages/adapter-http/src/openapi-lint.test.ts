/**
 * The served OpenAPI document passes two independent linters with no error and no warning:
 * Redocly CLI (recommended rules) and Spectral (spectral:oas). Both run offline from this
 * package's node_modules with the rule files in lint/.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture } from '@sfm/test-support';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const bin = (name: string): string => here(`../node_modules/.bin/${name}`);

/** Runs a linter; its exit status and what it printed. */
function run(cmd: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        // No telemetry, no update check, no colour codes in the output.
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe.concurrent('the served OpenAPI document lints clean', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    const f = await startFixture();
    try {
      const r = await f.call('/openapi.json');
      expect(r.status).toBe(200);
      dir = await mkdtemp(join(tmpdir(), 'sfm-openapi-'));
      file = join(dir, 'openapi.json');
      await writeFile(file, r.text);
    } finally {
      await f.close();
    }
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Redocly CLI, recommended rules: no error, no warning', { timeout: 60_000 }, async () => {
    const r = await run(bin('redocly'), ['lint', file, '--config', here('../lint/redocly.yaml'), '--format', 'json']);
    const out = r.stdout.slice(r.stdout.indexOf('{'));
    let report: { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string; location: { pointer: string }[] }[] };
    try {
      report = JSON.parse(out);
    } catch {
      throw new Error(`redocly printed no report (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    const problems = report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems, r.stderr).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(r.status).toBe(0);
  });

  it('Spectral, spectral:oas: no problem of any severity', { timeout: 60_000 }, async () => {
    const r = await run(bin('spectral'), ['lint', file, '--ruleset', here('../lint/spectral.yaml'), '--format', 'json', '--fail-severity', 'hint', '--quiet']);
    let problems: { code: string; message: string; path: string[] }[];
    try {
      problems = JSON.parse(r.stdout.trim() || '[]');
    } catch {
      throw new Error(`spectral printed no report (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    expect(problems.map((p) => `${p.code} at ${p.path.join('.')}: ${p.message}`), r.stderr).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  });
});
