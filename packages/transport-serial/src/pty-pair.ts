/**
 * A test helper: a connected pair of pseudo-terminals, made by socat, standing in for a serial
 * cable. Open one end with SerialTransport and attach an emulated unit (or a plain SerialPort) to
 * the other; both are real serial device nodes, so the real binding, termios and locking are
 * exercised. Linux and macOS; needs socat on the PATH (`apt-get install socat`; CI installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Path of one end (a symlink to /dev/pts/N). */
  readonly a: string;
  /** Path of the other end. */
  readonly b: string;
  /** Stops socat (both ends go away, as an unplugged cable would) and removes the links. Idempotent. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** Give up if socat has not set the pair up within this long. Default 5 s. */
  timeoutMs?: number;
}

export const SOCAT_MISSING =
  'socat is not installed, and the real serial-port tests need it to make a pseudo-terminal pair: ' +
  'install it (Debian/Ubuntu: apt-get install socat; macOS: brew install socat). CI installs it in .ci/run.';

export function createPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const dir = mkdtempSync(join(tmpdir(), 'sfm-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  // rawer + echo=0: bytes pass both ways untouched, nothing is echoed back while an end is closed.
  const end = (link: string): string => `pty,rawer,echo=0,link=${link}`;

  let child: ChildProcess;
  try {
    child = spawn('socat', ['-d', '-d', end(a), end(b)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return Promise.reject(new Error(`${SOCAT_MISSING} (${(e as Error).message})`, { cause: e }));
  }

  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 16_384) stderr += s;
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (!exited && child.exitCode === null) {
        child.kill('SIGTERM');
        const hard = setTimeout(() => child.kill('SIGKILL'), 1_000);
        await exit;
        clearTimeout(hard);
      }
      rmSync(dir, { recursive: true, force: true });
    })());

  return new Promise<PtyPair>((resolve, reject) => {
    let done = false;
    const fail = (message: string, cause?: unknown): void => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      void close().then(() => reject(new Error(message, { cause })));
    };
    child.once('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'ENOENT' ? SOCAT_MISSING : `socat could not start: ${e.message}`, e),
    );
    child.once('exit', (code, sig) => fail(`socat exited (${sig ?? code}) before the pty pair was ready: ${stderr.trim()}`));
    const timer = setTimeout(() => fail(`socat did not set up the pty pair within ${timeoutMs} ms: ${stderr.trim()}`), timeoutMs);
    // Ready when both links exist and socat has entered its transfer loop (both ptys open).
    const poll = setInterval(() => {
      if (done || !existsSync(a) || !existsSync(b) || !stderr.includes('starting data transfer loop')) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ a, b, close });
    }, 10);
  });
}
