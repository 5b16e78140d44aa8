/**
 * Where each call's raw capture is kept: one file per call in a directory, within a byte budget
 * (the oldest files go first). Files are written through a write stream, so a hundred calls at
 * once never block the event loop on the disk; a capture is made durable by nothing — it is a
 * record for people, not the archive. A call that ended with no Session (a refused unit, garbage)
 * keeps no capture.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CAPTURE_EXTENSION, CaptureWriter, type CaptureInfo, type CaptureSink } from '@sfm/core/capture';
import type { Logger } from '@sfm/core/kernel';

interface Kept {
  name: string;
  bytes: number;
}

/** One call's capture while it is written. */
export interface CallCapture {
  /** The file's name in the directory (what Session.capture says). */
  readonly name: string;
  readonly writer: CaptureWriter;
  /** Closes the file; keeps it within the budget, or removes it. */
  done(keep: boolean): Promise<void>;
}

export class CaptureShelf {
  /** Kept files, oldest first. */
  private readonly kept: Kept[] = [];
  private bytes = 0;
  private seq = 0;

  constructor(
    readonly dir: string,
    private readonly budgetBytes: number,
    private readonly log: Logger,
  ) {}

  /** Creates the directory and learns what it already holds (oldest first, by modification time). */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const found: (Kept & { at: number })[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith(CAPTURE_EXTENSION)) continue;
      const s = await stat(join(this.dir, name)).catch(() => undefined);
      if (s?.isFile()) found.push({ name, bytes: s.size, at: s.mtimeMs });
    }
    found.sort((a, b) => a.at - b.at || (a.name < b.name ? -1 : 1));
    for (const { name, bytes } of found) this.add({ name, bytes });
    await this.trim();
  }

  /** What the shelf holds now. */
  get stats(): { files: number; bytes: number } {
    return { files: this.kept.length, bytes: this.bytes };
  }

  /** Starts the capture of one call from `peer`. */
  begin(peer: string, info: CaptureInfo, at = new Date()): CallCapture {
    const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const name = `${stamp}_${peer.replace(/[^0-9A-Za-z.]+/g, '-')}_${++this.seq}${CAPTURE_EXTENSION}`;
    const path = join(this.dir, name);
    const sink = streamSink(path);
    const writer = new CaptureWriter(sink, info, { describe: path });
    return {
      name,
      writer,
      done: async (keep) => {
        writer.close();
        const failed = (await sink.finished) ?? writer.error;
        if (failed) this.log.warn({ capture: path, err: failed.message }, 'the call\'s capture could not be written');
        if (!keep || failed) return void (await unlink(path).catch(() => undefined));
        this.add({ name, bytes: (await stat(path)).size });
        await this.trim();
      },
    };
  }

  private add(k: Kept): void {
    this.kept.push(k);
    this.bytes += k.bytes;
  }

  /** Drops the oldest captures until the rest fit the budget. */
  private async trim(): Promise<void> {
    while (this.bytes > this.budgetBytes && this.kept.length > 0) {
      const old = this.kept.shift()!;
      this.bytes -= old.bytes;
      await unlink(join(this.dir, old.name)).catch(() => undefined);
    }
  }
}

/** Records are handed to the file in batches of about this many bytes (one write call each). */
const BATCH_BYTES = 64 * 1024;

/**
 * A file written through a write stream, in batches (a call's many small records would otherwise
 * be as many write calls); `finished` resolves once it is closed, with its error if any.
 */
function streamSink(path: string): CaptureSink & { finished: Promise<Error | undefined> } {
  const out = createWriteStream(path, { flags: 'wx' });
  let batch: Uint8Array[] = [];
  let batched = 0;
  const pass = (): void => {
    if (batched === 0) return;
    out.write(Buffer.concat(batch, batched));
    batch = [];
    batched = 0;
  };
  let error: Error | undefined;
  const finished = new Promise<Error | undefined>((resolve) => {
    out.on('error', (e) => {
      error ??= e;
      out.destroy();
    });
    out.once('close', () => resolve(error));
  });
  return {
    write: (bytes) => {
      if (error) throw error;
      batch.push(bytes);
      if ((batched += bytes.length) >= BATCH_BYTES) pass();
    },
    flush: () => {
      if (error) throw error;
      pass();
    },
    close: () => {
      pass();
      out.end();
    },
    finished,
  };
}
