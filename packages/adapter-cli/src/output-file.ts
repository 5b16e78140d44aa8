/**
 * Writes --out files whole or not at all: a temporary file beside the target, renamed into
 * place, so an interrupted download never leaves a half-written file under the asked-for name.
 */
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './io.js';

export async function checkOutputPath(path: string): Promise<string> {
  const full = resolve(path);
  let dirOk = false;
  try {
    dirOk = (await stat(dirname(full))).isDirectory();
  } catch {
    dirOk = false;
  }
  if (!dirOk) throw new UsageError(`--out: the folder ${dirname(full)} does not exist`);
  try {
    if ((await stat(full)).isDirectory()) throw new UsageError(`--out: ${full} is a folder; name a file`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  return full;
}

export async function writeWhole(path: string, pieces: Iterable<string>): Promise<void> {
  const full = await checkOutputPath(path);
  const tmp = join(dirname(full), `.${basename(full)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    for (const piece of pieces) await fh.write(piece);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, full);
}
