/**
 * Named units from the configuration, and which ad-hoc targets may be reached at all. The
 * allow-list is checked before any connection is attempted: registered units, then hosts/CIDRs
 * and serial-port patterns from the configuration; loopback is allowed by default.
 */
import { isIP } from 'node:net';
import { posix } from 'node:path';
import type { DeviceTarget } from '../transport/transport.js';

export interface AllowList {
  /** IPv4/IPv6 addresses, CIDR ranges ("10.20.0.0/16") or exact host names. */
  hosts: string[];
  /** Serial port paths; a trailing * matches any suffix ("/dev/ttyUSB*"). */
  serialPorts: string[];
}

export const DEFAULT_ALLOW: AllowList = { hosts: ['127.0.0.0/8', '::1', 'localhost'], serialPorts: [] };

export class DeviceRegistry {
  private readonly devices: Map<string, DeviceTarget>;

  constructor(
    devices: Record<string, DeviceTarget> = {},
    private readonly allow: AllowList = DEFAULT_ALLOW,
  ) {
    this.devices = new Map(Object.entries(devices));
  }

  resolve(name: string): DeviceTarget | undefined {
    return this.devices.get(name);
  }

  names(): string[] {
    return [...this.devices.keys()];
  }

  entries(): [string, DeviceTarget][] {
    return [...this.devices.entries()];
  }

  /** Registers a unit at run time (the built-in emulated unit registers itself as "demo"). */
  register(name: string, target: DeviceTarget): void {
    this.devices.set(name, target);
  }

  /** May an ad-hoc request reach this target? */
  isAllowed(target: DeviceTarget): boolean {
    for (const t of this.devices.values()) if (sameTarget(t, target)) return true;
    if (target.kind === 'serial') {
      // A path that climbs out of where it seems to point (/dev/ttyUSB0/../../x) never matches.
      if (target.path.split('/').includes('..') || posix.normalize(target.path) !== target.path) return false;
      return this.allow.serialPorts.some((p) => (p.endsWith('*') ? target.path.startsWith(p.slice(0, -1)) : p === target.path));
    }
    const host = target.host.toLowerCase();
    return this.allow.hosts.some((rule) => hostMatches(host, rule.toLowerCase()));
  }
}

function sameTarget(a: DeviceTarget, b: DeviceTarget): boolean {
  if (a.kind === 'tcp' && b.kind === 'tcp') return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port;
  if (a.kind === 'serial' && b.kind === 'serial') return a.path === b.path && a.baud === b.baud;
  return false;
}

/** An exact name or address, or an address inside a CIDR range (IPv4 and IPv6). */
export function hostMatches(host: string, rule: string): boolean {
  if (host === rule) return true;
  const slash = rule.indexOf('/');
  if (slash < 0) return sameAddress(host, rule);
  const net = rule.slice(0, slash);
  const bits = Number(rule.slice(slash + 1));
  const a = addressBits(host);
  const b = addressBits(net);
  if (!a || !b || a.length !== b.length || !Number.isInteger(bits) || bits < 0 || bits > a.length * 8) return false;
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((a[byte]! & mask) !== (b[byte]! & mask)) return false;
  }
  return true;
}

function sameAddress(a: string, b: string): boolean {
  const x = addressBits(a);
  const y = addressBits(b);
  return !!x && !!y && x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The bytes of an IP address (IPv4-mapped IPv6 folds to IPv4); undefined for a host name. */
export function addressBits(text: string): number[] | undefined {
  const t = text.replace(/^\[|\]$/g, '');
  const kind = isIP(t);
  if (kind === 4) return t.split('.').map(Number);
  if (kind !== 6) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(t);
  if (mapped) return mapped[1]!.split('.').map(Number);
  const [head, tail] = t.split('::') as [string, string | undefined];
  const words = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const tl = words(tail);
  const full = tail === undefined ? h : [...h, ...new Array(8 - h.length - tl.length).fill(0), ...tl];
  return full.flatMap((w) => [w >> 8, w & 0xff]);
}
