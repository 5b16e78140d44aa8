/**
 * The built `sfm` executable (dist/main.js; `pnpm test` builds first) run as a real child process,
 * for tests of what an operator sees: its exit status, its stdout and stderr, its HTTP server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (pnpm build)`);
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

export interface Running {
  child: ChildProcess;
  /** What it wrote so far. */
  readonly out: string;
  readonly err: string;
  done: Promise<Finished>;
}

const children = new Set<ChildProcess>();

/** Kills what is still running (call in afterAll). */
export function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
}

/** Runs `sfm args`; `wrap` is a command that runs it (its arguments follow the wrapper's). */
export function sfm(args: string[], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Running {
  const argv = [...wrap, process.execPath, MAIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  const r = { child, out: '', err: '' } as Running & { out: string; err: string };
  child.stdout!.on('data', (d: Buffer) => (r.out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (r.err += d.toString()));
  r.done = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      // Let the pipes drain: 'exit' can come before the last 'data'.
      setImmediate(() => resolve({ code, signal, out: r.out, err: r.err }));
    });
  });
  return r;
}

/** Polls `cond` until it holds (or fails after `ms`). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `sfm serve` on a free port; resolves once it listens, with its base URL. */
export async function serve(args: string[], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<Running & { url: string; stop: (signal?: NodeJS.Signals) => Promise<Finished> }> {
  const r = sfm(['serve', '--listen', '127.0.0.1:0', ...args], env, wrap);
  let ended: Finished | undefined;
  void r.done.then((f) => (ended = f));
  await until(() => ended !== undefined || /serving (http:\/\/\S+)/.test(r.out), 'sfm serve to listen');
  if (ended) throw new Error(`sfm serve ended (${ended.code}): ${ended.err}`);
  const url = /serving (http:\/\/\S+)/.exec(r.out)![1]!;
  return Object.assign(r, {
    url,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      r.child.kill(signal);
      return r.done;
    },
  });
}
