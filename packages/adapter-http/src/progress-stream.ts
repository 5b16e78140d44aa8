/**
 * GET /device/progress as server-sent events: the relay's progress feed for one address (the same
 * reports the CLI draws its progress line from), one `progress` event per report — the current
 * state first — and a comment line now and then so proxies keep the connection open. Ends when
 * the client goes away or the server shuts down.
 */
import type { ProgressFeed } from '@sfm/core/service';
import type { ProgressReport } from '@sfm/core';

/** How often an idle stream says it is alive (a comment line, ignored by EventSource). */
export const KEEPALIVE_MS = 15_000;
/** How long a browser waits before reconnecting a dropped stream. */
const RETRY_MS = 2000;

export const sseEvent = (r: ProgressReport): string => `event: progress\ndata: ${JSON.stringify(r)}\n\n`;

export async function* progressEvents(feed: ProgressFeed, connectionKey: string, signal: AbortSignal | undefined, keepaliveMs = KEEPALIVE_MS): AsyncGenerator<string> {
  const queue: string[] = [`retry: ${RETRY_MS}\n\n`, sseEvent(feed.current(connectionKey))];
  let wake: (() => void) | undefined;
  const push = (piece: string): void => {
    // A follower that does not read keeps only the newest reports: the latest state is what counts.
    if (queue.length > 64) queue.splice(0, queue.length - 32);
    queue.push(piece);
    wake?.();
  };
  const unsubscribe = feed.subscribe(connectionKey, (r) => push(sseEvent(r)));
  const keepalive = setInterval(() => push(': keepalive\n\n'), keepaliveMs);
  keepalive.unref();
  const stop = (): void => wake?.();
  signal?.addEventListener('abort', stop);
  try {
    while (!signal?.aborted) {
      while (queue.length > 0) yield queue.shift()!;
      if (signal?.aborted) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    unsubscribe();
    clearInterval(keepalive);
    signal?.removeEventListener('abort', stop);
  }
}
