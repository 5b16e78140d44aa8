/**
 * A throwaway PostgreSQL server on this machine, for tests and benchmarks: `initdb` in a
 * temporary folder, `pg_ctl start` on a free local port (its unix socket in that folder too),
 * a fresh database per caller, and `pg_ctl stop` plus the folder removed at the end.
 *
 * The server binaries are Debian's (`apt-get install postgresql`: /usr/lib/postgresql/<major>/bin),
 * or `pg_ctl` on the PATH, or the folder named by SFM_PG_BIN. Run as root, they run as the
 * `postgres` user (PostgreSQL refuses to run as root).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface LocalClusterOptions {
  /**
   * Fast and crash-unsafe (fsync off): for tests. Off (the default) keeps fsync on with
   * synchronous_commit off — a commit survives a crash of the process, a power cut may lose the
   * last ones — which is what the SQLite store's WAL with synchronous = NORMAL promises.
   */
  unsafeFast?: boolean;
}

export interface LocalCluster {
  readonly port: number;
  /** The connection URL of `database` (default: the `postgres` maintenance database). */
  url(database?: string): string;
  /** Creates an empty database and answers its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): void;
}

const HOW_TO_INSTALL =
  'PostgreSQL is not installed: the PostgreSQL store tests and benchmarks start a local server. ' +
  'Install it (Debian: apt-get install postgresql — the binaries land in /usr/lib/postgresql/<major>/bin), ' +
  'or set SFM_PG_BIN to the folder holding initdb and pg_ctl';

/** The folder holding initdb and pg_ctl, or an Error saying how to install them. */
export function findPostgresBin(): string {
  const given = process.env.SFM_PG_BIN;
  if (given) {
    if (!existsSync(join(given, 'pg_ctl'))) throw new Error(`SFM_PG_BIN=${given} holds no pg_ctl`);
    return given;
  }
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (majors.length > 0) return join(root, majors[0]!, 'bin');
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return join(onPath.stdout.trim(), '..');
  throw new Error(HOW_TO_INSTALL);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

let databases = 0;

export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const bin = findPostgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'sfm-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root, and there is no postgres user to run PostgreSQL as (apt-get install postgresql creates it)');
    chownSync(dir, uid, gid);
  }
  const pgRun = (tool: string, args: string[]): void => {
    const [cmd, full] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
    try {
      execFileSync(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: Buffer; stdout?: Buffer; message: string };
      throw new Error(`${tool} failed: ${err.stderr?.toString().trim() || err.stdout?.toString().trim() || err.message}`);
    }
  };
  const data = join(dir, 'data');
  pgRun('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=200',
    ...(opts.unsafeFast ? ['-c fsync=off', '-c full_page_writes=off', '-c synchronous_commit=off'] : ['-c synchronous_commit=off']),
  ];
  pgRun('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', settings.join(' '), '-w', '-t', '60', 'start']);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    try {
      pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // A test run that ends without calling stop() still leaves no server behind.
  process.on('exit', stop);
  const url = (database = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return { port, url, createDatabase: (name) => createDatabase(url, name), stop };
}

/**
 * The server tests use: the one SFM_PG_URL names when set (a role that may create databases, as
 * .ci/run starts for the whole run; stop() leaves it running), else a local cluster started here.
 */
export async function serverForTests(): Promise<LocalCluster> {
  const given = process.env.SFM_PG_URL;
  if (!given) return startLocalCluster({ unsafeFast: true });
  const base = new URL(given);
  const url = (database = base.pathname.slice(1) || 'postgres'): string => {
    const u = new URL(given);
    u.pathname = `/${database}`;
    return u.toString();
  };
  return { port: Number(base.port || 5432), url, createDatabase: (name) => createDatabase(url, name), stop: () => undefined };
}

async function createDatabase(url: (database?: string) => string, name = `sfm_${process.pid}_${Date.now().toString(36)}_${++databases}`): Promise<string> {
  const c = new pg.Client({ connectionString: url() });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await c.end();
  }
  return url(name);
}
