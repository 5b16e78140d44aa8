import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config.js';
import { ConfigError } from '../errors.js';
import { Kernel, KernelError } from './kernel.js';
import { Type } from '@sinclair/typebox';
import { TOKENS, type Service } from './tokens.js';
import type { PluginCatalog, PluginContext, SfmPlugin } from './plugin.js';
import { DeviceRegistry } from './device-registry.js';
import { HostSet } from '../transport/address.js';
import type { Store } from '../cache/store.js';

/** Plugins that record what was loaded, standing in for the real packages. */
function catalog(loaded: string[]): PluginCatalog {
  const fakeStore = { kind: 'fake', async close() {}, onChange() {}, pollChanges() {}, leases: {} } as unknown as Store;
  const make = (name: string, p: Omit<SfmPlugin, 'name'>): (() => Promise<SfmPlugin>) => async () => {
    loaded.push(name);
    return { name, ...p };
  };
  const transport = (kind: 'tcp' | 'serial') => ({
    provides: [TOKENS.TransportFactory],
    register: (ctx: PluginContext<unknown>) => ctx.provide(TOKENS.TransportFactory, { value: { kind, create: () => { throw new Error('no'); } } }),
  });
  const store = (scheme: string) => ({ provides: [TOKENS.Store], storeSchemes: [scheme], register: (ctx: PluginContext<unknown>) => ctx.provide(TOKENS.Store, { value: fakeStore }) });
  return {
    'transport-tcp': make('transport-tcp', transport('tcp')),
    'transport-serial': make('transport-serial', transport('serial')),
    'store-sqlite': make('store-sqlite', store('sqlite')),
    'store-memory': make('store-memory', store('memory')),
    front: make('front', {
      provides: [TOKENS.Service],
      settings: Type.Object({ listen: Type.String({ default: '127.0.0.1:8200', env: 'SFM_LISTEN' }), http_token: Type.Optional(Type.String({ minLength: 16, env: 'SFM_HTTP_TOKEN' })) }),
      register: () => undefined,
    }),
  };
}

const cfg = (flags: Record<string, unknown> = {}) => loadConfig({ env: {}, flags });

describe('the kernel', () => {
  it('loads exactly the plugins the configuration names, in order; the chosen store plugin alone provides the store', async () => {
    const loaded: string[] = [];
    const k = await Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-sqlite', 'store-memory'], store: 'memory' }), catalog(loaded));
    expect(loaded).toEqual(['transport-tcp', 'store-sqlite', 'store-memory']);
    expect(k.plugins.map((p) => p.name)).toEqual(['transport-tcp', 'store-sqlite', 'store-memory']);
    expect(k.relay.store.kind).toBe('fake');
    expect(k.relay).toBe(k.relay); // one relay per kernel
    expect(k.services()).toEqual([]);
  });

  it('gives plugins the web application\'s folder, or null when there is none (the API is served either way)', async () => {
    for (const webRoot of ['/srv/sfm/web', undefined]) {
      let seen: unknown = 'not asked';
      const cat = catalog([]);
      const base = cat['transport-tcp']!;
      cat['transport-tcp'] = async () => {
        const p = await base();
        return { ...p, register: (ctx: PluginContext<unknown>) => ((seen = ctx.resolve(TOKENS.WebRoot)), p.register(ctx)) };
      };
      await Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-memory'], store: 'memory' }), cat, { webRoot });
      expect(seen).toBe(webRoot ?? null);
    }
  });

  it('without a plugins list, loads every plugin of the catalog', async () => {
    const loaded: string[] = [];
    await Kernel.boot(cfg(), catalog(loaded));
    expect(loaded).toEqual(['transport-tcp', 'transport-serial', 'store-sqlite', 'store-memory', 'front']);
  });

  it('fails clearly on an unknown plugin, a store no plugin keeps, no transport, or an undeclared provide', async () => {
    await expect(Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-sqlite', 'transport-zigbee'] }), catalog([]))).rejects.toThrow(/unknown plugin "transport-zigbee" \(known: transport-tcp/);
    await expect(Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-memory'] }), catalog([]))).rejects.toThrow(/the store is sqlite:.\/data\/sfm.db but no loaded plugin keeps sqlite stores/);
    await expect(Kernel.boot(cfg({ plugins: ['store-sqlite'] }), catalog([]))).rejects.toThrow(KernelError);
    const broken: PluginCatalog = { ...catalog([]), 'transport-tcp': async () => { throw new Error('cannot find module'); } };
    await expect(Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-sqlite'] }), broken)).rejects.toThrow(/plugin "transport-tcp" could not be loaded: cannot find module/);
    const sneaky: PluginCatalog = { ...catalog([]), 'transport-tcp': async () => ({ name: 'transport-tcp', provides: [TOKENS.TransportFactory], register: (ctx) => ctx.provide(TOKENS.Relay, { value: {} as never }) }) };
    await expect(Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-sqlite'] }), sneaky)).rejects.toThrow(/provides sfm.Relay, which it does not declare/);
  });

  it("gives each plugin its own checked settings and child container", async () => {
    let seen: unknown;
    let own: unknown;
    const cat: PluginCatalog = {
      ...catalog([]),
      front: async () => ({
        name: 'front',
        provides: [],
        settings: Type.Object({ listen: Type.String({ default: '127.0.0.1:8200', env: 'SFM_LISTEN' }), http_token: Type.Optional(Type.String({ minLength: 16, env: 'SFM_HTTP_TOKEN' })) }),
        register: (ctx) => {
          seen = ctx.settings;
          ctx.container.register('secret', { useValue: 42 });
          own = ctx.container;
        },
      }),
    };
    const k = await Kernel.boot(loadConfig({ env: { SFM_HTTP_TOKEN: 'a-long-enough-token' }, flags: { plugins: ['transport-tcp', 'store-sqlite', 'front'], listen: '127.0.0.1:9200' } }), cat);
    expect(seen).toEqual({ listen: '127.0.0.1:9200', http_token: 'a-long-enough-token' });
    expect(own).not.toBe(k.container);
    expect(k.container.isRegistered('secret')).toBe(false);
    await expect(Kernel.boot(loadConfig({ env: { SFM_HTTP_TOKEN: 'short' }, flags: { plugins: ['transport-tcp', 'store-sqlite', 'front'] } }), cat)).rejects.toThrow(/http_token: must be at least 16 characters long \(SFM_HTTP_TOKEN\)/);
  });

  it('starts services in plugin order and stops them in reverse, then closes the store', async () => {
    const log: string[] = [];
    const life = (name: string): Service => ({ name, start: async () => void log.push(`start ${name}`), stop: async () => void log.push(`stop ${name}`) });
    const cat: PluginCatalog = {
      ...catalog([]),
      units: async () => ({ name: 'units', provides: [TOKENS.Service], register: (ctx) => { ctx.provide(TOKENS.Service, { value: life('a') }); ctx.provide(TOKENS.Service, { value: life('b') }); } }),
    };
    const k = await Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-sqlite', 'units'] }), cat);
    await k.start();
    await k.stop();
    await k.stop();
    expect(log).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });
});

describe('configuration', () => {
  it("defaults: the SQLite store under ./data, every plugin, the core's timings", () => {
    const c = cfg();
    expect(c.settings.store).toBe('sqlite:./data/sfm.db');
    expect(c.settings.plugins).toBeUndefined();
    expect(c.settings.status_ttl_s).toBe(30);
    expect(c.settings.identity_ttl_s).toBe(300);
    expect(c.allow.hosts).toEqual(['127.0.0.0/8', '::1']);
  });

  it('file, then environment, then flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-cfg-'));
    const file = join(dir, 'sfm.json');
    writeFileSync(file, JSON.stringify({ store: 'memory', devices: { north: { host: '10.1.2.3', tcp_port: 12345 }, pit: { port: '/dev/ttyUSB0' } }, status_ttl_s: 10, identity_ttl_s: 5 }));
    const c = loadConfig({ file, env: { SFM_STATUS_TTL_S: '20', SFM_STORE: 'sqlite:/tmp/x.db' }, flags: { store: 'memory' } });
    expect(c.settings.store).toBe('memory');
    expect(c.settings.status_ttl_s).toBe(20);
    expect(c.settings.identity_ttl_s).toBe(5);
    expect(c.devices).toEqual({ north: { kind: 'tcp', host: '10.1.2.3', port: 12345 }, pit: { kind: 'serial', path: '/dev/ttyUSB0', baud: 38400 } });
  });

  it('reports every bad field with its name, why, and where it came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-cfg-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ devices: { both: { host: 'x', port: '/dev/x' } }, status_ttl_s: -1, allow_hosts: ['10.0.0.0/99'] }));
    let err: ConfigError | undefined;
    try {
      loadConfig({ file, env: { SFM_IDENTITY_TTL_S: 'abc' } });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = err!.problems.join('\n');
    expect(text).toContain('devices.both: give either host (and tcp_port) or port (and baud)');
    expect(text).toContain(`status_ttl_s: must be a number from 1 to 86400, got -1 (file ${file})`);
    expect(text).toContain('identity_ttl_s: must be a number from 0 to 86400, got "abc" (SFM_IDENTITY_TTL_S)');
    expect(text).toContain('allow_hosts:');
    writeFileSync(file, JSON.stringify({ devices: { 'bad name!': { host: 'x' } } }));
    expect(() => loadConfig({ file, env: {} })).toThrow(/devices\.bad name!: not a valid name/);
    expect(() => loadConfig({ file: join(dir, 'missing.json'), env: {} })).toThrow(/cannot read .*missing\.json: ENOENT/);
    writeFileSync(file, '{ not json');
    expect(() => loadConfig({ file, env: {} })).toThrow(ConfigError);
  });

  it('analyses: the OSMRE chart and the 2 Hz air-blast limit by default; configured curves checked at startup, every problem named', () => {
    expect(cfg().analysis).toMatchObject({ standards: ['osmre-chart'], distance_ft: null, air_blast: 'osmre-airblast-2hz' });
    const dir = mkdtempSync(join(tmpdir(), 'sfm-cfg-'));
    const file = join(dir, 'curves.json');
    const ri = { name: 'rhode-island', source: 'RI §23-28.28-9', points: [{ hz: 2.5, ips: 0.5 }, { hz: 10, ips: 0.5 }, { hz: 40, ips: 2 }] };
    writeFileSync(file, JSON.stringify({ compliance_curves: [ri], compliance_standards: ['rhode-island', 'osmre-distance'], compliance_distance_ft: 800, air_blast_standard: null }));
    const c = loadConfig({ file, env: {} });
    expect(c.analysis.standards).toEqual(['rhode-island', 'osmre-distance']);
    expect(c.analysis.curves.get('rhode-island')).toMatchObject({ id: 'rhode-island', source: 'RI §23-28.28-9' });
    expect([c.analysis.distance_ft, c.analysis.air_blast]).toEqual([800, null]);

    const bad = {
      compliance_curves: [
        { name: 'osmre-chart', points: [{ hz: 1, ips: 1 }, { hz: 2, ips: 1 }] },
        { name: 'mine', points: [{ hz: 5, ips: 1 }, { hz: 4, ips: 1 }] },
        { name: 'mine', points: [{ hz: 1, ips: 1 }, { hz: 2, ips: 1 }] },
        { name: 'x y', points: [{ hz: -1, ips: 1 }] },
      ],
      compliance_standards: ['usbm'],
      compliance_distance_ft: -3,
      air_blast_standard: '134dB',
    };
    writeFileSync(file, JSON.stringify(bad));
    let err: ConfigError | undefined;
    try {
      loadConfig({ file, env: {} });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = err!.problems.join('\n');
    expect(text).toContain('compliance_curves[3].name: must be 1 to 64 letters');
    expect(text).toContain('compliance_distance_ft:');
    expect(text).toContain('air_blast_standard:');
    // A curve list that fails its field checks is dropped whole; the checks across fields come next.
    writeFileSync(file, JSON.stringify({ ...bad, compliance_curves: bad.compliance_curves.slice(0, 3), compliance_distance_ft: null, air_blast_standard: null }));
    expect(() => loadConfig({ file, env: {} })).toThrow(ConfigError);
    try {
      loadConfig({ file, env: {} });
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'compliance_curves[0].name: "osmre-chart" is a standard curve\'s id; choose another name',
        'compliance_curves[1].points[1].hz: must be greater than points[0].hz (5), got 4',
        'compliance_curves[2].name: "mine" names another curve too',
        'compliance_standards: unknown standard "usbm" (known: usbm-ri8507-drywall, usbm-ri8507-plaster, osmre-chart, osmre-distance, mine)',
      ]);
    }
  });

  it('a key no plugin of the executable knows is refused; a key of a plugin not loaded is accepted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-cfg-'));
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ plugins: ['transport-tcp', 'store-sqlite'], listen: '127.0.0.1:9000', colour: 'red' }));
    await expect(Kernel.boot(loadConfig({ file, env: {} }), catalog([]))).rejects.toThrow(/colour: not a configuration key/);
    writeFileSync(file, JSON.stringify({ plugins: ['transport-tcp', 'store-sqlite'], listen: '127.0.0.1:9000' }));
    await expect(Kernel.boot(loadConfig({ file, env: {} }), catalog([]))).resolves.toBeInstanceOf(Kernel);
  });
});

describe('the device registry and allow-list', () => {
  it('allows registered units, listed hosts and CIDRs, loopback by default; nothing else', () => {
    const r = new DeviceRegistry({ north: { kind: 'tcp', host: '10.1.2.3', port: 12345 } }, { hosts: ['127.0.0.0/8', '::1', 'localhost', '192.168.40.0/22', 'modem.example.net'], serialPorts: ['/dev/ttyUSB*'] });
    const tcp = (host: string, port = 12345) => r.isAllowed({ kind: 'tcp', host, port });
    expect([tcp('10.1.2.3'), tcp('10.1.2.3', 9999), tcp('127.0.0.1'), tcp('127.9.9.9'), tcp('::1'), tcp('localhost'), tcp('192.168.43.255'), tcp('192.168.44.0'), tcp('modem.example.net'), tcp('8.8.8.8')])
      .toEqual([true, false, true, true, true, true, true, false, true, false]);
    expect(r.isAllowed({ kind: 'serial', path: '/dev/ttyUSB3', baud: 38400 })).toBe(true);
    expect(r.isAllowed({ kind: 'serial', path: '/dev/ttyS0', baud: 38400 })).toBe(false);
    expect(r.isAllowed({ kind: 'serial', path: '/dev/ttyUSB0/../../etc/x', baud: 38400 })).toBe(false);
    expect(r.isAllowed({ kind: 'serial', path: '/dev/ttyUSB0//x', baud: 38400 })).toBe(false);
    expect(new HostSet(['127.0.0.0/8']).has('::ffff:127.0.0.1')).toBe(true);
    expect(new HostSet(['2001:db8::/32']).has('2001:db8::1')).toBe(true);
    expect(new HostSet(['2001:db8::/32']).has('2001:db9::1')).toBe(false);
  });
});
