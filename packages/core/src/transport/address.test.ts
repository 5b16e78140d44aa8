/** Canonical addresses: one key per address whatever the spelling; the allow-list judges the address. */
import { describe, expect, it } from 'vitest';
import { HostSet, InvalidHost, canonicalHost, isLoopbackHost } from './address.js';
import { connectionKey } from './transport.js';
import { DeviceRegistry, DEFAULT_ALLOW } from '../kernel/device-registry.js';

describe('canonicalHost', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['localhost', '127.0.0.1'],
    ['LOCALHOST', '127.0.0.1'],
    ['LOCALHOST.', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['[::ffff:127.0.0.1]', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['Modem-17.Example.NET.', 'modem-17.example.net'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['::1.2.3.4', '::102:304'],
  ])('%s → %s', (given, canonical) => {
    expect(canonicalHost(given)).toBe(canonical);
  });

  it.each(['', 'a b', '[127.0.0.1]', 'exa mple.com', '-', 'x/y', '[::1', 'modem:80', 'user@host'])('refuses %j', (bad) => {
    expect(() => canonicalHost(bad)).toThrow(InvalidHost);
  });

  it('every spelling of one address is one connection key', () => {
    const keys = ['127.0.0.1', 'localhost', 'LOCALHOST', 'LOCALHOST.', '::ffff:127.0.0.1', '127.1'].map((host) => connectionKey({ kind: 'tcp', host, port: 12345 }));
    expect(new Set(keys)).toEqual(new Set(['tcp:127.0.0.1:12345']));
    expect(connectionKey({ kind: 'tcp', host: '::1', port: 1 })).toBe('tcp:[::1]:1');
    expect(connectionKey({ kind: 'serial', path: '/dev//ttyUSB0', baud: 38400 })).toBe('serial:/dev/ttyUSB0:38400');
  });
});

describe('HostSet and the allow-list', () => {
  it('an IPv6 address with a dotted tail is judged as the IPv6 address it is', () => {
    expect(isLoopbackHost('::1.2.3.4')).toBe(false);
    expect(isLoopbackHost('[::1.0.0.0]')).toBe(false);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('localhost.')).toBe(true);
    expect(isLoopbackHost('::ffff:127.3.4.5')).toBe(true);
    expect(new HostSet(['fd00::1']).has('fd00::1.2.3.4')).toBe(false);
    expect(new HostSet(['fd00::1']).has('FD00:0::1')).toBe(true);
  });

  it('the default allow-list admits loopback in any spelling and nothing else', () => {
    const r = new DeviceRegistry({}, DEFAULT_ALLOW);
    const ok = (host: string) => r.isAllowed({ kind: 'tcp', host, port: 12345 });
    expect(['127.0.0.1', 'localhost', 'LOCALHOST.', '::ffff:127.0.0.1', '::1', '127.1'].map(ok)).toEqual([true, true, true, true, true, true]);
    expect(['::1.2.3.4', '10.0.0.1', '::ffff:10.0.0.1', 'example.com', '0x0a.1'].map(ok)).toEqual([false, false, false, false, false]);
  });

  it('CIDR ranges, exact names, and registered units in any spelling', () => {
    const r = new DeviceRegistry({ north: { kind: 'tcp', host: 'Modem.Example.net', port: 12345 } }, { hosts: ['10.20.0.0/16', '2001:db8::/32', 'gw.example.org'], serialPorts: [] });
    const ok = (host: string, port = 12345) => r.isAllowed({ kind: 'tcp', host, port });
    expect(ok('10.20.255.1')).toBe(true);
    expect(ok('::ffff:10.20.1.1')).toBe(true);
    expect(ok('10.21.0.1')).toBe(false);
    expect(ok('2001:db8:ffff::9')).toBe(true);
    expect(ok('GW.example.org.')).toBe(true);
    expect(ok('modem.example.net.')).toBe(true);
    expect(ok('modem.example.net', 9)).toBe(false);
    expect(r.resolve('north')).toEqual({ kind: 'tcp', host: 'modem.example.net', port: 12345 });
  });

  it('a rule that is not an address, range or name is refused', () => {
    expect(() => new HostSet(['10.0.0.0/33'])).toThrow(InvalidHost);
    expect(() => new HostSet(['host name'])).toThrow(InvalidHost);
  });
});
