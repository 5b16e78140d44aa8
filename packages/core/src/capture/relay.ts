/**
 * A transparent relay between two byte streams — the host's side (the vendor's software) and the
 * unit's — that changes no byte and records both directions into a capture session: what `sfm tap`
 * runs for each session. Either side ending ends the other; flow control holds a fast side back
 * while the other cannot take more.
 */
import type { Duplex } from 'node:stream';
import type { CaptureSession } from './writer.js';
import type { SessionEnd } from './format.js';

export interface RelayedSession {
  /** Resolves when both sides are done, with how the session ended (also written to the capture). */
  readonly done: Promise<Omit<SessionEnd, 'session'>>;
  /** Ends the session from the middle (a shutdown): both sides are closed. */
  stop(): void;
}

export function relayStreams(host: Duplex, device: Duplex, session: CaptureSession): RelayedSession {
  let finished = false;
  let resolveDone!: (how: Omit<SessionEnd, 'session'>) => void;
  const done = new Promise<Omit<SessionEnd, 'session'>>((r) => (resolveDone = r));

  const finish = (how: Omit<SessionEnd, 'session'>): void => {
    if (finished) return;
    finished = true;
    session.end(how);
    for (const s of [host, device]) {
      s.off('data', fromHost);
      s.off('data', fromDevice);
      // What was relayed is flushed; a side that never closes is not waited for.
      if (!s.destroyed) {
        s.end();
        setTimeout(() => s.destroy(), 1000).unref();
      }
    }
    resolveDone(how);
  };

  const forward = (from: Duplex, to: Duplex, chunk: Buffer, record: (b: Uint8Array) => void): void => {
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    record(bytes);
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  };
  const fromHost = (chunk: Buffer): void => forward(host, device, chunk, (b) => session.host(b));
  const fromDevice = (chunk: Buffer): void => forward(device, host, chunk, (b) => session.device(b));

  host.on('data', fromHost);
  device.on('data', fromDevice);
  // 'close' passes a boolean, 'error' an Error; a stream may error more than once.
  const ended = (side: 'host' | 'device') => (error?: unknown) => finish(error instanceof Error ? { closed_by: side, error: error.message } : { closed_by: side });
  for (const [s, side] of [[host, 'host'], [device, 'device']] as const) {
    s.once('end', ended(side));
    s.once('close', ended(side));
    s.on('error', ended(side));
  }

  return { done, stop: () => finish({ closed_by: 'recorder' }) };
}
