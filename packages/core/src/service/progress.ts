/**
 * Progress of long device work as one report (the Progress shape): the relay's per-call callbacks
 * (SyncOptions.onSyncProgress, EventReadOptions.onTextProgress, WaveformOptions.onProgress) turned
 * into ProgressReport, and a feed per address that every reader of the relay can follow. The CLI
 * draws its progress line from these reports; GET /device/progress streams the feed.
 */
import type { DownloadProgress } from '../client/minimate-client.js';
import type { ProgressReport } from '../model.js';
import type { SyncProgress, WaveformOptions, EventReadOptions } from './device-access.js';

/** A report without its address (the caller's callbacks know which unit they are for). */
export type ProgressUpdate = Omit<ProgressReport, 'connection_key'>;

const NO_CHUNKS = { index: null, chunks_done: null, chunks_total: null };
export const syncUpdate = (p: SyncProgress): ProgressUpdate => ({ step: 'sync', done: p.done, total: p.total, estimated: p.estimated, counts: 'events', ...NO_CHUNKS });
export const textUpdate = (p: { done: number; total: number }): ProgressUpdate => ({ step: 'text', done: p.done, total: p.total, estimated: false, counts: 'events', ...NO_CHUNKS });
export const downloadUpdate = (p: DownloadProgress, index: number | null = null): ProgressUpdate => ({
  step: 'download', done: p.bytesDone, total: p.bytesTotal, estimated: false, counts: 'bytes', index, chunks_done: p.chunksDone, chunks_total: p.chunksTotal,
});
export const IDLE: ProgressUpdate = { step: 'idle', done: 0, total: null, estimated: false, counts: 'events', ...NO_CHUNKS };

/** A step is over when it has done all it knew of (a download: once its last sample chunk is in; only TERM's residual is left). */
export const finished = (u: ProgressUpdate): boolean =>
  u.step === 'idle' || (u.chunks_total !== null && u.chunks_done !== null ? u.chunks_done >= u.chunks_total : u.total !== null && u.done >= u.total);

/** The read options' progress callbacks, all reporting to `report` (what a reader passes to the relay). */
export function progressCallbacks(report: (u: ProgressUpdate) => void): Pick<EventReadOptions & WaveformOptions, 'onSyncProgress' | 'onTextProgress' | 'onProgress'> {
  return { onSyncProgress: (p) => report(syncUpdate(p)), onTextProgress: (p) => report(textUpdate(p)), onProgress: (p) => report(downloadUpdate(p)) };
}

export type ProgressListener = (r: ProgressReport) => void;

/**
 * The latest report per address, and who follows it. A listener that throws is dropped (a follower
 * that went away must not stop device work).
 */
export class ProgressFeed {
  private readonly latest = new Map<string, ProgressReport>();
  private readonly listeners = new Map<string, Set<ProgressListener>>();

  publish(connectionKey: string, update: ProgressUpdate): void {
    const report: ProgressReport = { connection_key: connectionKey, ...update };
    if (update.step === 'idle') this.latest.delete(connectionKey);
    else this.latest.set(connectionKey, report);
    for (const fn of this.listeners.get(connectionKey) ?? []) {
      try {
        fn(report);
      } catch {
        this.listeners.get(connectionKey)?.delete(fn);
      }
    }
  }

  /** What the address is doing now (idle when nothing runs). */
  current(connectionKey: string): ProgressReport {
    return this.latest.get(connectionKey) ?? { connection_key: connectionKey, ...IDLE };
  }

  /** Follows one address; returns the unsubscribe. */
  subscribe(connectionKey: string, fn: ProgressListener): () => void {
    let set = this.listeners.get(connectionKey);
    if (!set) this.listeners.set(connectionKey, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.listeners.get(connectionKey) === set) this.listeners.delete(connectionKey);
    };
  }

  /** How many follow an address (for tests and metrics). */
  followers(connectionKey: string): number {
    return this.listeners.get(connectionKey)?.size ?? 0;
  }
}
