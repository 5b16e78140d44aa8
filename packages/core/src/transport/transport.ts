/**
 * How core reaches a unit: a Transport opens one Link per session (the hardware takes one
 * session at a time). Implementations live in plugins (transport-tcp, transport-serial); core only
 * knows these interfaces and the stream adapter below.
 */

/** Where a unit is: a TCP endpoint (cellular modem, bridge) or a serial port. */
export type DeviceTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'serial'; path: string; baud: number };

export const DEFAULT_TCP_PORT = 12345;
export const DEFAULT_BAUD = 38400;

/** The connection key of a target: `tcp:<host>:<port>` or `serial:<path>:<baud>`. */
export function connectionKey(t: DeviceTarget): string {
  return t.kind === 'tcp' ? `tcp:${t.host}:${t.port}` : `serial:${t.path}:${t.baud}`;
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
