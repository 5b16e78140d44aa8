#!/usr/bin/env node
// Writes samples/session.bin: what a relay sees on the wire in the first seconds of a session with
// a unit behind a cellular modem — modem text, a session reset, POLL, serial number, storage
// range and monitor status, both directions interleaved. The monitor-status reply carries the
// bytes of the 2026-04-08 idle capture (protocol.md §14.1). Run after `pnpm build`.
import { writeFileSync, mkdirSync } from 'node:fs';
import {
  SUB, buildDeviceFrame, buildReadFrame, echoHeader, encodePollReply, encodeSerialNumber, encodeStorageRange,
  params, parseHex, responseSubFor, tokenParams, POLL_DATA_LENGTH,
} from '../packages/core/dist/index.js';

const parts = [];
const host = (sub, offset, p = params()) => parts.push(buildReadFrame(sub, offset, p));
const reply = (sub, offset, p, content) => parts.push(buildDeviceFrame(responseSubFor(sub), Uint8Array.from([...echoHeader(offset, p), ...content]), { leadingAck: true }));

parts.push(new TextEncoder().encode('\r\nRING\r\n\r\nCONNECT\r\n'));
parts.push(Uint8Array.of(0x41, 0x03));
host(SUB.POLL, 0); reply(SUB.POLL, 0, params(), []);
host(SUB.POLL, POLL_DATA_LENGTH); reply(SUB.POLL, POLL_DATA_LENGTH, params(), encodePollReply());
host(SUB.SERIAL_NUMBER, 0); reply(SUB.SERIAL_NUMBER, 0, params(), []);
host(SUB.SERIAL_NUMBER, 0x0a); reply(SUB.SERIAL_NUMBER, 0x0a, params(), encodeSerialNumber({ serial: 'BE18189', unit_byte: 0x79, firmware_minor: 17 }));
host(SUB.STORAGE_RANGE, 0x24, tokenParams()); reply(SUB.STORAGE_RANGE, 0x24, tokenParams(), encodeStorageRange({ first: 0x01110000, last: 0x0111245a }));
host(SUB.MONITOR_STATUS, 0x2c);
reply(SUB.MONITOR_STATUS, 0x2c, params(), parseHex('00 00 08 04 07 EA 00 01 3B 2D 00 00 00 00 00 00 01 01 07 CB 00 06 00 00 01 01 07 CB 00 15 00 00 00 00 02 A8 00 0E FF F2 00 0E 9E 52'));

const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
let o = 0;
for (const p of parts) { out.set(p, o); o += p.length; }
mkdirSync(new URL('../samples/', import.meta.url), { recursive: true });
writeFileSync(new URL('../samples/session.bin', import.meta.url), out);
console.log(`samples/session.bin: ${out.length} bytes`);
