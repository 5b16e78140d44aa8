/**
 * A response body and its compressed forms. Each form is made once, when first asked for, and
 * kept with the body: a hot-tier hit sends the bytes it holds, whatever encoding the client takes.
 */
import { brotliCompressSync, constants, createBrotliCompress, createGzip, gunzipSync, gzipSync, type BrotliOptions, type ZlibOptions } from 'node:zlib';
import type { Transform } from 'node:stream';

/** The content codings sfm answers in (RFC 9110 §8.4), best first. */
export type ContentEncoding = 'br' | 'gzip';
export const CONTENT_ENCODINGS: readonly ContentEncoding[] = ['br', 'gzip'];

/** Bodies below this are sent as they are: compressing them saves less than it costs. */
export const MIN_COMPRESSED_BYTES = 1024;

/**
 * Brotli quality 5 and gzip level 6: on a waveform's JSON about 11 ms per 500 KB each, once per
 * body; quality 9 would take ten times as long for 2 % fewer bytes.
 */
const GZIP: ZlibOptions = { level: 6 };
const brotli = (sizeHint = 0): BrotliOptions => ({
  params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: sizeHint },
});

export function compress(bytes: Uint8Array, encoding: ContentEncoding): Buffer {
  return encoding === 'gzip' ? gzipSync(bytes, GZIP) : brotliCompressSync(bytes, brotli(bytes.byteLength));
}

/**
 * A gzip member decompressed into one buffer of the size its trailer gives (ISIZE): a third
 * faster than growing the output in 16 KB steps. A corrupt trailer fails zlib's own check.
 */
export function gunzipWhole(gz: Uint8Array): Buffer {
  const size = gz.byteLength >= 18 ? Buffer.from(gz.buffer, gz.byteOffset, gz.byteLength).readUInt32LE(gz.byteLength - 4) : 0;
  return gunzipSync(gz, size > 0 && size <= MAX_HINT_BYTES ? { chunkSize: Math.max(size, 64) } : {});
}
const MAX_HINT_BYTES = 256 * 1024 * 1024;

/** The same compression for a body sent in pieces (a CSV waveform). */
export function compressStream(encoding: ContentEncoding): Transform {
  return encoding === 'gzip' ? createGzip(GZIP) : createBrotliCompress(brotli());
}

export class Body {
  private readonly forms: Partial<Record<ContentEncoding, Uint8Array>>;
  /** Told when a compressed form is added (the hot tier re-counts the entry's bytes). */
  onGrow: (() => void) | undefined;

  constructor(
    readonly plain: Uint8Array,
    forms: Partial<Record<ContentEncoding, Uint8Array>> = {},
  ) {
    this.forms = { ...forms };
  }

  bytes(): Uint8Array {
    return this.plain;
  }

  /** The body compressed with `encoding`, made on first use and kept. */
  encoded(encoding: ContentEncoding): Uint8Array {
    let bytes = this.forms[encoding];
    if (!bytes) {
      bytes = this.forms[encoding] = compress(this.plain, encoding);
      this.onGrow?.();
    }
    return bytes;
  }

  /** Bytes held: the plain body and every compressed form made so far. */
  get byteLength(): number {
    let n = this.plain.byteLength;
    for (const e of CONTENT_ENCODINGS) n += this.forms[e]?.byteLength ?? 0;
    return n;
  }
}
