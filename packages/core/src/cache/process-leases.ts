/**
 * Leases for a store that lives in one process (the memory store, the test-kit's reference store):
 * a Map, no clock of its own (every time comes from the caller), with the contract's rules.
 * Nothing outside this process can hold one, so this only arbitrates between UnitLocks instances
 * sharing the store.
 */
import type { LeaseHolder, LeaseStore, Millis } from './store.js';

export class ProcessLeases implements LeaseStore {
  private readonly held = new Map<string, LeaseHolder>();
  /** Leases someone failed to take while they were held. */
  private readonly wantedKeys = new Set<string>();

  /** `live` throws when the owning store is closed. */
  constructor(private readonly live: () => void) {}

  async tryAcquire(key: string, holder: LeaseHolder, opts: { now: Millis; takeOverFrom?: string }): Promise<{ acquired: true } | { acquired: false; heldBy: LeaseHolder }> {
    this.live();
    const current = this.held.get(key);
    const takeable =
      current === undefined ||
      opts.now >= current.expiresAt || // expired: its holder stopped renewing
      current.owner === holder.owner ||
      (opts.takeOverFrom !== undefined && current.owner === opts.takeOverFrom); // core found its process gone
    if (!takeable) {
      this.wantedKeys.add(key);
      return { acquired: false, heldBy: { ...current } };
    }
    this.held.set(key, { owner: holder.owner, host: holder.host, pid: holder.pid, expiresAt: holder.expiresAt });
    this.wantedKeys.delete(key);
    return { acquired: true };
  }

  async renew(key: string, owner: string, expiresAt: Millis): Promise<boolean> {
    this.live();
    const current = this.held.get(key);
    // Ownership alone decides: a lease past its expiry that nobody took is still ours.
    if (current?.owner !== owner) return false;
    current.expiresAt = expiresAt;
    return true;
  }

  async release(key: string, owner: string): Promise<void> {
    this.live();
    if (this.held.get(key)?.owner === owner) {
      this.held.delete(key);
      this.wantedKeys.delete(key);
    }
  }

  async wanted(key: string, owner: string): Promise<boolean> {
    this.live();
    return this.held.get(key)?.owner === owner && this.wantedKeys.has(key);
  }

  clear(): void {
    this.held.clear();
    this.wantedKeys.clear();
  }
}
