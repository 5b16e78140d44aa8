/**
 * The sfm executable as a user at a terminal runs it: in a real pseudo-terminal (util-linux
 * `script`) where a terminal matters — progress redrawn on stderr, cleared before the answer — and
 * through pipes where it does not. Runs the built executable (dist/main.js; `pnpm test` builds
 * first) against emulated units with a paced link.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sfm-terminal-'));
const config = join(dir, 'sfm.json');
writeFileSync(config, JSON.stringify({ plugins: ['transport-tcp', 'store-sqlite'], frame_timeout_s: 5, chunk_timeout_s: 5, log_level: 'warn' }));
/** An SGR sequence (colour, bold…): sfm prints none, so NO_COLOR has nothing to turn off. */
const SGR = /\x1b\[[\d;]*m/;

let sim: RunningSimulator;
let big: RunningSimulator;
let stores = 0;
/** The unit's flags and a cache of its own (every run starts cold). */
const unit = (s: RunningSimulator) => ['--host', '127.0.0.1', '--tcp-port', String(s.address.port), '--config', config, '--store', `sqlite:${join(dir, `cache-${++stores}.db`)}`];

beforeAll(async () => {
  expect(existsSync(MAIN), `${MAIN} is missing: build first (pnpm build)`).toBe(true);
  // A paced link (each reply waits for the line and a short modem hold), so steps take real time.
  sim = await startSimulator({ events: 3, recordTimeS: 2, baud: 115_200, forwardDelayMs: 5 });
  // Events long enough that their CSV overflows a pipe's buffer.
  big = await startSimulator({ events: 1, recordTimeS: 10, baud: 0, forwardDelayMs: 0 });
});
afterAll(async () => {
  await Promise.all([sim?.close(), big?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
const command = (args: string[]): string => [process.execPath, MAIN, ...args].map(quote).join(' ');

function exec(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: undefined, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Runs sfm with stdout and stderr on a pseudo-terminal; `screen` is everything that reached it. */
async function inTerminal(args: string[]): Promise<{ code: number | null; screen: string }> {
  const r = await exec('script', ['-qfec', command(args), '/dev/null']);
  return { code: r.code, screen: r.out };
}

/** Runs sfm with stdout and stderr on pipes. */
const piped = (args: string[], env?: NodeJS.ProcessEnv) => exec(process.execPath, [MAIN, ...args], env);

describe('in a terminal', () => {
  it('sfm events shows the list sync and the project text as they go, clears the line, then prints the table; no colour', async () => {
    const { code, screen } = await inTerminal(['events', ...unit(sim)]);
    expect(code).toBe(0);
    const [progress, table] = [screen.slice(0, screen.indexOf('BE18189: 3 events')), screen.slice(screen.indexOf('BE18189: 3 events'))];
    const drawn = progress.split('\r').filter((l) => l !== '' && l !== '\x1b[K');
    expect(drawn).toEqual([
      'reading the event list: event 1\x1b[K',
      'reading the event list: event 2\x1b[K',
      expect.stringMatching(/^reading the event list: event 3 of ~3 {2}ETA \d+ s\x1b\[K$/),
      'reading project text: event 1 of 3\x1b[K',
      expect.stringMatching(/^reading project text: event 2 of 3 {2}ETA \d+ s\x1b\[K$/),
      expect.stringMatching(/^reading project text: event 3 of 3 {2}ETA \d+ s\x1b\[K$/),
    ]);
    expect(progress.endsWith('\r\x1b[K')).toBe(true); // cleared: the table starts on a clean line
    expect(table.split('\r\n')).toHaveLength(3 + 2 + 1);
    expect(table).toContain(sim.unit.events[2]!.key);
    expect(screen).not.toMatch(SGR);
  });

  it('sfm waveform --out shows the download: a bar, chunks, kilobytes and an ETA; then what it wrote', async () => {
    const out = join(dir, 'w1.csv');
    const { code, screen } = await inTerminal(['waveform', '1', ...unit(sim), '--format', 'csv', '--out', out]);
    expect(code).toBe(0);
    const bars = screen.split('\r').filter((l) => l.startsWith('downloading'));
    const total = Number(/ 0\/(\d+) chunks/.exec(bars[0]!)?.[1]);
    expect(total).toBeGreaterThan(1);
    // The first line comes with the probe's reply (the event's first 1.5 KB), before any chunk.
    expect(bars[0]).toMatch(new RegExp(`^downloading \\[#*\\.+\\] 0/${total} chunks, 2/\\d+ KB\\x1b\\[K$`));
    expect(bars.at(-1)).toMatch(new RegExp(`^downloading \\[#+\\.*\\] ${total - 1}/${total} chunks, \\d+/\\d+ KB {2}ETA \\d+ s\\x1b\\[K$`));
    expect(bars).toHaveLength(total);
    expect(screen).toMatch(/\r\x1b\[Kwrote .*w1\.csv \(\d+ samples per channel\)\r\n$/);
    expect(readFileSync(out, 'utf8')).toMatch(/^t_s,Tran_ips/);
    expect(screen).not.toMatch(SGR);
  });
});

describe('through pipes', () => {
  it('sfm waveform 0 | head -c 10: the reader leaving ends the run quietly, exit status 0; no progress on a pipe for a short run', async () => {
    const err = join(dir, 'head.err');
    const sh = `${command(['waveform', '0', ...unit(big), '--format', 'csv'])} 2>${quote(err)} | head -c 10; exit "\${PIPESTATUS[0]}"`;
    const r = await exec('bash', ['-c', sh]);
    expect([r.code, r.out, readFileSync(err, 'utf8')]).toEqual([0, 't_s,Tran_i', '']);
  });

  it('--version prints the version; sfm completion gives bash a script that completes commands and flags', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'sfm'), `#!/bin/sh\nexec ${command([])} "$@"\n`);
    chmodSync(join(bin, 'sfm'), 0o755);
    // As a user installs it: the script sourced, then the shell asks it to complete what was typed.
    const complete = (words: string) => `COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _sfm_yargs_completions; echo "\${COMPREPLY[*]}"`;
    const [version, completion] = await Promise.all([
      piped(['--version']),
      exec('bash', ['-c', `source <(sfm completion) && ${complete('sfm wav')} && ${complete('sfm waveform 0 --tcp')}`], { PATH: `${bin}:${process.env.PATH}`, SHELL: '/bin/bash' }),
    ]);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect([version.code, version.out, version.err]).toEqual([0, `${pkg.version}\n`, '']);
    expect([completion.code, completion.out, completion.err]).toEqual([0, 'waveform\n--tcp-port\n', '']);
  });

  it('a bad environment variable is named with its value; serve refuses a public bind without a token before starting anything', async () => {
    const serveConfig = join(dir, 'serve.json');
    writeFileSync(serveConfig, JSON.stringify({ plugins: ['transport-tcp', 'store-memory', 'simulator', 'adapter-http'], store: 'memory', simulate: true, log_level: 'info' }));
    const [ttl, serve] = await Promise.all([
      piped(['status', ...unit(sim)], { SFM_STATUS_TTL_S: 'abc' }),
      piped(['serve', '--listen', '0.0.0.0:0', '--config', serveConfig], { SFM_HTTP_TOKEN: undefined }),
    ]);
    expect([ttl.code, ttl.out, ttl.err]).toEqual([2, '', 'sfm: configuration: status_ttl_s: must be a number from 1 to 86400, got "abc" (SFM_STATUS_TTL_S)\n']);
    expect([serve.code, serve.out]).toEqual([2, '']);
    expect(serve.err).toBe('sfm: configuration: refusing to listen on 0.0.0.0 without a token: write routes would be open to the network (configure http_token, or listen on 127.0.0.1)\n');
  });
});
