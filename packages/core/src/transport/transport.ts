/**
 * How core reaches a unit: a Transport opens one Link per session (the hardware takes one
 * session at a time). Implementations live in plugins (transport-tcp, transport-serial); core only
 * knows these interfaces and the stream adapter below.
 */

import { canonicalTarget } from './address.js';

/** Where a unit is: a TCP endpoint (cellular modem, bridge) or a serial port. */
export type DeviceTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'serial'; path: string; baud: number };

export const DEFAULT_TCP_PORT = 12345;
export const DEFAULT_BAUD = 38400;
/** The TCP ports and baud rates a target may name (schema limits, wherever a target is given). */
export const TCP_PORT_LIMITS = { minimum: 1, maximum: 65535 } as const;
export const BAUD_LIMITS = { minimum: 50, maximum: 4_000_000 } as const;

const keyMemo = new Map<string, string>();
const KEY_MEMO_MAX = 4096;

/**
 * The canonical connection key of a target: `tcp:<host>:<port>` or `serial:<path>:<baud>`, with
 * the host or path in canonical form (address.ts), so every spelling of one address is one key.
 * Throws InvalidHost for a host that is not one.
 */
export function connectionKey(t: DeviceTarget): string {
  const raw = t.kind === 'tcp' ? `tcp:${t.host}:${t.port}` : `serial:${t.path}:${t.baud}`;
  let key = keyMemo.get(raw);
  if (key === undefined) {
    const c = canonicalTarget(t);
    key = c.kind === 'tcp' ? `tcp:${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}` : `serial:${c.path}:${c.baud}`;
    if (keyMemo.size >= KEY_MEMO_MAX) keyMemo.clear();
    keyMemo.set(raw, key);
  }
  return key;
}

/** Receives what a link delivers, in order. */
export interface LinkReceiver {
  data(chunk: Uint8Array): void;
  /** The link ended: by close() (no error) or by the other side or a fault (with an error). */
  closed(error?: Error): void;
}

/** One open session with a unit. */
export interface Link {
  write(bytes: Uint8Array): Promise<void>;
  /** Sets who receives incoming bytes; bytes that arrived before are delivered at once. */
  setReceiver(receiver: LinkReceiver): void;
  close(): Promise<void>;
  readonly isOpen: boolean;
}

export interface OpenOptions {
  /** Give up connecting after this long (DeviceUnreachable). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Transport {
  readonly target: DeviceTarget;
  open(opts?: OpenOptions): Promise<Link>;
}

/** Makes transports for one kind of target; registered by a transport plugin. */
export interface TransportFactory {
  readonly kind: DeviceTarget['kind'];
  create(target: DeviceTarget): Transport;
}
