/**
 * The device client's typed errors; each maps to one error code of the contract.
 * Messages are for people: they say what failed and where, never a stack.
 */
export type DeviceErrorCode = 'DEVICE_TIMEOUT' | 'PROTOCOL_ERROR' | 'DEVICE_UNREACHABLE' | 'DEVICE_BUSY';

export abstract class DeviceError extends Error {
  abstract readonly code: DeviceErrorCode;
}

/** The unit stopped answering within the step's timeout. */
export class DeviceTimeout extends DeviceError {
  override name = 'DeviceTimeout';
  readonly code = 'DEVICE_TIMEOUT';
}

/** The unit answered with something that is not the expected frame: bad checksum, wrong SUB, garbled. */
export class ProtocolError extends DeviceError {
  override name = 'ProtocolError';
  readonly code = 'PROTOCOL_ERROR';
}

/** The unit cannot be reached: connection refused, port missing, or the link dropped. */
export class DeviceUnreachable extends DeviceError {
  override name = 'DeviceUnreachable';
  readonly code = 'DEVICE_UNREACHABLE';
}

/** The unit's request queue is full, or a request waited longer than allowed. */
export class DeviceBusy extends DeviceError {
  override name = 'DeviceBusy';
  readonly code = 'DEVICE_BUSY';
}

/**
 * The event a walk was asked to continue from is no longer the one the caller knows (the unit
 * was erased or refilled and reused its key): the caller's list is stale.
 */
export class EventListChanged extends Error {
  override name = 'EventListChanged';
}
