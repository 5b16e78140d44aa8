/** DeviceAccess without a cache: every call opens a session with the unit. */
import { withSession, type ClientOptions, type MiniMateClient } from '../client/minimate-client.js';
import { toEvent } from '../client/device-event.js';
import { keyToHex } from '../protocol/event-key.js';
import { isEmptyRange, storageRangeView } from '../protocol/storage-range.js';
import type { ComplianceChanges } from '../protocol/compliance-config.js';
import { buildWaveform } from '../waveform.js';
import { analyse } from '../analysis/analyse.js';
import type { CallHomeChanges, CallHomeConfig, Event, EventList } from '../model.js';
import type { DeviceTarget } from '../transport/transport.js';
import type { TransportRegistry } from '../transport/registry.js';
import { EventNotFound, served, type AnalysisReadOptions, type DeviceAccess, type EraseOptions, type ReadOptions, type Served, type WaveformOptions } from './device-access.js';

function fresh<T>(value: T): Served<T> {
  return served(value, 'miss', 0);
}

export class DirectDeviceAccess implements DeviceAccess {
  constructor(
    private readonly transports: TransportRegistry,
    private readonly clientOptions: ClientOptions = {},
  ) {}

  private session<T>(target: DeviceTarget, fn: (c: MiniMateClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withSession(this.transports.create(target), { ...this.clientOptions, signal }, fn);
  }

  async info(target: DeviceTarget, opts: ReadOptions = {}) {
    return fresh(await this.session(target, (c) => c.readDeviceInfo(), opts.signal));
  }

  async events(target: DeviceTarget, opts: ReadOptions = {}): Promise<Served<EventList>> {
    return fresh(
      await this.session(target, async (c) => {
        const serial = (await c.readSerialNumber()).serial;
        const events = (await c.readEvents({ mode: 'vendor' })).map((e, i) => toEvent(i, e));
        return { serial, count: events.length, events };
      }, opts.signal),
    );
  }

  async event(target: DeviceTarget, index: number, opts: ReadOptions = {}): Promise<Served<Event>> {
    const list = (await this.events(target, opts)).value;
    const e = list.events[index];
    if (!e) throw new EventNotFound(index, list.count);
    return fresh(e);
  }

  async waveform(target: DeviceTarget, index: number, opts: WaveformOptions = {}) {
    return fresh(
      await this.session(target, async (c) => {
        const serial = (await c.readSerialNumber()).serial;
        const keys = await c.listKeys();
        const entry = keys[index];
        if (!entry) throw new EventNotFound(index, keys.length);
        const w = await c.downloadWaveform(entry.key, { onProgress: opts.onProgress });
        return buildWaveform({
          serial, index, key: keyToHex(entry.key), timestamp: w.header.timestamp, sample_rate: w.header.sample_rate,
          pretrigger_samples: w.header.pretrigger_samples, geo_range: w.header.geo_range, body: w.body,
        });
      }, opts.signal),
    );
  }

  async analysis(target: DeviceTarget, index: number, opts: AnalysisReadOptions = {}) {
    return fresh(analyse((await this.waveform(target, index, opts)).value, opts.analysis));
  }

  async status(target: DeviceTarget, opts: ReadOptions = {}) {
    return fresh(await this.session(target, (c) => c.readMonitorStatus(), opts.signal));
  }

  async eventIndex(target: DeviceTarget) {
    return { lifetime_event_count: (await this.session(target, (c) => c.readEventIndex())).lifetime_event_count };
  }

  /** SUB 06, and the walk for the last stored record's key (SUB 06 gives the first and the next key). */
  async storageRange(target: DeviceTarget) {
    return this.session(target, async (c) => {
      const range = await c.readStorageRange();
      const keys = isEmptyRange(range) ? [] : await c.listKeys();
      return storageRangeView(range, keys.at(-1)?.key ?? null);
    });
  }

  startMonitoring(target: DeviceTarget) {
    return this.session(target, (c) => c.startMonitoring());
  }

  stopMonitoring(target: DeviceTarget) {
    return this.session(target, (c) => c.stopMonitoring());
  }

  writeConfig(target: DeviceTarget, changes: ComplianceChanges) {
    return this.session(target, (c) => c.writeCompliance(changes));
  }

  readCallHome(target: DeviceTarget) {
    return this.session(target, (c) => c.readCallHome());
  }

  writeCallHome(target: DeviceTarget, changes: CallHomeChanges) {
    return this.session(target, (c) => c.writeCallHome(changes));
  }

  async erase(target: DeviceTarget, opts: EraseOptions = {}) {
    return storageRangeView(
      await this.session(target, async (c) => {
        if (opts.onCount) opts.onCount((await c.listKeys()).length);
        return c.eraseAll();
      }),
      null,
    );
  }
}
