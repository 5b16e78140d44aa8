import { InvalidInput } from '@sfm/core';
/** Where a command writes: injectable, so tests run commands in-process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is a terminal (progress redrawn in place then; plain periodic lines otherwise). */
  stderrIsTTY: boolean;
}

/**
 * Writes to one of the process's streams. A reader that goes away (`sfm waveform 0 | head`) is
 * not a failure: what is left to write is dropped and the run ends as it would have (EPIPE; no
 * stack trace). Any other write error is said on stderr and makes the exit status 1.
 */
function writerTo(stream: NodeJS.WriteStream, name: string): (text: string) => void {
  let gone = false;
  let watching = false;
  return (text) => {
    if (gone) return;
    if (!watching) {
      watching = true;
      stream.on('error', (e: NodeJS.ErrnoException) => {
        gone = true;
        if (e.code === 'EPIPE') return;
        process.exitCode = 1;
        if (stream !== process.stderr) process.stderr.write(`sfm: cannot write to ${name}: ${e.code ?? e.message}\n`);
      });
    }
    stream.write(text);
  };
}

export const processIO: CliIO = {
  stdout: writerTo(process.stdout, 'standard output'),
  stderr: writerTo(process.stderr, 'standard error'),
  stderrIsTTY: Boolean(process.stderr.isTTY),
};

/** Bad usage: a flag, an argument or a value that does not fit (exit code 2). */
export class UsageError extends InvalidInput {
  override name = 'UsageError';
  constructor(message: string) {
    super('', message);
  }
}
