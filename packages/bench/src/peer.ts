/** Runs the Python peer (the cache sfm replaces) in the same invocation, so ratios compare like with like. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
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

/**
 * One run of the store-level peer (a fresh cache each run, S1–S6 for `budgetS` seconds each), with
 * READY_BYTES=1 so its reads end in the bytes a server would send, as sfm's do. Throws on failure.
 */
export function runPeerStoreBench(budgetS: number): Record<string, number | null> {
  const dir = sharedBenchDir();
  if (!dir) throw new Error('shared/bench not found beside the repository');
  const r = spawnSync(PEER_PYTHON, [resolve(dir, 'peer_store_bench.py')], { env: { ...process.env, BUDGET_S: String(budgetS), READY_BYTES: '1' }, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`peer_store_bench.py failed: ${(r.stderr ?? '').trim().split('\n').at(-1)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  if (out.ready_bytes !== true) throw new Error('peer_store_bench.py did not end its reads in bytes (ready_bytes is not true)');
  return Object.fromEntries(Object.entries(out).filter(([k]) => /^S\d_/.test(k)).map(([k, v]) => [k, typeof v === 'number' ? v : null]));
}

/** An HTTP peer (peer_http_verbatim.py or peer_http.py) listening on `port`, started now. */
export interface PeerServer {
  script: string;
  port: number;
  stop(): Promise<void>;
}

export async function startPeerHttp(script: string, port: number, extraArgs: string[] = []): Promise<PeerServer> {
  const dir = sharedBenchDir();
  if (!dir) throw new Error('shared/bench not found beside the repository');
  const child: ChildProcess = spawn(PEER_PYTHON, [resolve(dir, script), String(port), ...extraArgs], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  if (!(await waitForPort(port, 30_000, () => child.exitCode !== null))) {
    await stop();
    throw new Error(`${script} did not start: ${err.trim().split('\n').at(-1) ?? ''}`);
  }
  return { script, port, stop };
}

export async function waitForPort(port: number, ms = 20_000, gaveUp: () => boolean = () => false): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until && !gaveUp()) {
    const ok = await new Promise<boolean>((res) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
