/**
 * The hot tier: serialized responses (UTF-8 JSON, and the compressed forms clients asked for) of
 * the hottest entries, so a hit is served without re-reading the store, re-serialising or
 * re-compressing. Bounded by the bytes it holds, compressed forms included; entries are grouped
 * per unit (serial) so a unit's invalidation — by this process, or by another one through the
 * store's change feed — drops exactly its entries.
 */
import { LRUCache } from 'lru-cache';
import { Body } from '../service/body.js';

/** A serialized response and when its data left the unit (for Age). */
export interface HotEntry {
  body: Body;
  fetchedAt: number;
}

export class HotTier {
  private readonly lru: LRUCache<string, HotEntry>;
  private readonly byUnit = new Map<string, Set<string>>();

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.lru = new LRUCache<string, HotEntry>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (e) => Math.max(1, e.body.byteLength),
      dispose: (_v, key, reason) => {
        // A value replaced under its key ('set') keeps the key.
        if (reason !== 'set') this.byUnit.get(unitOf(key))?.delete(key);
      },
    });
  }

  get(key: string): HotEntry | undefined {
    return this.lru.get(key);
  }

  set(key: string, bytes: Uint8Array | Body, fetchedAt: number): void {
    const body = bytes instanceof Body ? bytes : new Body(bytes);
    // A compressed form made later counts too: the entry is set again (a new object: the LRU
    // re-counts a key's size only when its value changes).
    body.onGrow = () => {
      const held = this.lru.peek(key);
      if (held?.body === body) this.lru.set(key, { ...held });
    };
    this.lru.set(key, { body, fetchedAt });
    if (!this.lru.has(key)) return; // larger than the whole tier: not kept
    const u = unitOf(key);
    let s = this.byUnit.get(u);
    if (!s) this.byUnit.set(u, (s = new Set()));
    s.add(key);
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  /** Drops a unit's entries of the given kinds (all kinds when none given). */
  dropUnit(unit: string, kinds?: readonly string[]): void {
    const s = this.byUnit.get(unit);
    if (!s) return;
    for (const key of [...s]) if (!kinds || kinds.includes(kindOf(key))) this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
    this.byUnit.clear();
  }

  get stats(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }
}

/** Keys are `<kind>\u0001<serial>\u0001<rest>`. */
export function hotKey(kind: string, serial: string, rest = ''): string {
  return `${kind}\u0001${serial}\u0001${rest}`;
}
function unitOf(key: string): string {
  return key.split('\u0001')[1]!;
}
function kindOf(key: string): string {
  return key.split('\u0001')[0]!;
}
