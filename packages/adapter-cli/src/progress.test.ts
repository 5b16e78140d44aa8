/** Progress on stderr: redrawn on a terminal, plain and sparse elsewhere; each step's ETA from its own start. */
import { describe, expect, it } from 'vitest';
import type { CliIO } from './io.js';
import { downloadUpdate, syncUpdate, textUpdate } from '@sfm/core/service';
import { Progress } from './progress.js';

function setup(tty: boolean) {
  let t = 0;
  const io = { err: '', stderrIsTTY: tty, stdout: () => undefined, stderr: (s: string) => void (io.err += s) } satisfies CliIO & { err: string };
  const progress = new Progress(io, { now: () => t, plainEveryMs: 5000 });
  return { io, progress, advance: (ms: number) => void (t += ms) };
}

const chunk = (n: number, of = 14) => ({ chunksDone: n, chunksTotal: of, bytesDone: n * 512, bytesTotal: of * 512 });

describe('Progress on a terminal', () => {
  it('redraws one line per step and clears it when the step ends', () => {
    const { io, progress, advance } = setup(true);
    progress.report(syncUpdate({ done: 0, total: null, estimated: false }));
    advance(6000);
    progress.report(syncUpdate({ done: 1, total: null, estimated: false }));
    advance(6000);
    progress.report(syncUpdate({ done: 2, total: 5, estimated: true }));
    progress.report(syncUpdate({ done: 5, total: 5, estimated: false }));
    progress.report(textUpdate({ done: 0, total: 2 }));
    progress.report(textUpdate({ done: 2, total: 2 }));
    expect(io.err.split('\r')).toEqual([
      '',
      'reading the event list: event 1\x1b[K',
      'reading the event list: event 2\x1b[K',
      'reading the event list: event 3 of ~5  ETA 18 s\x1b[K',
      '\x1b[K',
      'reading project text: event 1 of 2\x1b[K',
      '\x1b[K',
    ]);
  });

  it('a download\'s ETA counts from its own first chunk, not from the sync before it', () => {
    const { io, progress, advance } = setup(true);
    progress.report(syncUpdate({ done: 0, total: 5, estimated: false }));
    advance(31_000); // a slow list sync before the download
    progress.report(syncUpdate({ done: 5, total: 5, estimated: false }));
    advance(2000); // the download's prelude
    progress.report(downloadUpdate(chunk(0)));
    advance(1000);
    progress.report(downloadUpdate(chunk(1)));
    advance(1000);
    progress.report(downloadUpdate(chunk(2)));
    const lines = io.err.split('\r').filter((l) => l.startsWith('downloading'));
    expect(lines).toEqual([
      'downloading [....................] 0/14 chunks, 0/7 KB\x1b[K',
      'downloading [#...................] 1/14 chunks, 1/7 KB  ETA 13 s\x1b[K',
      'downloading [###.................] 2/14 chunks, 1/7 KB  ETA 12 s\x1b[K',
    ]);
    progress.end();
    expect(io.err.endsWith('\r\x1b[K')).toBe(true);
  });
});

describe('Progress without a terminal', () => {
  it('prints nothing for a step that ends within the interval', () => {
    const { io, progress, advance } = setup(false);
    for (let n = 0; n <= 14; n++) {
      progress.report(downloadUpdate(chunk(n)));
      advance(100);
    }
    progress.end();
    expect(io.err).toBe('');
  });

  it('a plain line at most every interval, not one per chunk; no terminal codes', () => {
    const { io, progress, advance } = setup(false);
    for (let n = 0; n <= 40; n++) {
      progress.report(downloadUpdate(chunk(n, 40)));
      advance(1000);
    }
    progress.end();
    expect(io.err).toBe(
      [
        'downloading: 5/40 chunks, 3/20 KB  ETA 35 s',
        'downloading: 10/40 chunks, 5/20 KB  ETA 30 s',
        'downloading: 15/40 chunks, 8/20 KB  ETA 25 s',
        'downloading: 20/40 chunks, 10/20 KB  ETA 20 s',
        'downloading: 25/40 chunks, 13/20 KB  ETA 15 s',
        'downloading: 30/40 chunks, 15/20 KB  ETA 10 s',
        'downloading: 35/40 chunks, 18/20 KB  ETA 5 s',
        '',
      ].join('\n'),
    );
  });
});
