/**
 * Writing a capture (format.ts): one writer per file, sessions one after another, every record
 * handed to the file as it happens (a process that dies leaves a file that reads up to its last
 * record). A write that fails stops the recording, never the session being recorded: the error is
 * kept and reported by close().
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import {
  CAPTURE_FORMAT, CAPTURE_VERSION, capturePreamble, encodeRecord, jsonPayload,
  type CaptureHeader, type RecordType, type SessionEnd, type SessionStart,
} from './format.js';

/** Where the bytes go: a file (fileSink), or anything else that keeps them in order. */
export interface CaptureSink {
  write(bytes: Uint8Array): void;
  /** Makes what was written durable (fsync for a file). */
  flush(): void;
  close(): void;
}

/** A file, written with plain write(2) calls so the kernel has every record once it is written. */
export function fileSink(path: string): CaptureSink {
  const fd = openSync(path, 'w');
  return {
    write: (bytes) => {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    },
    flush: () => fsyncSync(fd),
    close: () => closeSync(fd),
  };
}

/** A capture could not be written (the file, the disk): recording stopped there. */
export class CaptureWriteError extends Error {
  override name = 'CaptureWriteError';
}

export interface CaptureWriterOptions {
  /** Wall-clock milliseconds (default performance.timeOrigin + performance.now(): monotonic). */
  now?: () => number;
  /** Names the capture in messages (default "capture"). */
  describe?: string;
}

/** What the recorder says about itself in the header (CaptureHeader without what the writer fills in). */
export interface CaptureInfo {
  recorder: string;
  [field: string]: unknown;
}

export class CaptureWriter {
  private readonly now: () => number;
  private readonly startMs: number;
  private lastUs = 0;
  private closed = false;
  private failure: CaptureWriteError | null = null;
  private current: CaptureSession | null = null;
  private sessionCount = 0;
  readonly bytes = { host: 0, device: 0 };
  readonly describe: string;

  /** Creates (or empties) the file at `path` and writes the header. */
  static create(path: string, info: CaptureInfo, opts: CaptureWriterOptions = {}): CaptureWriter {
    let sink: CaptureSink;
    try {
      sink = fileSink(path);
    } catch (e) {
      throw new CaptureWriteError(`cannot write the capture ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    return new CaptureWriter(sink, info, { describe: path, ...opts });
  }

  constructor(
    private readonly sink: CaptureSink,
    info: CaptureInfo,
    opts: CaptureWriterOptions = {},
  ) {
    this.now = opts.now ?? (() => performance.timeOrigin + performance.now());
    this.describe = opts.describe ?? 'capture';
    this.startMs = this.now();
    const header: CaptureHeader = { ...info, format: CAPTURE_FORMAT, version: CAPTURE_VERSION, started_at: new Date(this.startMs).toISOString() };
    this.put(capturePreamble());
    this.record('capture', jsonPayload(header), this.startMs);
  }

  /** The first write error, if recording stopped. */
  get error(): CaptureWriteError | null {
    return this.failure;
  }

  /** Sessions started so far. */
  get sessions(): number {
    return this.sessionCount;
  }

  /** Starts the next session; the one before must have ended (a capture holds one at a time). */
  startSession(info: Omit<SessionStart, 'session'>): CaptureSession {
    if (this.closed) throw new Error(`${this.describe}: the capture is closed`);
    if (this.current && !this.current.ended) throw new Error(`${this.describe}: session ${this.current.number} is still open (a capture holds one session at a time)`);
    const number = ++this.sessionCount;
    this.record('session-start', jsonPayload({ ...info, session: number }));
    this.current = new CaptureSession(this, number);
    return this.current;
  }

  /** Ends an open session (closed_by "recorder"), writes the end record, makes the file durable and closes it. */
  close(): void {
    if (this.closed) return;
    if (this.current && !this.current.ended) this.current.end({ closed_by: 'recorder' });
    this.record('capture-end', jsonPayload({ sessions: this.sessionCount, bytes: this.bytes }));
    this.closed = true;
    this.guard(() => this.sink.flush());
    try {
      this.sink.close();
    } catch (e) {
      this.fail(e);
    }
  }

  /** @internal */
  record(type: RecordType, payload: Uint8Array, at = this.now()): void {
    if (this.closed || this.failure) return;
    let us = Math.round((at - this.startMs) * 1000);
    if (us < this.lastUs) us = this.lastUs; // a clock step back must not reorder the file
    this.lastUs = us;
    this.put(encodeRecord(type, us, payload));
  }

  private put(bytes: Uint8Array): void {
    this.guard(() => this.sink.write(bytes));
  }

  private guard(step: () => void): void {
    if (this.failure) return;
    try {
      step();
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.failure ??= new CaptureWriteError(`${this.describe}: recording stopped: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** One session of a capture: what each side sent, in order, and how it ended. */
export class CaptureSession {
  private done = false;

  constructor(
    private readonly writer: CaptureWriter,
    readonly number: number,
  ) {}

  get ended(): boolean {
    return this.done;
  }

  /** Bytes the host (the vendor's software, sfm) sent to the unit. */
  host(bytes: Uint8Array): void {
    if (this.done || bytes.length === 0) return;
    this.writer.bytes.host += bytes.length;
    this.writer.record('host', bytes);
  }

  /** Bytes the unit sent to the host. */
  device(bytes: Uint8Array): void {
    if (this.done || bytes.length === 0) return;
    this.writer.bytes.device += bytes.length;
    this.writer.record('device', bytes);
  }

  /** Something the recorder learned (the unit's serial, a command's name). */
  note(fields: Record<string, unknown>): void {
    if (!this.done) this.writer.record('note', jsonPayload({ ...fields, session: this.number }));
  }

  end(how: Omit<SessionEnd, 'session'>): void {
    if (this.done) return;
    this.done = true;
    this.writer.record('session-end', jsonPayload({ ...how, session: this.number }));
  }
}
