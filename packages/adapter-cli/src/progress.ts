/**
 * Progress of the long steps on stderr: the event-list sync, the project text read after it, a
 * waveform download. On a terminal one line is redrawn in place (and cleared before the answer is
 * printed); elsewhere (a log, a pipe) a plain line comes at most every `plainEveryMs`, so a run
 * that ends sooner prints none. An ETA counts from the start of its own step (a download's from
 * its first chunk request, not from the command's start nor the sync before it).
 */
import { finished, progressCallbacks, type ProgressUpdate } from '@sfm/core/service';
import type { CliIO } from './io.js';

export interface ProgressOptions {
  now?: () => number;
  /** Without a terminal: the least time between two lines (default 5 s). */
  plainEveryMs?: number;
}

type Step = ProgressUpdate['step'];

const BAR_WIDTH = 20;

export class Progress {
  private readonly now: () => number;
  private readonly plainEveryMs: number;
  private step: Step | undefined;
  /** When the current step started, and how much it had done then (its rate counts from there). */
  private stepStart = 0;
  private stepDoneAtStart = 0;
  private lastPlainAt: number | undefined;
  private drawn = false;

  constructor(
    private readonly io: CliIO,
    opts: ProgressOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.plainEveryMs = opts.plainEveryMs ?? 5000;
  }

  /**
   * One report of the long work (core's ProgressUpdate, the report GET /device/progress streams
   * too): the event-list sync, the project text read after it, a waveform download.
   */
  readonly report = (u: ProgressUpdate): void => {
    if (u.step === 'idle') return this.finish();
    this.enter(u.step, u.done);
    if (finished(u)) return this.finish();
    const eta = this.eta(u.done, u.total);
    if (u.step === 'sync') return this.show(`reading the event list: event ${u.done + 1}${u.total === null ? '' : ` of ${u.estimated ? '~' : ''}${u.total}`}${eta}`);
    if (u.step === 'text') return this.show(`reading project text: event ${u.done + 1} of ${u.total}${eta}`);
    const counts = `${u.chunks_done}/${u.chunks_total} chunks, ${kb(u.done)}/${kb(u.total ?? 0)} KB${eta}`;
    if (!this.io.stderrIsTTY) return this.show(`downloading: ${counts}`);
    const filled = Math.round((u.total ? u.done / u.total : 1) * BAR_WIDTH);
    this.show(`downloading [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${counts}`);
  };

  /** The read options' progress callbacks, reporting here. */
  readonly callbacks = progressCallbacks(this.report);

  /** Clears the terminal line, before the answer is printed. */
  end(): void {
    this.finish();
  }

  private enter(step: Step, done: number): void {
    if (this.step === step) return;
    this.step = step;
    this.stepStart = this.now();
    this.stepDoneAtStart = done;
    this.lastPlainAt ??= this.stepStart;
  }

  /** "  ETA 12 s" from this step's own rate so far (nothing until it has one). */
  private eta(done: number, total: number | null): string {
    const doneHere = done - this.stepDoneAtStart;
    const elapsed = this.now() - this.stepStart;
    if (total === null || doneHere <= 0 || elapsed <= 0) return '';
    return `  ETA ${duration(((total - done) * elapsed) / doneHere / 1000)}`;
  }

  private show(text: string): void {
    if (this.io.stderrIsTTY) {
      this.io.stderr(`\r${text}\x1b[K`);
      this.drawn = true;
      return;
    }
    const now = this.now();
    if (now - this.lastPlainAt! < this.plainEveryMs) return;
    this.lastPlainAt = now;
    this.io.stderr(`${text}\n`);
  }

  private finish(): void {
    this.step = undefined;
    if (!this.drawn) return;
    this.io.stderr('\r\x1b[K');
    this.drawn = false;
  }
}

const kb = (bytes: number): string => String(Math.round(bytes / 1024));

function duration(s: number): string {
  if (s < 100) return `${Math.max(1, Math.ceil(s))} s`;
  const min = Math.round(s / 60);
  return min < 100 ? `${min} min` : `${Math.round(min / 60)} h`;
}
