/** The codec's error for content that does not fit the layout it is decoded or encoded with. */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

export function requireLength(content: Uint8Array, min: number, what: string): void {
  if (content.length < min) throw new PayloadError(`${what}: ${content.length} bytes, expected at least ${min}`);
}
