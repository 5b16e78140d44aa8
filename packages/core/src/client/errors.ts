/**
 * The device client's errors, one per code of the contract the unit can cause. Messages are for
 * people: they say what failed and where, never a stack.
 */
import { SfmError } from '../errors.js';

export type DeviceErrorCode = 'DEVICE_TIMEOUT' | 'PROTOCOL_ERROR' | 'DEVICE_UNREACHABLE' | 'DEVICE_BUSY';

export abstract class DeviceError extends SfmError {
  declare readonly code: DeviceErrorCode;
}

/** The unit stopped answering within the step's timeout. */
export class DeviceTimeout extends DeviceError {
  override name = 'DeviceTimeout';
  constructor(message: string, options?: ErrorOptions) {
    super('DEVICE_TIMEOUT', message, options);
  }
}

/** The unit answered with something that is not the expected frame: bad checksum, wrong SUB, garbled. */
export class ProtocolError extends DeviceError {
  override name = 'ProtocolError';
  constructor(message: string, options?: ErrorOptions) {
    super('PROTOCOL_ERROR', message, options);
  }
}

/** The unit cannot be reached: connection refused, port missing, or the link dropped. */
export class DeviceUnreachable extends DeviceError {
  override name = 'DeviceUnreachable';
  constructor(message: string, options?: ErrorOptions) {
    super('DEVICE_UNREACHABLE', message, options);
  }
}

/** The unit's request queue is full, or a request waited longer than allowed. */
export class DeviceBusy extends DeviceError {
  override name = 'DeviceBusy';
  constructor(message: string, options?: ErrorOptions) {
    super('DEVICE_BUSY', message, options);
  }
}

/**
 * The event a walk was asked to continue from is no longer the one the caller knows (the unit
 * was erased or refilled and reused its key): the caller's list is stale.
 */
export class EventListChanged extends SfmError {
  override name = 'EventListChanged';
  constructor(message: string) {
    super('PROTOCOL_ERROR', message);
  }
}
