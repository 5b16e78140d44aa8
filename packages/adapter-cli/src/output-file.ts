/**
 * Writes --out files whole or not at all: a temporary file beside the target, renamed into
 * place, so an interrupted download never leaves a half-written file under the asked-for name.
 *
 * Only regular files are written: a path that is a symbolic link, a FIFO, a device or a socket
 * is refused before any download (renaming over it would replace what the user pointed at with
 * a file, and a link could lead the write out of where the user pointed). For a pipe or the
 * terminal, leave out --out and redirect standard output.
 */
import { constants } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './io.js';

function describeKind(s: Awaited<ReturnType<typeof lstat>>): string | undefined {
  if (s.isSymbolicLink()) return 'a symbolic link';
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a named pipe';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  return s.isFile() ? undefined : 'not a regular file';
}

/** The full path of a regular file to write (new, or one to replace); `flag` names the option in messages. */
export async function checkOutputPath(path: string, flag = '--out'): Promise<string> {
  const full = resolve(path);
  let dirOk = false;
  try {
    dirOk = (await lstat(dirname(full))).isDirectory();
  } catch {
    dirOk = false;
  }
  if (!dirOk) throw new UsageError(`${flag}: the folder ${dirname(full)} does not exist`);
  let kind: string | undefined;
  try {
    kind = describeKind(await lstat(full));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`${flag}: cannot use ${full}: ${(e as Error).message}`);
  }
  if (kind) throw new UsageError(`${flag}: ${full} is ${kind}; ${flag} writes regular files only${flag === '--out' ? ' (leave it out to write to standard output)' : ''}`);
  return full;
}

export async function writeWhole(path: string, pieces: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<void> {
  const full = await checkOutputPath(path);
  const tmp = join(dirname(full), `.${basename(full)}.${process.pid}.tmp`);
  // O_EXCL | O_NOFOLLOW: never through a link planted under the temporary name.
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    for await (const piece of pieces) await (typeof piece === 'string' ? fh.write(piece) : fh.write(piece));
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  // Checked again just before the rename: the path may have become something else meanwhile.
  try {
    await checkOutputPath(full);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await rename(tmp, full);
}
