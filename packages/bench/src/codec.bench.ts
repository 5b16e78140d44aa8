/**
 * Codec throughput on a long device stream: what a unit sends during waveform downloads (A5
 * chunk frames with real encoded bodies), with the other replies and line noise mixed in.
 * Reports MB/s for frame parsing alone and for parsing + decoding the waveform bodies, at
 * several stream sizes, and how time per MB changes with size (1.0 = perfectly linear).
 * The sizes are timed in rounds (CODEC_RUNS, default 7, at least 5; after a warm-up pass): each
 * round times every size once (small streams are repeated for at least 200 ms and averaged), so
 * machine noise falls on every size alike. Judged on the medians: parse ≥ 20 MB/s at every size,
 * and time per MB at 64 MiB ÷ at 1 MiB < 1.5, for parsing alone and for parsing + decoding.
 */
import { DeviceFrameParser, buildDeviceFrame, concatBytes, decodeWaveformBody, echoHeader, encodeMonitorStatus, encodeWaveformBody, params, responseSubFor, SUB, type DeviceFrame } from '@sfm/core/protocol';
import { report } from './report.js';
import { fmtSpread, spread } from './compare.js';

const CHUNK = 512;
const TARGET_MBPS = 20;
const MAX_LINEARITY = 1.5;
const RUNS = Math.max(5, Math.floor(Number(process.env.CODEC_RUNS ?? '7')) || 7);
/** A round's sample of a small stream is at least this long (repeated runs, averaged). */
const MIN_SAMPLE_MS = 200;

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
        // Parsing alone keeps nothing (holding every chunk would make the run's memory, and its GC, grow with the stream).
        if (!decodeBodies) continue;
        const c = f.data.subarray(11);
        pending.push(c);
        pendingLen += c.length;
      } else finishEvent();
    }
  }
  finishEvent();
  return frames;
}

/** Seconds per run of `fn`: one run, or the average of as many as fill MIN_SAMPLE_MS. */
function sample(fn: () => void): { s: number; runs: number } {
  let runs = 0;
  const t0 = performance.now();
  do {
    fn();
    runs++;
  } while (performance.now() - t0 < MIN_SAMPLE_MS);
  return { s: (performance.now() - t0) / 1000 / runs, runs };
}

export function runCodecBench(): { ok: boolean } {
  const { frames } = eventFrames();
  const streams = [1, 4, 16, 64].map((mb) => stream(mb * 1024 * 1024, frames));
  const counts = streams.map((s) => parseAll(s, false));
  for (const s of streams) parseAll(s, true); // warm-up
  const t = streams.map(() => ({ parse: [] as number[], decode: [] as number[], runs: 0 }));
  for (let r = 0; r < RUNS; r++) {
    streams.forEach((s, i) => {
      const p = sample(() => void parseAll(s, false));
      const d = sample(() => void parseAll(s, true));
      t[i]!.parse.push(p.s);
      t[i]!.decode.push(d.s);
      t[i]!.runs += p.runs;
    });
  }
  const mbps = (size: number, ts: number[]) => spread(ts.map((x) => size / 1e6 / x));
  const rows = streams.map((s, i) => ({ size: s.length, frames: counts[i]!, runs: t[i]!.runs, parse: mbps(s.length, t[i]!.parse), decode: mbps(s.length, t[i]!.decode), parseS: spread(t[i]!.parse), decodeS: spread(t[i]!.decode) }));
  // Time per MB from the median run at each size.
  const perMB = (r: (typeof rows)[number], k: 'parseS' | 'decodeS') => r[k].median! / (r.size / 1e6);
  const linearity = (k: 'parseS' | 'decodeS') => perMB(rows.at(-1)!, k) / perMB(rows[0]!, k);
  const linParse = linearity('parseS');
  const linDecode = linearity('decodeS');
  const minParse = Math.min(...rows.map((r) => r.parse.median!));
  const checks = {
    parse_median_min_mbps: minParse >= TARGET_MBPS,
    parse_linear: linParse < MAX_LINEARITY,
    parse_and_decode_linear: linDecode < MAX_LINEARITY,
  };
  const ok = Object.values(checks).every(Boolean);
  report(
    {
      group: 'codec',
      target_mbps: TARGET_MBPS,
      max_linearity: MAX_LINEARITY,
      rounds: RUNS,
      min_sample_ms: MIN_SAMPLE_MS,
      rows: rows.map((r) => ({ bytes: r.size, frames: r.frames, rounds: r.parseS.values.length, parse_runs: r.runs, parse_mbps: r.parse, parse_and_decode_mbps: r.decode })),
      time_per_mb_ratio_largest_to_smallest: { parse: +linParse.toFixed(2), parse_and_decode: +linDecode.toFixed(2), from: 'median runs' },
      checks,
      ok,
    },
    [
      ['stream', 'frames', 'rounds (parse runs)', 'parse MB/s median (min–max)', 'parse+decode MB/s median (min–max)'],
      ...rows.map((r) => [`${(r.size / 1048576).toFixed(0)} MiB`, String(r.frames), `${r.parseS.values.length} (${r.runs})`, fmtSpread(r.parse), fmtSpread(r.decode)]),
      ['time/MB, largest ÷ smallest (medians)', '', '', linParse.toFixed(2), linDecode.toFixed(2)],
      [`target ≥ ${TARGET_MBPS} MB/s (median), ratio < ${MAX_LINEARITY}`, '', '', checks.parse_median_min_mbps && checks.parse_linear ? 'met' : 'NOT MET', checks.parse_and_decode_linear ? 'met' : 'NOT MET'],
    ],
  );
  return { ok };
}
