import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessLeases } from '@sfm/core/cache';
import { keyFromHex } from '@sfm/core/protocol';
import type { Archive, ArchiveEventQuery, EventSyncState, Millis, Page, StoredWaveform } from '@sfm/core/cache';
import type { ArchivedEvent } from '@sfm/core';
import {
  checkAgainstModel,
  ReferenceStore,
  sampleEvent,
  sampleHolder,
  sampleInfo,
  sampleKey,
  sampleStatus,
  sampleSync,
  sampleWaveform,
  SharedReference,
  storedEvent,
  storeContractSuite,
} from './index.js';

// The reference store passes the suite. Its model-based test is left out here: it would compare
// the model with itself. Each real store runs it in its own package's test file.
storeContractSuite('reference', () => new ReferenceStore(), { describe, it, expect, beforeEach, afterEach }, { modelRuns: 0 });

// Views of one shared reference pass it too, change feed included: the suite's shared-store
// section holds for a store that does what it asks (the model test runs there, as the views are
// a different Store than the model).
storeContractSuite('shared reference views', () => new SharedReference().open(), { describe, it, expect, beforeEach, afterEach }, {
  modelRuns: 20,
  makeSharedPair: async () => {
    const shared = new SharedReference();
    return [shared.open(), shared.open()];
  },
});

describe('the model-based test catches a store that breaks a rule', () => {
  /** Serves a key's waveform whatever timestamp is asked (the timestamps the model test uses). */
  class IgnoresTimestamp extends ReferenceStore {
    override async getWaveform(serial: string, key: number, _timestamp: string | null): Promise<StoredWaveform | undefined> {
      for (const ts of [null, '2026-04-09T07:00:00', '2026-04-09T07:00:01']) {
        const w = await super.getWaveform(serial, key, ts);
        if (w) return w;
      }
      return undefined;
    }
  }

  class KeepsIdentityOnClear extends ReferenceStore {
    override async clearConnection(connKey: string) {
      const id = await this.getIdentity(connKey);
      const counts = await super.clearConnection(connKey);
      if (id) await this.putIdentity(connKey, id);
      return counts;
    }
  }

  class SyncDropsEvents extends ReferenceStore {
    override async putEventSync(serial: string, sync: EventSyncState): Promise<void> {
      await this.dropEvents(serial);
      await super.putEventSync(serial, sync);
    }
  }

  /** Forgets, with a unit's live list, every archived event no live list holds. */
  class DropForgetsArchive extends ReferenceStore {
    override async dropEvents(serial: string): Promise<{ events: number }> {
      const dropped = await super.dropEvents(serial);
      await this.retainReporting({ receivedBefore: Number.MAX_SAFE_INTEGER });
      return dropped;
    }
  }

  /** Answers every waveform put as new. */
  class EveryWaveformNew extends ReferenceStore {
    override async putWaveform(serial: string, w: StoredWaveform): Promise<boolean> {
      await super.putWaveform(serial, w);
      return true;
    }
  }

  /** Pages by offset: an event inserted before the cursor shifts the next page. */
  class OffsetCursor extends ReferenceStore {
    constructor() {
      super();
      const archive = this.archive;
      const events = async (q: ArchiveEventQuery): Promise<Page<ArchivedEvent>> => {
        const offset = q.cursor === undefined ? 0 : Number(q.cursor);
        const all: ArchivedEvent[] = [];
        for (let page = await archive.events({ ...q, cursor: undefined, limit: 1000 }); ; page = await archive.events({ ...q, cursor: page.nextCursor, limit: 1000 })) {
          all.push(...page.items);
          if (page.nextCursor === null) break;
        }
        const items = all.slice(offset, offset + q.limit);
        return { items, nextCursor: offset + q.limit < all.length ? String(offset + q.limit) : null };
      };
      (this as { archive: Archive }).archive = { ...archive, events };
    }
  }

  class RenewsForAnyone extends ReferenceStore {
    override readonly leases = new (class extends ProcessLeases {
      override async renew(key: string, _owner: string, expiresAt: Millis): Promise<boolean> {
        await super.renew(key, _owner, expiresAt);
        return true;
      }
    })(() => undefined);
  }

  // A fixed seed makes each check the same every run (a random one would catch a mutant only
  // most of the time); runs enough that the sequences reach what each mutant breaks — an offset
  // cursor shows only when an event newer than the page's last arrives between two pages.
  const mutants = { IgnoresTimestamp, KeepsIdentityOnClear, SyncDropsEvents, RenewsForAnyone, DropForgetsArchive, EveryWaveformNew, OffsetCursor };
  const runs: Partial<Record<keyof typeof mutants, number>> = { OffsetCursor: 2000, KeepsIdentityOnClear: 1000 };
  for (const [name, Mutant] of Object.entries(mutants)) {
    it(name, async () => {
      await expect(checkAgainstModel(async () => new Mutant(), { runs: runs[name as keyof typeof mutants] ?? 300, seed: 20261127 })).rejects.toThrow(/store gave .* model /);
    });
  }

  it('and passes the reference store against itself (the comparison is sound)', async () => {
    await expect(checkAgainstModel(async () => new ReferenceStore(), { runs: 20 })).resolves.toBeUndefined();
  });
});

describe('fixtures', () => {
  it('sampleEvent is a realistic contract Event of about 700 bytes as JSON', () => {
    const e = sampleEvent(3, sampleKey(3));
    expect(e.index).toBe(3);
    expect(keyFromHex(e.key)).toBe(sampleKey(3));
    expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    const size = JSON.stringify(e).length;
    expect(size).toBeGreaterThan(600);
    expect(size).toBeLessThan(800);
  });

  it('builders are deterministic and return fresh objects', () => {
    expect(sampleEvent(5)).toEqual(sampleEvent(5));
    expect(sampleEvent(5)).not.toBe(sampleEvent(5));
    expect(storedEvent(2, 77, 1000)).toEqual({ event: sampleEvent(2, 77), key: 77, geoRange: 'normal', fetchedAt: 1000 });
    expect(sampleInfo('BE1').serial).toBe('BE1');
    expect(sampleInfo('BE1').compliance).not.toBe(sampleInfo('BE1').compliance);
    expect(sampleStatus({ battery_v: 5 }).battery_v).toBe(5);
  });

  it('sampleSync describes a fresh list of n events, fully walked', () => {
    expect(sampleSync(3)).toEqual({ first: sampleKey(0), last: sampleKey(3), counter: 3, complete: true, probedAt: Date.UTC(2026, 3, 9, 7) });
    expect(sampleSync(0, { counter: null, complete: false })).toEqual({ first: sampleKey(0), last: sampleKey(0), counter: null, complete: false, probedAt: Date.UTC(2026, 3, 9, 7) });
  });

  it('sampleHolder is a lease holder on relay-1', () => {
    expect(sampleHolder('o#1', 5)).toEqual({ owner: 'o#1', host: 'relay-1', pid: 4242, expiresAt: 5 });
    expect(sampleHolder('o#1', 5, { pid: 9 }).pid).toBe(9);
  });

  it('sampleWaveform holds int16 damped sines of the asked length', () => {
    const w = sampleWaveform(sampleKey(0), '2026-04-09T07:00:00', 10240);
    for (const ch of Object.values(w.channels)) {
      expect(ch).toBeInstanceOf(Int16Array);
      expect(ch.length).toBe(10240);
    }
    expect(Math.max(...w.channels.Tran)).toBeGreaterThan(5000);
    expect(Math.abs(w.channels.Tran[10000]!)).toBeLessThan(100);
    expect(w.channels.Vert).not.toEqual(w.channels.Tran);
    expect(sampleWaveform(1, null, 64, { seed: 1 }).channels.Tran).not.toEqual(sampleWaveform(1, null, 64, { seed: 2 }).channels.Tran);
  });
});
