/**
 * Device selection: exactly one of device=<name>, host=<addr> [+ tcp_port], port=<path> [+ baud].
 * An ad-hoc target the configuration does not allow is refused here, before any connection.
 */
import { isIP } from 'node:net';
import { type DeviceRegistry } from '@sfm/core/kernel';
import { DEFAULT_BAUD, DEFAULT_TCP_PORT, type DeviceTarget } from '@sfm/core/transport';
import { InvalidInput, NotFound, SfmError } from '@sfm/core';

export interface Selection {
  target: DeviceTarget;
  /** The registry name, when the unit was chosen by name. */
  name?: string;
}

export function selectTarget(q: Record<string, unknown>, devices: DeviceRegistry): Selection {
  const given = (['device', 'host', 'port'] as const).filter((k) => q[k] !== undefined);
  if (given.length === 0) {
    throw new InvalidInput('', 'choose a unit: device=<name>, host=<address> [tcp_port=<n>] or port=<serial path> [baud=<n>]');
  }
  if (given.length > 1) throw new InvalidInput('', `choose one way to reach the unit: ${given.join(' and ')} were both given (device, host or port, not several)`);
  if (q.tcp_port !== undefined && q.host === undefined) throw new InvalidInput('tcp_port', 'only goes with host');
  if (q.baud !== undefined && q.port === undefined) throw new InvalidInput('baud', 'only goes with port');

  if (q.device !== undefined) {
    const name = String(q.device);
    const target = devices.resolve(name);
    if (!target) throw new NotFound(`unknown device ${JSON.stringify(name)}`);
    return { target, name };
  }
  if (q.host !== undefined) {
    const raw = String(q.host);
    const bracketed = raw.startsWith('[') && raw.endsWith(']');
    const host = bracketed ? raw.slice(1, -1) : raw;
    if ((bracketed || host.includes(':')) && isIP(host) !== 6) throw new InvalidInput('host', `must be a host name or IP address (brackets only around IPv6), got ${JSON.stringify(raw)}`);
    if (!host.includes(':') && (host.startsWith('-') || host.startsWith('.') || host.includes('..'))) {
      throw new InvalidInput('host', `must be a host name or IP address, got ${JSON.stringify(raw)}`);
    }
    const target: DeviceTarget = { kind: 'tcp', host, port: (q.tcp_port as number | undefined) ?? DEFAULT_TCP_PORT };
    if (!devices.isAllowed(target)) {
      throw new SfmError('TARGET_NOT_ALLOWED', `host ${host} port ${target.port} is not allowed by the configuration (register the unit or add the host to the allow-list)`);
    }
    return { target };
  }
  const target: DeviceTarget = { kind: 'serial', path: String(q.port), baud: (q.baud as number | undefined) ?? DEFAULT_BAUD };
  if (!devices.isAllowed(target)) {
    throw new SfmError('TARGET_NOT_ALLOWED', `serial port ${target.path} at ${target.baud} baud is not allowed by the configuration (register the unit or add the port to the allow-list)`);
  }
  return { target };
}
