/**
 * The three checksum formulas of the protocol notes (protocol.md §2.4). All are one byte.
 * They agree with one model — SUM8 over logical (un-escaped) bytes — except where write frames
 * carry raw 0x10 data bytes; the builders use the documented per-style formula so the bytes match
 * what the vendor's software sends.
 */

/** SUM8: the byte sum mod 256. Host read frames and device responses (over logical bytes). */
export function sum8(bytes: ArrayLike<number>, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += bytes[i]!;
  return s & 0xff;
}

/**
 * Host write frames (SUB 68–83, 7E): 0x10 for the CMD byte plus every byte from the SUB onward
 * that is not 0x10 (the documented "large frame" formula; 20 captured frames validate it).
 * `payload` is the logical payload without its checksum, CMD at index 0.
 */
export function writeFrameChecksum(payload: ArrayLike<number>): number {
  let s = 0x10;
  for (let i = 2; i < payload.length; i++) {
    const b = payload[i]!;
    if (b !== 0x10) s += b;
  }
  return s & 0xff;
}

/** Host 5A frames: a raw `10 XX` pair in the offset word counts as XX alone (DLE-aware sum). */
export function dleAwareWordSum(hi: number, lo: number): number {
  return hi === 0x10 ? lo : hi + lo;
}
