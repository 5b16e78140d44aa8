/**
 * SUB 15 → EA serial number (protocol.md §7.1), 10 bytes: ASCII serial NUL-padded to 8, a
 * unit-specific byte of unknown meaning, and the firmware minor version (S338.17 → 17).
 */
import { readAscii, writeAsciiField } from './bytes.js';
import { requireLength } from './errors.js';

export const SERIAL_BLOCK_LENGTH = 10;
/** The serial's room in the block: ASCII, NUL-padded. */
export const SERIAL_MAX_LENGTH = 8;

export interface SerialNumberBlock {
  serial: string;
  firmware_minor: number;
  /** The byte before the firmware minor (0x79 on BE18189); kept so it can be reproduced. */
  unit_byte: number;
}

export function decodeSerialNumber(content: Uint8Array): SerialNumberBlock {
  requireLength(content, SERIAL_BLOCK_LENGTH, 'serial-number block');
  return { serial: readAscii(content, 0, SERIAL_MAX_LENGTH), unit_byte: content[8]!, firmware_minor: content[9]! };
}

export function encodeSerialNumber(block: SerialNumberBlock): Uint8Array {
  const out = new Uint8Array(SERIAL_BLOCK_LENGTH);
  writeAsciiField(out, 0, SERIAL_MAX_LENGTH, block.serial, 'serial');
  out[8] = block.unit_byte & 0xff;
  out[9] = block.firmware_minor & 0xff;
  return out;
}
