/**
 * SUB 2C → D3 call-home (auto call home) config, 124 logical bytes (protocol.md §17.1). On the
 * wire 125 bytes arrive when num_retries = 3 (sent as `10 03`); the field map here is in logical
 * bytes. The write (SUB 7E) carries the block as it came off the wire plus `00 00`.
 */
import { concatBytes, readAscii, writeAsciiField } from './bytes.js';
import { CALL_HOME, CALL_HOME_WRITE_TRAILER } from './conventions.js';
import { PayloadError, requireLength } from './errors.js';
import { escapeDeviceBytes } from './frames.js';
import type { CallHomeConfig } from '../model.js';

export const CALL_HOME_LENGTH = CALL_HOME.length;

export function decodeCallHome(content: Uint8Array): CallHomeConfig {
  requireLength(content, CALL_HOME_LENGTH, 'call-home block');
  const c = CALL_HOME;
  return {
    enabled: content[c.enabled] !== 0,
    dial_string: readAscii(content, c.dialString, c.dialStringWidth),
    after_event_recorded: content[c.afterEventRecorded] !== 0,
    at_specified_times: content[c.atSpecifiedTimes] !== 0,
    time1: { enabled: content[c.time1Enabled] !== 0, hour: content[c.time1Hour]!, minute: content[c.time1Minute]! },
    time2: { enabled: content[c.time2Enabled] !== 0, hour: content[c.time2Hour]!, minute: content[c.time2Minute]! },
    num_retries: content[c.numRetries]!,
    retry_interval_s: content[c.retryInterval]!,
    wait_for_connection_s: content[c.waitForConnection]!,
    warm_up_time_s: content[c.warmUpTime]!,
  };
}

/** Applies `cfg` over `base` (the block read from the unit; zeros when building afresh). */
export function encodeCallHome(cfg: CallHomeConfig, base: Uint8Array = new Uint8Array(CALL_HOME_LENGTH)): Uint8Array {
  const out = base.slice(0, CALL_HOME_LENGTH);
  const c = CALL_HOME;
  out[c.enabled] = cfg.enabled ? 1 : 0;
  writeAsciiField(out, c.dialString, c.dialStringWidth, cfg.dial_string, 'dial_string');
  out[c.afterEventRecorded] = cfg.after_event_recorded ? 1 : 0;
  out[c.atSpecifiedTimes] = cfg.at_specified_times ? 1 : 0;
  out[c.time1Enabled] = cfg.time1.enabled ? 1 : 0;
  out[c.time1Hour] = cfg.time1.hour;
  out[c.time1Minute] = cfg.time1.minute;
  out[c.time2Enabled] = cfg.time2.enabled ? 1 : 0;
  out[c.time2Hour] = cfg.time2.hour;
  out[c.time2Minute] = cfg.time2.minute;
  out[c.numRetries] = cfg.num_retries;
  out[c.retryInterval] = cfg.retry_interval_s;
  out[c.waitForConnection] = cfg.wait_for_connection_s;
  out[c.warmUpTime] = cfg.warm_up_time_s;
  return out;
}

/** The data of a 7E write: the block in its wire form (device escapes), then `00 00`. */
export function callHomeWriteData(logicalBlock: Uint8Array): Uint8Array {
  return concatBytes([escapeDeviceBytes(logicalBlock), Uint8Array.from(CALL_HOME_WRITE_TRAILER)]);
}
