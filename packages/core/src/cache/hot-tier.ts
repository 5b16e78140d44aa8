/**
 * The hot tier: serialized responses (UTF-8 JSON) of the hottest entries, so a hit is served without
 * re-reading the store or re-serialising. Bounded by bytes; entries are grouped per unit so a
 * unit's invalidation drops exactly its entries.
 */
import { LRUCache } from 'lru-cache';

/** A serialized response and when its data left the unit (for Age). */
export interface HotEntry {
  bytes: Uint8Array;
  fetchedAt: number;
}

export class HotTier {
  private readonly lru: LRUCache<string, HotEntry>;
  private readonly byUnit = new Map<string, Set<string>>();

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.lru = new LRUCache<string, HotEntry>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (e) => Math.max(1, e.bytes.byteLength),
      dispose: (_v, key) => {
        this.byUnit.get(unitOf(key))?.delete(key);
      },
    });
  }

  get(key: string): HotEntry | undefined {
    return this.lru.get(key);
  }

  set(key: string, bytes: Uint8Array, fetchedAt: number): void {
    this.lru.set(key, { bytes, fetchedAt });
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

  /** Drops every unit at a connection key. */
  dropConnection(connKey: string): void {
    for (const unit of [...this.byUnit.keys()]) if (unit.startsWith(`${connKey}\u0000`)) this.dropUnit(unit);
  }

  get stats(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }
}

/** Keys are `<kind>\u0001<connKey>\u0000<serial>\u0001<rest>`. */
export function hotKey(kind: string, connKey: string, serial: string, rest = ''): string {
  return `${kind}\u0001${connKey}\u0000${serial}\u0001${rest}`;
}
function unitOf(key: string): string {
  return key.split('\u0001')[1]!;
}
function kindOf(key: string): string {
  return key.split('\u0001')[0]!;
}
export function unitKey(connKey: string, serial: string): string {
  return `${connKey}\u0000${serial}`;
}
