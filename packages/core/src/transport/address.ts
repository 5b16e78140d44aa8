/**
 * Canonical addresses: every spelling of one address names one unit, one queue and one cache.
 *
 * Hosts are parsed the way a URL parser does (WHATWG): case folded, IDNA names in their ASCII
 * form, IPv4 shorthands (`127.1`, `0x7f.1`) as dotted quads, IPv6 compressed; then a trailing dot
 * goes, `localhost` is 127.0.0.1 (RFC 6761) and IPv4-mapped IPv6 is its IPv4 address. Names are
 * never resolved (cellular modems often sit behind dynamic DNS): two names for one unit are tied
 * together by the serial it reports. Address checks use Node's own parser (net.BlockList).
 */
import { BlockList, isIP } from 'node:net';
import { InvalidInput } from '../errors.js';
import { posix } from 'node:path';
import type { DeviceTarget } from './transport.js';

/** A host that is not a host name or IP address. */
export class InvalidHost extends InvalidInput {
  override name = 'InvalidHost';
  constructor(why: string) {
    super('host', why);
  }
}

const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** The canonical form of a host name or IP address (IPv6 without brackets). Throws InvalidHost. */
export function canonicalHost(host: string): string {
  const raw = host.trim();
  const bracketed = raw.startsWith('[') && raw.endsWith(']');
  const bare = bracketed ? raw.slice(1, -1) : raw;
  // What a URL parser would take as path, query, user or port is not part of a host.
  if (/[\s/?#@\\[\]]/.test(bare) || ((bracketed || bare.includes(':')) && isIP(bare) !== 6)) throw new InvalidHost(`not a host name or IP address: ${JSON.stringify(host)}`);
  if (bare.includes('%')) {
    // A zone id (fe80::1%eth0): URL parsers refuse it; Node's own check decides.
    if (isIP(bare) !== 6) throw new InvalidHost(`not an IP address: ${JSON.stringify(host)}`);
    return bare.toLowerCase();
  }
  let parsed: string;
  try {
    parsed = new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}/`).hostname;
  } catch {
    throw new InvalidHost(`not a host name or IP address: ${JSON.stringify(host)}`);
  }
  if (parsed === '' || (bare !== '' && parsed.startsWith('[') !== (isIP(bare) === 6))) {
    throw new InvalidHost(`not a host name or IP address: ${JSON.stringify(host)}`);
  }
  let h = parsed.startsWith('[') ? parsed.slice(1, -1) : parsed.replace(/\.$/, '');
  const mapped = MAPPED_IPV4.exec(h);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    h = `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  if (h === 'localhost') return '127.0.0.1';
  if (isIP(h) === 0 && !/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/.test(h)) {
    throw new InvalidHost(`not a host name or IP address: ${JSON.stringify(host)}`);
  }
  return h;
}

/** The canonical form of a target: hosts as above, serial paths normalised. */
export function canonicalTarget(t: DeviceTarget): DeviceTarget {
  if (t.kind === 'tcp') return { kind: 'tcp', host: canonicalHost(t.host), port: t.port };
  return { kind: 'serial', path: posix.normalize(t.path), baud: t.baud };
}

/** IP version of a canonical host: 4, 6, or 0 for a name. */
export function ipVersion(host: string): 0 | 4 | 6 {
  return isIP(host) as 0 | 4 | 6;
}

/**
 * A set of hosts: addresses, CIDR ranges and exact names, matched on canonical forms with
 * Node's address parser (an IPv6 address with a dotted tail is judged as the IPv6 address it is).
 */
export class HostSet {
  private readonly ips = new BlockList();
  private readonly names = new Set<string>();

  constructor(rules: readonly string[]) {
    for (const rule of rules) this.add(rule);
  }

  private add(rule: string): void {
    const slash = rule.indexOf('/');
    if (slash < 0) {
      const h = canonicalHost(rule);
      const v = ipVersion(h);
      if (v === 0) this.names.add(h);
      else this.ips.addAddress(h, v === 4 ? 'ipv4' : 'ipv6');
      return;
    }
    const net = canonicalHost(rule.slice(0, slash));
    const bits = Number(rule.slice(slash + 1));
    const v = ipVersion(net);
    if (v === 0 || !Number.isInteger(bits) || bits < 0 || bits > (v === 4 ? 32 : 128)) {
      throw new InvalidHost(`not an address range: ${JSON.stringify(rule)}`);
    }
    this.ips.addSubnet(net, bits, v === 4 ? 'ipv4' : 'ipv6');
  }

  /** Does the set hold this host (any spelling)? */
  has(host: string): boolean {
    let h: string;
    try {
      h = canonicalHost(host);
    } catch {
      return false;
    }
    const v = ipVersion(h);
    if (v === 0) return this.names.has(h);
    return this.ips.check(h, v === 4 ? 'ipv4' : 'ipv6');
  }
}

const LOOPBACK = new HostSet(['127.0.0.0/8', '::1']);

/** 127.0.0.0/8, ::1 and their spellings (localhost, ::ffff:127.0.0.1, …). */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host);
}
