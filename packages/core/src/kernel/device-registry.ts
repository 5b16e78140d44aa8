/**
 * Named units from the configuration, and which ad-hoc targets may be reached at all. The
 * allow-list is checked before any connection is attempted, on canonical addresses (every
 * spelling of one address is judged as that address): registered units, then hosts/CIDRs and
 * serial-port patterns from the configuration; loopback is allowed by default.
 */
import { posix } from 'node:path';
import { HostSet, canonicalTarget } from '../transport/address.js';
import { connectionKey, type DeviceTarget } from '../transport/transport.js';

export interface AllowList {
  /** IPv4/IPv6 addresses, CIDR ranges ("10.20.0.0/16") or exact host names. */
  hosts: string[];
  /** Serial port paths; a trailing * matches any suffix ("/dev/ttyUSB*"). */
  serialPorts: string[];
}

export const DEFAULT_ALLOW: AllowList = { hosts: ['127.0.0.0/8', '::1'], serialPorts: [] };

export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceTarget>();
  /** Connection keys of the registered units. */
  private readonly registeredKeys = new Set<string>();
  private readonly hosts: HostSet;

  constructor(
    devices: Record<string, DeviceTarget> = {},
    private readonly allow: AllowList = DEFAULT_ALLOW,
  ) {
    this.hosts = new HostSet(allow.hosts);
    for (const [name, t] of Object.entries(devices)) this.register(name, t);
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
    const t = canonicalTarget(target);
    this.devices.set(name, t);
    this.registeredKeys.add(connectionKey(t));
  }

  /** May an ad-hoc request reach this target (in any spelling)? */
  isAllowed(target: DeviceTarget): boolean {
    let t: DeviceTarget;
    try {
      t = canonicalTarget(target);
    } catch {
      return false;
    }
    if (this.registeredKeys.has(connectionKey(t))) return true;
    if (t.kind === 'serial') {
      // A path that climbs out of where it seems to point (/dev/ttyUSB0/../../x) never matches.
      if (target.kind !== 'serial' || target.path.split('/').includes('..') || posix.normalize(target.path) !== target.path) return false;
      return this.allow.serialPorts.some((p) => (p.endsWith('*') ? t.path.startsWith(p.slice(0, -1)) : p === t.path));
    }
    return this.hosts.has(t.host);
  }
}
