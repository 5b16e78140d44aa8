/**
 * sfm's one error base. Every error sfm raises on purpose is an SfmError with a code from one
 * union; each front end has one table from code to what it does (adapter-http: the HTTP status;
 * adapter-cli: the exit code). Messages are for people: what failed and where, never a stack.
 */

export const ERROR_CODES = [
  /** Bad or missing parameters, body or configuration value (names the field and why). */
  'INVALID_REQUEST',
  'UNAUTHORIZED',
  'TARGET_NOT_ALLOWED',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFIRMATION_REQUIRED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'REQUEST_TIMEOUT',
  /** The unit cannot be reached: connection refused, port missing, the link dropped. */
  'DEVICE_UNREACHABLE',
  /** The unit answered with something that is not the expected frame or data. */
  'PROTOCOL_ERROR',
  /** The unit's queue is full, or a request waited longer than allowed. */
  'DEVICE_BUSY',
  /** The unit stopped answering within a step's timeout. */
  'DEVICE_TIMEOUT',
  /** The store cannot be read or written now (read-only, disk full, database down). */
  'STORE_UNAVAILABLE',
  /** The server is shutting down: it finishes what is in flight and takes no new work. */
  'SHUTTING_DOWN',
  /** The configuration or the set of loaded plugins cannot run. */
  'CONFIG_INVALID',
  /** The emulated unit's memory is full. */
  'MEMORY_FULL',
  /** A broken promise inside sfm (a store given what its contract forbids): a bug. */
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class SfmError extends Error {
  override name = 'SfmError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Input that does not fit: a request field, a flag, a configuration value. */
export class InvalidInput extends SfmError {
  override name = 'InvalidInput';
  constructor(
    /** The field, as the caller named it (dotted path); '' when the input as a whole is wrong. */
    readonly field: string,
    /** Why, in words. */
    readonly why: string,
    options?: ErrorOptions,
  ) {
    super('INVALID_REQUEST', field ? `${field}: ${why}` : why, options);
  }
}

export class NotFound extends SfmError {
  override name = 'NotFound';
  constructor(message: string, options?: ErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

/** The configuration, or the plugins it names, cannot run. */
export class ConfigError extends SfmError {
  override name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[] | string) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super('CONFIG_INVALID', list.length === 1 ? `configuration: ${list[0]}` : `configuration:\n  - ${list.join('\n  - ')}`);
    this.problems = list;
  }
}

/** The code of any error: its own when it is an SfmError, INTERNAL otherwise. */
export function errorCode(e: unknown): ErrorCode {
  return e instanceof SfmError ? e.code : 'INTERNAL';
}
