/**
 * `sfm decode [--hex "10 02 …"] [FILE]`: one JSON line per frame and per run of noise, in the shape
 * of the contract. FILE is a capture (`sfm tap`, `--capture`; docs/capture-format.md) or a raw
 * byte dump, told apart by the capture's magic; lines from a capture carry the frame's `time`
 * (seconds since the capture started) and the capture's header and sessions get lines of their
 * own. `--check` judges sfm's conventions against the unit's frames instead (a report for a person,
 * `--json` for scripts). The input is streamed, so its size does not matter.
 *
 * Exit status: 0; 2 when the input ends inside a frame or a capture is cut or damaged (after
 * printing what could be read); with --check, 1 when the unit contradicted a convention.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Argv } from 'yargs';
import {
  ConventionChecker, FrameParser, HexParseError, describeFrame, parseHex, toHex, type ConventionReport, type ObservedItem, type ParsedItem, type ParserDirection,
} from '@sfm/core/protocol';
import { CAPTURE_PREAMBLE_LENGTH, CaptureFormatError, CaptureReader, CaptureTimeline, isCapture, type CaptureHeader, type TimelineEntry } from '@sfm/core/capture';
import { UsageError, type CliIO } from '../io.js';

export interface DecodeArgs {
  hex?: string;
  file?: string;
  direction: 'auto' | 'device' | 'host';
  check?: boolean;
  json?: boolean;
}

const DIRECTIONS: Record<DecodeArgs['direction'], ParserDirection> = { auto: 'auto', device: 'device-to-host', host: 'host-to-device' };

/** With --check: the unit contradicted a convention (exit status 1). */
export class ConventionsContradicted extends Error {
  override name = 'ConventionsContradicted';
}

export function decodeCommand(io: CliIO) {
  return {
    command: 'decode [file]',
    describe: 'decode a capture or a raw byte dump into one JSON line per frame; --check judges sfm\'s conventions against it',
    builder: (y: Argv) =>
      y
        .positional('file', { type: 'string', describe: 'a capture (sfm tap, --capture) or raw bytes' })
        .option('hex', { type: 'string', describe: 'bytes as hex, e.g. "10 02 00 10 10 EA …"' })
        .option('direction', { choices: ['auto', 'device', 'host'] as const, default: 'auto' as const, describe: 'which side sent the bytes of a raw dump (a capture says)' })
        .option('check', { type: 'boolean', describe: 'for every [sfm] convention the frames exercise, say whether the unit agreed (exit 1 when it did not)' })
        .option('json', { type: 'boolean', describe: 'with --check: the report as one JSON document' })
        .example('$0 decode --hex "10 02 00 10 10 EA 00 00 0A …"', 'decode a device reply')
        .example('$0 decode --check session.sfmcap', 'compare a real unit with sfm\'s conventions'),
    handler: (args: DecodeArgs) => runDecode(args, io),
  };
}

/** Where decoded items go: JSON lines, or the convention checker. */
type Entry = Exclude<TimelineEntry, { kind: 'capture' }>;

interface Output {
  header(h: CaptureHeader): void;
  entry(e: Entry): void;
  raw(item: ParsedItem): void;
  cut(error: { reason: string; message: string; offset: number }): void;
}

export async function runDecode(args: DecodeArgs, io: CliIO): Promise<void> {
  if (args.hex !== undefined && args.file !== undefined) throw new UsageError('give either --hex or a FILE, not both');
  if (args.hex === undefined && args.file === undefined) throw new UsageError('nothing to decode: give --hex "…" or a capture FILE');
  if (args.json && !args.check) throw new UsageError('--json goes with --check (decode prints JSON lines already)');
  const chunks = await source(args);

  const problems: string[] = [];
  const checker = args.check ? new ConventionChecker() : null;
  let header: CaptureHeader | null = null;
  let frames = 0;
  let sessions = 0;
  const noteTruncated = (item: ParsedItem, where: string): void => {
    if (item.kind === 'error' && item.reason === 'truncated') problems.push(`${where} ends inside a frame (${item.message})`);
  };
  const out: Output = checker
    ? {
        header: (h) => void (header = h),
        entry: (e) => {
          if (e.kind === 'session-start') sessions++;
          if (e.kind !== 'item') return;
          if (e.item.kind === 'frame') frames++;
          checker.push({ item: e.item, direction: e.direction, session: e.session });
        },
        raw: (item) => {
          if (item.kind === 'frame') frames++;
          checker.push({ item, direction: null, session: 0 } satisfies ObservedItem);
        },
        cut: () => undefined,
      }
    : {
        header: (h) => line({ capture: h }),
        entry: (e) => line(entryJson(e)),
        raw: (item) => line(itemJson(item)),
        cut: (error) => line({ error }),
      };
  function line(value: unknown): void {
    io.stdout(JSON.stringify(value) + '\n');
  }

  const first = await chunks.peek(CAPTURE_PREAMBLE_LENGTH);
  if (isCapture(first)) {
    if (args.direction !== 'auto') throw new UsageError('--direction is for raw dumps: a capture says which side sent what');
    const reader = new CaptureReader();
    const timeline = new CaptureTimeline();
    const take = (entries: TimelineEntry[]): void => {
      for (const e of entries) {
        if (e.kind === 'capture') {
          out.header(e.header);
          continue;
        }
        if (e.kind === 'item') noteTruncated(e.item, `session ${e.session} (${e.direction})`);
        out.entry(e);
      }
    };
    try {
      for await (const chunk of chunks) for (const r of reader.push(chunk)) take(timeline.push(r));
    } catch (e) {
      if (e instanceof CaptureFormatError) throw new UsageError(`${args.file ?? '--hex'}: ${e.message}`);
      throw e;
    }
    take(timeline.end());
    const cut = reader.end();
    if (cut) {
      out.cut({ reason: cut.reason, message: cut.message, offset: cut.offset });
      problems.push(cut.message);
    }
  } else {
    const parser = new FrameParser(DIRECTIONS[args.direction]);
    const take = (items: ParsedItem[]): void => {
      for (const item of items) {
        noteTruncated(item, 'the input');
        out.raw(item);
      }
    };
    for await (const chunk of chunks) take(parser.push(chunk));
    take(parser.end());
  }

  if (checker) {
    const report = checker.report();
    const input = { source: args.file ?? '--hex', kind: header ? 'capture' : 'raw', capture: header, sessions, frames };
    if (args.json) line({ input, conventions: report, summary: summary(report), problems });
    else io.stdout(formatReport(input, report));
    if (problems.length === 0 && report.some((r) => r.verdict === 'contradicted')) {
      const n = report.filter((r) => r.verdict === 'contradicted').length;
      throw new ConventionsContradicted(`the unit contradicted ${n} convention${n > 1 ? 's' : ''} (see above)`);
    }
  }
  if (problems.length) throw new UsageError(`${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}; printed what could be read`);
}

// --- input -----------------------------------------------------------------------------------------

/** The input's chunks, with a look at its first bytes before they are read. */
interface Chunks extends AsyncIterable<Uint8Array> {
  peek(n: number): Promise<Uint8Array>;
}

async function source(args: DecodeArgs): Promise<Chunks> {
  let iterator: AsyncIterator<Uint8Array>;
  if (args.hex !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = parseHex(args.hex);
    } catch (e) {
      if (e instanceof HexParseError) throw new UsageError(`--hex: ${e.message}`);
      throw e;
    }
    iterator = (async function* () {
      yield bytes;
    })();
  } else {
    const file = args.file!;
    try {
      await access(file);
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const stream = createReadStream(file)[Symbol.asyncIterator]();
    iterator = {
      next: async () => {
        try {
          const r = await stream.next();
          return r.done ? r : { done: false, value: new Uint8Array(r.value as Buffer) };
        } catch (e) {
          throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      },
    };
  }
  const head: Uint8Array[] = [];
  let ended = false;
  return {
    async peek(n) {
      while (!ended && head.reduce((s, c) => s + c.length, 0) < n) {
        const r = await iterator.next();
        if (r.done) ended = true;
        else head.push(r.value);
      }
      return Uint8Array.from(head.flatMap((c) => [...c.subarray(0, n)])).subarray(0, n);
    },
    async *[Symbol.asyncIterator]() {
      while (head.length) yield head.shift()!;
      if (ended) return;
      for (;;) {
        const r = await iterator.next();
        if (r.done) return;
        yield r.value;
      }
    },
  };
}

// --- JSON lines --------------------------------------------------------------------------------------

const seconds = (t: number): number => Math.round(t * 1e6) / 1e6;

function itemJson(item: ParsedItem): Record<string, unknown> {
  switch (item.kind) {
    case 'frame':
      return { ...describeFrame(item.frame) };
    case 'noise':
      return { noise_hex: toHex(item.bytes) };
    case 'session-reset':
      return { noise_hex: '41 03', session_reset: true };
    case 'error':
      return { error: { reason: item.reason, message: item.message, byte_count: item.byteCount } };
  }
}

function entryJson(e: Entry): Record<string, unknown> {
  const time = seconds(e.timeS);
  switch (e.kind) {
    case 'item':
      return { ...itemJson(e.item), ...(e.item.kind === 'frame' ? {} : { direction: e.direction }), time };
    case 'session-start':
      return { session: e.session, time };
    case 'session-end':
      return { session_end: e.end, time };
    case 'note':
      return { note: e.note, time };
    case 'capture-end':
      return { capture_end: e.end, time };
  }
}

// --- the --check report --------------------------------------------------------------------------------

function summary(report: ConventionReport[]) {
  const count = (v: ConventionReport['verdict']) => report.filter((r) => r.verdict === v).length;
  return { conventions: report.length, exercised: report.length - count('not-exercised'), agrees: count('agrees'), contradicted: count('contradicted') };
}

function formatReport(input: { source: string; kind: string; capture: CaptureHeader | null; sessions: number; frames: number }, report: ConventionReport[]): string {
  const lines: string[] = [];
  const what = input.capture
    ? `a capture by ${input.capture.recorder}, started ${input.capture.started_at}, ${input.sessions} session${input.sessions === 1 ? '' : 's'}`
    : 'a raw byte dump';
  lines.push(`${input.source}: ${what}, ${input.frames} frame${input.frames === 1 ? '' : 's'}`, '');
  const width = Math.max(...report.map((r) => r.title.length));
  for (const r of report) {
    if (r.verdict === 'not-exercised') continue;
    const mark = r.verdict === 'agrees' ? 'agrees      ' : 'CONTRADICTED';
    lines.push(`${mark}  ${r.title.padEnd(width)}  ${r.frames} frame${r.frames === 1 ? '' : 's'}`);
    if (r.verdict === 'contradicted') {
      for (const f of r.found) lines.push(`    the unit: ${f}`);
      lines.push(`    sfm:      ${r.sfm}`, `    change:   ${r.change}`);
    }
  }
  const idle = report.filter((r) => r.verdict === 'not-exercised');
  if (idle.length) lines.push('', `not exercised: ${idle.map((r) => r.title).join('; ')}`);
  const s = summary(report);
  lines.push('', `${s.exercised} of ${s.conventions} conventions exercised: ${s.agrees} agree${s.agrees === 1 ? 's' : ''}, ${s.contradicted} contradicted`);
  return lines.join('\n') + '\n';
}
