import { InvalidInput } from '@sfm/core';
/** Where a command writes: injectable, so tests run commands in-process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is a terminal (progress bars only then). */
  stderrIsTTY: boolean;
}

export const processIO: CliIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  stderrIsTTY: Boolean(process.stderr.isTTY),
};

/** Bad usage: a flag, an argument or a value that does not fit (exit code 2). */
export class UsageError extends InvalidInput {
  override name = 'UsageError';
  constructor(message: string) {
    super('', message);
  }
}
