/**
 * Codec throughput on a long device stream: what a unit sends during waveform downloads (A5
 * chunk frames with real encoded bodies), with the other replies and line noise mixed in.
 * Reports MB/s for frame parsing alone and for parsing + decoding the waveform bodies, at
 * several stream sizes, and how time per MB changes with size (1.0 = perfectly linear).
 */
import { DeviceFrameParser, buildDeviceFrame, concatBytes, decodeWaveformBody, echoHeader, encodeMonitorStatus, encodeWaveformBody, params, responseSubFor, SUB, type DeviceFrame } from '@sfm/core/protocol';
import { bestOf, report } from './report.js';

const CHUNK = 512;
const TARGET_MBPS = 20;

function blastChannel(n: number, seed: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = i / 1024;
    const env = Math.exp(-t * 3);
    const v = env * (900 * Math.sin(2 * Math.PI * (12 + seed) * t) + 300 * Math.sin(2 * Math.PI * (47 + seed) * t)) + 6 * Math.sin(i * 0.7 + seed);
    out.push(Math.round(v));
  }
  return out;
}

/** One 10-s event's body, cut into A5 chunk frames. */
function eventFrames(): { frames: Uint8Array[]; body: Uint8Array } {
  const n = 10 * 1024;
  const body = encodeWaveformBody({ Tran: blastChannel(n, 0), Vert: blastChannel(n, 3), Long: blastChannel(n, 7), MicL: blastChannel(n, 11) });
  const frames: Uint8Array[] = [];
  for (let o = 0, k = 1; o < body.length; o += CHUNK, k++) {
    const p = params({ 1: 0x01, 2: 0x11, 3: (k * 2) & 0xff });
    const data = new Uint8Array(11 + Math.min(CHUNK, body.length - o));
    data.set(echoHeader(0x04, p), 0);
    data.set(body.subarray(o, o + CHUNK), 11);
    frames.push(buildDeviceFrame(responseSubFor(SUB.BULK_WAVEFORM), data, { page: 0x1004, leadingAck: true }));
  }
  return { frames, body };
}

function stream(targetBytes: number, frames: Uint8Array[]): Uint8Array {
  const status = buildDeviceFrame(responseSubFor(SUB.MONITOR_STATUS), new Uint8Array([...echoHeader(0x2c, params()), ...encodeMonitorStatus({ is_monitoring: true, battery_v: 6.8, memory_total: 983026, memory_free: 500000, clock: '2026-04-08T01:59:45' })]));
  const noise = new TextEncoder().encode('\r\nRING\r\n\r\nCONNECT\r\n');
  const parts: Uint8Array[] = [];
  let n = 0;
  while (n < targetBytes) {
    for (const p of [noise, status, ...frames]) {
      parts.push(p);
      n += p.length;
    }
  }
  return concatBytes(parts);
}

function parseAll(bytes: Uint8Array, decodeBodies: boolean): number {
  const parser = new DeviceFrameParser();
  let frames = 0;
  let pending: Uint8Array[] = [];
  let pendingLen = 0;
  const finishEvent = (): void => {
    if (!decodeBodies || pendingLen === 0) return;
    decodeWaveformBody(concatBytes(pending));
    pending = [];
    pendingLen = 0;
  };
  for (let o = 0; o < bytes.length; o += 65536) {
    for (const item of parser.push(bytes.subarray(o, o + 65536))) {
      if (item.kind !== 'frame') continue;
      frames++;
      const f = item.frame as DeviceFrame;
      if (f.sub === 0xa5) {
        const c = f.data.subarray(11);
        pending.push(c);
        pendingLen += c.length;
      } else finishEvent();
    }
  }
  finishEvent();
  return frames;
}

export function runCodecBench(): { ok: boolean } {
  const { frames } = eventFrames();
  const sizes = [1, 4, 16, 64].map((mb) => mb * 1024 * 1024);
  const rows: { size: number; parseMBps: number; decodeMBps: number; frames: number }[] = [];
  for (const size of sizes) {
    const s = stream(size, frames);
    let count = 0;
    const tParse = bestOf(() => void (count = parseAll(s, false)), size > 16e6 ? 1 : 1500, size > 16e6 ? 2 : 3);
    const tDecode = bestOf(() => void parseAll(s, true), size > 16e6 ? 1 : 1500, size > 16e6 ? 2 : 3);
    rows.push({ size: s.length, parseMBps: s.length / 1e6 / tParse, decodeMBps: s.length / 1e6 / tDecode, frames: count });
  }
  const perMB = rows.map((r) => 1 / r.parseMBps);
  const linearity = perMB[perMB.length - 1]! / perMB[0]!;
  const minParse = Math.min(...rows.map((r) => r.parseMBps));
  const ok = minParse >= TARGET_MBPS && linearity < 1.5;
  report(
    {
      group: 'codec',
      target_mbps: TARGET_MBPS,
      rows: rows.map((r) => ({ bytes: r.size, frames: r.frames, parse_mbps: +r.parseMBps.toFixed(1), parse_and_decode_mbps: +r.decodeMBps.toFixed(1) })),
      time_per_mb_ratio_largest_to_smallest: +linearity.toFixed(2),
      ok,
    },
    [
      ['stream', 'frames', 'parse MB/s', 'parse+decode MB/s'],
      ...rows.map((r) => [`${(r.size / 1048576).toFixed(0)} MiB`, String(r.frames), r.parseMBps.toFixed(1), r.decodeMBps.toFixed(1)]),
      ['time/MB, largest ÷ smallest', '', linearity.toFixed(2), ''],
      [`target ≥ ${TARGET_MBPS} MB/s, linear`, '', ok ? 'met' : 'NOT MET', ''],
    ],
  );
  return { ok };
}
