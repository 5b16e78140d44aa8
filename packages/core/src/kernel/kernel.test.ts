import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.js';
import { Kernel, KernelError } from './kernel.js';
import { TOKENS, type Lifecycle } from './tokens.js';
import type { PluginCatalog, SfmPlugin } from './plugin.js';
import { DeviceRegistry } from './device-registry.js';
import { HostSet } from '../transport/address.js';
import type { Store } from '../cache/store.js';

/** Plugins that record what was loaded, standing in for the real packages. */
function catalog(loaded: string[]): PluginCatalog {
  const fakeStore = { kind: 'fake', async close() {}, onChange() {}, pollChanges() {} } as unknown as Store;
  const make = (name: string, register: SfmPlugin['register'], provides: SfmPlugin['provides'] = 'transport'): (() => Promise<SfmPlugin>) => async () => {
    loaded.push(name);
    return { name, provides, register };
  };
  return {
    'transport-tcp': make('transport-tcp', (c) => void c.register(TOKENS.TransportFactory, { useValue: { kind: 'tcp', create: () => { throw new Error('no'); } } })),
    'transport-serial': make('transport-serial', (c) => void c.register(TOKENS.TransportFactory, { useValue: { kind: 'serial', create: () => { throw new Error('no'); } } })),
    'store-sqlite': make('store-sqlite', (c, cfg) => void (cfg.store.kind === 'sqlite' && c.register(TOKENS.Store, { useValue: fakeStore })), 'store'),
    'store-memory': make('store-memory', (c, cfg) => void (cfg.store.kind === 'memory' && c.register(TOKENS.Store, { useValue: fakeStore })), 'store'),
    'adapter-http': make('adapter-http', (c) => void c.register(TOKENS.HttpServer, { useValue: async () => ({}) as never }), 'front-end'),
  };
}

const cfg = (flags: Record<string, unknown> = {}) => loadConfig({ env: {}, flags });

describe('the kernel', () => {
  it('loads exactly the plugins the configuration names, in order', async () => {
    const loaded: string[] = [];
    const k = await Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-memory'], store: 'memory' }), catalog(loaded));
    expect(loaded).toEqual(['transport-tcp', 'store-memory']);
    expect(k.plugins.map((p) => p.name)).toEqual(['transport-tcp', 'store-memory']);
    expect(k.relay.store.kind).toBe('fake');
    expect(k.relay).toBe(k.relay); // one relay per kernel
    expect(() => k.httpServer()).toThrow(/adapter-http/);
  });

  it('fails clearly on an unknown plugin, a missing store or no transport', async () => {
    await expect(Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-sqlite', 'transport-zigbee'] }), catalog([]))).rejects.toThrow(/unknown plugin "transport-zigbee" \(known: transport-tcp/);
    await expect(Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-memory'] }), catalog([]))).rejects.toThrow(/the store is sqlite but plugin "store-sqlite" is not loaded/);
    await expect(Kernel.boot(cfg({ plugins: ['store-sqlite'] }), catalog([]))).rejects.toThrow(KernelError);
    const broken: PluginCatalog = { ...catalog([]), 'transport-tcp': async () => { throw new Error('cannot find module'); } };
    await expect(Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-sqlite'] }), broken)).rejects.toThrow(/plugin "transport-tcp" could not be loaded: cannot find module/);
  });

  it('starts contributed lifecycles in order and stops them in reverse, then closes the store', async () => {
    const log: string[] = [];
    const life = (name: string): Lifecycle => ({ name, start: async () => void log.push(`start ${name}`), stop: async () => void log.push(`stop ${name}`) });
    const cat: PluginCatalog = {
      ...catalog([]),
      units: async () => ({ name: 'units', provides: 'unit', register: (c) => { c.register(TOKENS.Lifecycle, { useValue: life('a') }); c.register(TOKENS.Lifecycle, { useValue: life('b') }); } }),
    };
    const k = await Kernel.boot(cfg({ plugins: ['transport-tcp', 'store-sqlite', 'units'] }), cat);
    await k.start();
    await k.stop();
    await k.stop();
    expect(log).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });
});

describe('configuration', () => {
  it('defaults: loopback on 8200, the SQLite store under ./data, every plugin, simulate when no unit is configured', () => {
    const c = cfg();
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 8200, token: undefined });
    expect(c.store).toEqual({ kind: 'sqlite', path: './data/sfm.db' });
    expect(c.simulate).toBe('auto');
    expect(c.plugins).toContain('adapter-http');
    expect(c.cache.statusTtlMs).toBe(30_000);
  });

  it('file, then environment, then flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-cfg-'));
    const file = join(dir, 'sfm.json');
    writeFileSync(file, JSON.stringify({ listen: '127.0.0.1:9000', store: 'memory', devices: { north: { host: '10.1.2.3', tcp_port: 12345 }, pit: { port: '/dev/ttyUSB0' } }, status_ttl_s: 10 }));
    const c = loadConfig({ file, env: { SFM_LISTEN: '127.0.0.1:9100', SFM_HTTP_TOKEN: 'a-long-enough-token' }, flags: { listen: '127.0.0.1:9200' } });
    expect(c.http).toMatchObject({ port: 9200, token: 'a-long-enough-token' });
    expect(c.store.kind).toBe('memory');
    expect(c.devices).toEqual({ north: { kind: 'tcp', host: '10.1.2.3', port: 12345 }, pit: { kind: 'serial', path: '/dev/ttyUSB0', baud: 38400 } });
    expect(c.cache.statusTtlMs).toBe(10_000);
  });

  it('reports every bad field with its name and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-cfg-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ listen: 'everywhere', store: 'redis://x', http_token: 'short', devices: { 'bad name!': { host: 'x' }, both: { host: 'x', port: '/dev/x' } }, status_ttl_s: -1, colour: 'red', simulate: 'maybe' }));
    let err: ConfigError | undefined;
    try {
      loadConfig({ file, env: {} });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = err!.problems.join('\n');
    for (const field of ['listen:', 'store:', 'http_token:', 'devices.bad name!:', 'devices.both:', 'status_ttl_s:', 'colour: not a configuration key', 'simulate:']) expect(text).toContain(field);
    expect(() => loadConfig({ file: join(dir, 'missing.json'), env: {} })).toThrow(/cannot read .*missing\.json: ENOENT/);
    writeFileSync(file, '{ not json');
    expect(() => loadConfig({ file, env: {} })).toThrow(ConfigError);
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
