/**
 * The deployable artefact (`pnpm artefact`, scripts/artefact.mjs), as a service owner gets it:
 * built once into a temporary directory, unpacked from its tarball somewhere else with the build
 * directory gone, and run from an unrelated directory with `node` alone — the CLI, `sfm serve` on
 * a real SQLite file answering HTTP until SIGTERM, the serial transport over a real
 * pseudo-terminal — and the systemd unit checked by systemd's own tools against it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '@sfm/simulator';
import { SerialTransport, createPtyPair } from '@sfm/transport-serial';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'packages/app/package.json'), 'utf8')) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), 'sfm-artefact-test-'));
const buildDir = join(work, 'build');
/** Where the tarball is unpacked: the artefact as installed. */
let home: string;
/** A directory unrelated to the artefact and the checkout, to run from. */
const elsewhere = join(work, 'elsewhere');
/** Only node on PATH (and the shell tools the launcher uses); no SFM_* or NODE_* settings. */
const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

beforeAll(() => {
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/artefact.mjs'), '--out', buildDir], { cwd: work, encoding: 'utf8' });
  expect(built.status, `${built.stdout}\n${built.stderr}`).toBe(0);
  const tarballs = readdirSync(buildDir).filter((f) => f.startsWith(`sfm-${VERSION}-`) && f.endsWith('.tar.gz'));
  expect(tarballs).toHaveLength(1);
  const opt = join(work, 'opt');
  mkdirSync(opt);
  mkdirSync(elsewhere);
  const unpacked = spawnSync('tar', ['-xzf', join(buildDir, tarballs[0]!), '-C', opt], { encoding: 'utf8' });
  expect(unpacked.status, unpacked.stderr).toBe(0);
  rmSync(buildDir, { recursive: true }); // nothing may lean on where it was built
  home = join(opt, `sfm-${VERSION}`);
}, 180_000);

/** Every path in the artefact, relative to it, with lstat's view (links are not followed). */
function walk(dir: string): { rel: string; isLink: boolean; isDir: boolean }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((rel) => {
    const st = lstatSync(join(dir, rel));
    return { rel, isLink: st.isSymbolicLink(), isDir: st.isDirectory() };
  });
}

function sfm(args: string[], cwd = elsewhere, exe = join(home, 'bin', 'sfm')) {
  return spawnSync(exe, args, { cwd, env, encoding: 'utf8' });
}

describe('the artefact', () => {
  it('holds built JavaScript and production dependencies only, with no link or path back to the checkout', () => {
    const entries = walk(home);
    const files = entries.filter((e) => !e.isDir && !e.isLink).map((e) => e.rel);
    expect(entries.filter((e) => e.isLink).map((e) => e.rel)).toEqual([]);
    expect(files.filter((f) => /\.[mc]?ts$|\.map$/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.test\.|(^|\/)(test|tests|__tests__)\//.test(f))).toEqual([]);
    for (const devOnly of ['typescript', 'vitest', 'fast-check', '@types', '@sfm/test-support', '@sfm/test-kit', '@sfm/integration', '@sfm/bench']) {
      expect(existsSync(join(home, 'node_modules', devOnly)), devOnly).toBe(false);
    }
    expect(existsSync(join(home, 'src')), 'TypeScript sources').toBe(false);
    // The compiled native modules, for this platform.
    expect(files.some((f) => f.startsWith('node_modules/better-sqlite3/') && f.endsWith('.node'))).toBe(true);
    expect(files.some((f) => f.startsWith('node_modules/@serialport/bindings-cpp/') && f.includes(`${process.platform}-`) && f.endsWith('.node'))).toBe(true);
    for (const f of ['dist/main.js', 'LICENSE', 'CHANGELOG.md', 'deploy/sfm.service', 'deploy/sfm.json']) expect(files, f).toContain(f);
    expect(statSync(join(home, 'bin', 'sfm')).mode & 0o111).not.toBe(0);
    const mentionsCheckout = files.filter((f) => readFileSync(join(home, f), 'latin1').includes(ROOT));
    expect(mentionsCheckout).toEqual([]);
  });

  it('runs from any directory, also through a symlink to its launcher', () => {
    const help = sfm(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('sfm serve');

    const onPath = join(work, 'usr-local-bin');
    mkdirSync(onPath);
    symlinkSync(join(home, 'bin', 'sfm'), join(onPath, 'sfm'));
    const simHelp = sfm(['sim', '--help'], '/', join(onPath, 'sfm'));
    expect(simHelp.status, simHelp.stderr).toBe(0);
    expect(simHelp.stdout).toContain('--attach');
  });

  it('serves HTTP from a SQLite file with its example configuration, and stops on SIGTERM with exit 0', async () => {
    const db = join(work, 'state', 'sfm.db');
    mkdirSync(dirname(db));
    const child = spawn(join(home, 'bin', 'sfm'), ['serve', '--config', join(home, 'deploy', 'sfm.json'), '--store', `sqlite:${db}`, '--listen', '127.0.0.1:0'], { cwd: elsewhere, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));

    // The port is the kernel's choice: read it from what serve prints, then poll /health.
    const base = await poll(() => /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0], () => `no URL printed: ${out}`);
    await poll(async () => ((await fetch(`${base}/health`).catch(() => undefined))?.ok ? true : undefined), () => `/health never answered: ${out}`);
    const info = await fetch(`${base}/device/info?device=demo`);
    expect(info.status, out).toBe(200);
    expect(((await info.json()) as { serial: string }).serial).toMatch(/^[A-Z]{2}\d+$/);

    child.kill('SIGTERM');
    expect(await exited, out).toBe(0);
    expect(statSync(db).size).toBeGreaterThan(0);
  });

  it('reaches a unit over a real serial device with its own serialport binding', async () => {
    const pair = await createPtyPair();
    const sim = await startSimulator({ serial: 'BE90417', events: 1, recordTimeS: 1, baud: 0, forwardDelayMs: 0, monitorSettleMs: 0, host: '127.0.0.1', port: 0 });
    const deviceSide = await new SerialTransport({ kind: 'serial', path: pair.b, baud: 38400 }).openStream();
    const session = sim.server.serveStream(deviceSide);
    try {
      const info = spawn(join(home, 'bin', 'sfm'), ['info', '--port', pair.a, '--store', 'memory', '--json'], { cwd: elsewhere, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(info);
      let out = '';
      let err = '';
      info.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      info.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => info.on('exit', (c) => (children.delete(info), resolve(c))));
      expect(code, err).toBe(0);
      expect((JSON.parse(out) as { serial: string }).serial).toBe('BE90417');
    } finally {
      session.close();
      deviceSide.destroy();
      await sim.close();
      await pair.close();
    }
  });
});

const systemdAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

describe('the systemd unit (deploy/sfm.service)', () => {
  /**
   * A copy of the unit starting this artefact (systemd checks that ExecStart exists), with
   * `DynamicUser=yes` optionally swapped for a named user.
   */
  function unitForArtefact(user: 'dynamic' | 'named' = 'dynamic'): string {
    const text = readFileSync(join(ROOT, 'deploy', 'sfm.service'), 'utf8');
    let unit = text.replace(/^ExecStart=\/opt\/sfm\/bin\/sfm /m, `ExecStart=${join(home, 'bin', 'sfm')} `);
    expect(unit, 'ExecStart no longer starts /opt/sfm/bin/sfm').not.toBe(text);
    if (user === 'named') {
      const named = unit.replace(/^DynamicUser=yes$/m, 'User=sfm\nGroup=sfm');
      expect(named, 'no DynamicUser=yes line').not.toBe(unit);
      unit = named;
    }
    const dir = mkdtempSync(join(work, 'unit-'));
    writeFileSync(join(dir, 'sfm.service'), unit);
    return join(dir, 'sfm.service');
  }

  it.skipIf(!systemdAnalyze)('passes systemd-analyze verify without a warning (skipped when systemd-analyze is not installed)', () => {
    const r = spawnSync('systemd-analyze', ['verify', unitForArtefact()], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // verify exits 0 on unknown keys and bad values too, only warning about them.
    expect(r.stderr.trim()).toBe('');
  });

  // DynamicUser= implies a read-only system and a private /tmp; the unit also says so itself, so
  // that it stays hardened with a named user: systemd judges both forms.
  it.skipIf(!systemdAnalyze).each(['dynamic', 'named'] as const)(
    "runs as its own user (%s) with the system read-only, no home, private /tmp and no new privileges, by systemd's own reading (skipped without systemd-analyze)",
    (user) => {
      const r = spawnSync('systemd-analyze', ['security', '--offline=true', unitForArtefact(user)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const check = (name: string): string => r.stdout.split('\n').find((l) => l.includes(` ${name} `))?.trim() ?? `${name}: not reported`;
      for (const name of ['User=/DynamicUser=', 'ProtectSystem=', 'ProtectHome=', 'PrivateTmp=', 'NoNewPrivileges=']) {
        expect(check(name).startsWith('✓'), check(name)).toBe(true);
      }
      expect(check('ProtectSystem=')).toContain('strict');
    },
  );

  it('keeps the SQLite file in its state directory and restarts on failure', () => {
    const settings = readFileSync(join(ROOT, 'deploy', 'sfm.service'), 'utf8').split('\n').filter((l) => /^\w+=/.test(l));
    const values = (key: string): string[] => settings.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
    const [state] = values('StateDirectory');
    expect(state).toBeTruthy();
    expect(values('Environment')).toContain(`SFM_STORE=sqlite:%S/${state}/sfm.db`);
    expect(values('Restart')).toEqual(['on-failure']);
    expect(values('KillSignal')).toEqual(['SIGTERM']);
  });
});

async function poll<T>(probe: () => T | undefined | Promise<T | undefined>, why: () => string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 25));
  }
}
