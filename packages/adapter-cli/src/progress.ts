/** A waveform download's progress on stderr: chunks and ETA, only when stderr is a terminal. */
import type { DownloadProgress } from '@sfm/core/client';
import type { CliIO } from './io.js';

export function progressBar(io: CliIO, now: () => number = Date.now): ((p: DownloadProgress) => void) | undefined {
  if (!io.stderrIsTTY) return undefined;
  const started = now();
  return ({ chunksDone, chunksTotal }) => {
    const width = 30;
    const frac = chunksTotal ? chunksDone / chunksTotal : 1;
    const filled = Math.round(frac * width);
    const elapsed = (now() - started) / 1000;
    const eta = chunksDone ? (elapsed / chunksDone) * (chunksTotal - chunksDone) : NaN;
    const etaText = Number.isFinite(eta) ? `ETA ${Math.ceil(eta)} s` : 'ETA —';
    io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${chunksDone}/${chunksTotal} chunks  ${etaText}   `);
    if (chunksDone === chunksTotal) io.stderr('\n');
  };
}
