/**
 * The change feed between relays: each committing write sends `NOTIFY sfm_changes` (pg_notify in
 * its own transaction, so it is delivered exactly when the write commits) with the scopes it
 * changed — ids, never data. One LISTEN connection per process and database hears every relay's
 * writes and queues them for each store on that database in this process, which hands them to
 * its listeners at its next `pollChanges()`.
 *
 * Notifications are not replayed: when the LISTEN connection drops, the feed reconnects, LISTENs
 * again and then tells every store 'all' (anything may have changed meanwhile); while it is down
 * a store reports 'all' at every poll, so nothing is served from memory that may be stale.
 *
 * A write answers once its own notification came back through this feed (bounded by
 * `echoWaitMs`): by then PostgreSQL has handed it to every listening relay, and every store of
 * this process has queued it — a client told "written" by one relay, asking another, is not
 * answered from that relay's stale memory.
 */
import pg from 'pg';

export const CHANNEL = 'sfm_changes';
/** pg_notify refuses payloads of 8000 bytes or more: a longer list of scopes is sent as 'all'. */
const MAX_PAYLOAD = 7900;

export interface FeedMember {
  /** The origin id this store writes in its notifications (its own are not news to it). */
  readonly id: string;
  /** Another store's write (or 'all': anything may have changed). */
  heard(scopes: readonly string[] | 'all'): void;
  /** This store's own write number `seq` came back. */
  echoed(seq: number): void;
}

interface Payload {
  /** The writing store. */
  o: string;
  /** Its write number. */
  n: number;
  /** The scopes, or '*' for everything. */
  s: string[] | '*';
}

export function notificationPayload(origin: string, seq: number, scopes: Iterable<string>): string {
  const text = JSON.stringify({ o: origin, n: seq, s: [...scopes] } satisfies Payload);
  return Buffer.byteLength(text) < MAX_PAYLOAD ? text : JSON.stringify({ o: origin, n: seq, s: '*' } satisfies Payload);
}

const feeds = new Map<string, ChangeFeed>();

export class ChangeFeed {
  private readonly members = new Set<FeedMember>();
  private client: pg.Client | undefined;
  private up = false;
  private closing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 50;

  private constructor(
    private readonly key: string,
    private readonly config: pg.ClientConfig,
  ) {}

  /** The feed of this process for the database (one LISTEN connection), started if need be. */
  static async join(key: string, config: pg.ClientConfig, member: FeedMember): Promise<ChangeFeed> {
    let feed = feeds.get(key);
    if (!feed) {
      feed = new ChangeFeed(key, config);
      feeds.set(key, feed);
      try {
        await feed.connect();
      } catch (e) {
        feeds.delete(key);
        throw e;
      }
    }
    feed.members.add(member);
    return feed;
  }

  /** Whether notifications arrive now (false while the LISTEN connection is being re-made). */
  get listening(): boolean {
    return this.up;
  }

  /** Takes the store off the feed; the last one out closes the LISTEN connection. */
  async leave(member: FeedMember): Promise<void> {
    this.members.delete(member);
    if (this.members.size > 0) return;
    feeds.delete(this.key);
    this.closing = true;
    clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (m) => this.deliver(m.payload));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    this.client = client;
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.up = true;
    this.retryMs = 50;
  }

  private deliver(text: string | undefined): void {
    let p: Payload;
    try {
      p = JSON.parse(text ?? '') as Payload;
    } catch {
      p = { o: '', n: 0, s: '*' };
    }
    const scopes = p.s === '*' ? 'all' : p.s;
    for (const m of this.members) {
      if (m.id === p.o) m.echoed(p.n);
      else m.heard(scopes);
    }
  }

  private lost(client: pg.Client): void {
    if (this.closing || client !== this.client || !this.up) return;
    this.up = false;
    for (const m of this.members) m.heard('all');
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        // Notifications are not replayed: whatever changed while nobody listened is unknown.
        () => {
          for (const m of this.members) m.heard('all');
        },
        () => {
          this.client?.end().catch(() => undefined);
          this.retryMs = Math.min(this.retryMs * 2, 5000);
          this.scheduleReconnect();
        },
      );
    }, this.retryMs);
    this.retryTimer.unref();
  }
}
