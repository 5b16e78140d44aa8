/** Runs the Python peer (the cache sfm replaces) in the same invocation, so ratios compare like with like. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function sharedBenchDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const c = resolve(dir, '../shared/bench');
    if (existsSync(c)) return c;
    dir = resolve(dir, '..');
  }
  return undefined;
}

export const PEER_PYTHON = '/usr/bin/python3';

/** Installs the peer's Debian packages when missing and allowed (root with apt-get). */
export function ensurePeerDeps(): string | null {
  const check = spawnSync(PEER_PYTHON, ['-c', 'import sqlalchemy, fastapi, uvicorn'], { stdio: 'ignore' });
  if (check.status === 0) return null;
  if (process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0) {
    process.stderr.write('installing the peer\'s Debian packages (python3-sqlalchemy, python3-fastapi, python3-uvicorn)…\n');
    spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sqlalchemy python3-fastapi python3-uvicorn'], { stdio: 'inherit' });
    if (spawnSync(PEER_PYTHON, ['-c', 'import sqlalchemy, fastapi, uvicorn'], { stdio: 'ignore' }).status === 0) return null;
  }
  return 'the peer needs Debian\'s python3-sqlalchemy, python3-fastapi and python3-uvicorn';
}

export function runPeerStoreBench(budgetS: number): Record<string, number | string | null> | { error: string } {
  const dir = sharedBenchDir();
  if (!dir) return { error: 'shared/bench not found beside the repository' };
  const missing = ensurePeerDeps();
  if (missing) return { error: missing };
  const r = spawnSync(PEER_PYTHON, [resolve(dir, 'peer_store_bench.py')], { env: { ...process.env, BUDGET_S: String(budgetS) }, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return { error: `peer_store_bench.py failed: ${r.stderr.trim().split('\n').at(-1)}` };
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}
