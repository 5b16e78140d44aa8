/**
 * SUB 5B → A4 POLL, the start-up handshake (protocol.md §6). Its real probe/data constants and
 * reply content were never recovered; sfm sends a read-style two-step with DATA_LEN 0x0A and the
 * emulator answers "S3" and zeros ([sfm], conventions.ts).
 */
import { POLL_DATA_LENGTH, POLL_REPLY_MAGIC } from './conventions.js';

export { POLL_DATA_LENGTH };

export function encodePollReply(): Uint8Array {
  const out = new Uint8Array(POLL_DATA_LENGTH);
  out.set(POLL_REPLY_MAGIC, 0);
  return out;
}
