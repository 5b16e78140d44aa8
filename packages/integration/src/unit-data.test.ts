/**
 * What the unit's records and setup mean, seen where users see them: HTTP, the relay and a SQLite
 * file, against the emulated unit over TCP. Monitor-log records carry their interval and trigger
 * level; the storage range names the last stored record apart from the next key; a config write
 * the unit could not record with is refused before anything is written.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyToHex } from '@sfm/core/protocol';
import { SqliteStore } from '@sfm/store-sqlite';
import { startFixture, type Fixture } from '@sfm/test-support';

const T = 'test-token-0123456789';
const q = '?device=demo';

describe('the unit\'s data over HTTP (relay on a SQLite file, emulated unit)', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await startFixture({ token: T, store: new SqliteStore(join(mkdtempSync(join(tmpdir(), 'sfm-unit-data-')), 'sfm.db')), sim: { events: 3, includeMonitorLog: false } });
    const u = f.sim.unit;
    // A monitor-log record between events, and one last: an hour of monitoring at the unit's trigger level.
    u.recordMonitorLog({ start: new Date('2026-04-03T05:15:20Z'), stop: new Date('2026-04-03T06:15:20Z') });
    u.recordEvent();
    u.configure({ trigger_level_ips: 0.25 });
    u.recordMonitorLog({ start: new Date('2026-04-08T01:00:00Z'), stop: new Date('2026-04-08T01:59:45Z') });
  });
  afterEach(async () => {
    await f.close();
  });

  it('GET /device/events: a monitor-log record has its start, end and trigger level; events have null for both', async () => {
    const r = await f.call(`/device/events${q}`);
    expect(r.status).toBe(200);
    const logs = r.json.events.filter((e: { record_type: string }) => e.record_type === 'monitor_log');
    expect(logs).toEqual([
      expect.objectContaining({ index: 3, timestamp: '2026-04-03T05:15:20', end_timestamp: '2026-04-03T06:15:20', trigger_level_ips: 0.5, sample_rate: null }),
      expect.objectContaining({ index: 5, timestamp: '2026-04-08T01:00:00', end_timestamp: '2026-04-08T01:59:45', trigger_level_ips: 0.25, project_pending: false }),
    ]);
    expect(logs).toEqual(f.sim.unit.events.filter((e) => e.record_type === 'monitor_log'));
    for (const e of r.json.events.filter((x: { record_type: string }) => x.record_type === 'waveform')) {
      expect([e.end_timestamp, e.trigger_level_ips]).toEqual([null, null]);
    }
    // One record alone, from the cache, says the same.
    expect((await f.call(`/device/event/5${q}`)).json).toEqual(logs[1]);
  });

  it('GET /device/events/storage-range: last_key is the last stored record, next_key the one the next gets; cheap once the list is cached', async () => {
    const unit = f.sim.unit;
    const view = () => ({
      first_key: keyToHex(unit.storageRange.first), last_key: unit.events.at(-1)?.key ?? null, next_key: keyToHex(unit.storageRange.next), is_empty: unit.events.length === 0,
    });
    const cold = await f.call(`/device/events/storage-range${q}`);
    expect(cold.status).toBe(200);
    expect(cold.json).toEqual(view());
    expect(cold.json.last_key).not.toBe(cold.json.next_key);
    expect(cold.json.last_key).toBe(unit.events[5]!.key); // the monitor-log record

    // The list it read is the list /device/events serves: no record is read again.
    const headerReads = () => f.sim.server.stats.framesBySub['0A'] ?? 0;
    const before = headerReads();
    expect((await f.call(`/device/events${q}`)).headers.get('x-cache')).toBe('hit');
    expect((await f.call(`/device/events/storage-range${q}`)).json).toEqual(view());
    expect(headerReads()).toBe(before);

    // A new event: the range moves on, and only the new record is read.
    const e = unit.recordEvent();
    const moved = await f.call(`/device/events/storage-range${q}`);
    expect(moved.json).toEqual(view());
    expect(moved.json.last_key).toBe(e.key);
    expect((await f.call(`/device/events${q}`)).json.count).toBe(unit.events.length);

    // Erased: nothing stored, no last key.
    const erased = await f.call(`/device/events/erase${q}&confirm=true`, { method: 'POST', token: T });
    expect(erased.json).toEqual({ first_key: '01110000', last_key: null, next_key: '01110000', is_empty: true });
    expect((await f.call(`/device/events/storage-range${q}`)).json).toEqual(erased.json);
  });

  it('POST /device/config: 400 INVALID_REQUEST for what the unit cannot record with, judged with its current setup; nothing written', async () => {
    const unit = f.sim.unit;
    unit.configure({ geo_range: 'normal', trigger_level_ips: 2, alarm_level_ips: 4, sample_rate: 1024, record_time_s: 3 });
    const before = { compliance: unit.compliance, writes: f.sim.server.stats.framesBySub['71'] ?? 0 };
    const cases: [object, string][] = [
      [{ trigger_level_ips: 5, geo_range: 'sensitive' }, "trigger_level_ips: 5 exceeds the sensitive range's full scale of 1.25 in/s"],
      [{ geo_range: 'sensitive' }, "geo_range: the sensitive range's full scale of 1.25 in/s is below trigger_level_ips 2 (trigger_level_ips as set on the unit); lower it in the same write"],
      [{ alarm_level_ips: 1 }, 'alarm_level_ips: 1 is below trigger_level_ips 2 (trigger_level_ips as set on the unit); the alarm level must be at least the trigger level'],
      [{ record_time_s: 61, sample_rate: 2048 }, 'record_time_s: 61 s is longer than a record at 2048 Sa/s can be: at most 31.99 s (an event counts at most 65535 samples per channel)'],
      [{ record_time_s: 64 }, 'record_time_s: must be a number from 0.25 to 63.99, got 64'],
    ];
    for (const [body, message] of cases) {
      const r = await f.call(`/device/config${q}`, { method: 'POST', token: T, body });
      expect([JSON.stringify(body), r.status, r.json]).toEqual([JSON.stringify(body), 400, { error: { code: 'INVALID_REQUEST', message } }]);
    }
    expect(unit.compliance).toEqual(before.compliance);
    expect(f.sim.server.stats.framesBySub['71'] ?? 0).toBe(before.writes);
    // The same change with a trigger level that fits is written.
    const ok = await f.call(`/device/config${q}`, { method: 'POST', token: T, body: { geo_range: 'sensitive', trigger_level_ips: 0.5, alarm_level_ips: 1 } });
    expect([ok.status, ok.json.geo_full_scale_ips, unit.compliance.geo_range]).toEqual([200, 1.25, 'sensitive']);
  });
});
