import { SfmError } from '../errors.js';

/** The codec's error for content that does not fit the layout it is decoded or encoded with. */
export class PayloadError extends SfmError {
  override name = 'PayloadError';
  constructor(message: string, options?: ErrorOptions) {
    super('PROTOCOL_ERROR', message, options);
  }
}

export function requireLength(content: Uint8Array, min: number, what: string): void {
  if (content.length < min) throw new PayloadError(`${what}: ${content.length} bytes, expected at least ${min}`);
}
