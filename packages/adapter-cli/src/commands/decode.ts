/**
 * `sfm decode [--hex "10 02 …"] [FILE]`: one JSON line per frame and per run of noise, in the
 * shape of the contract. A capture file is streamed, so its size does not matter.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { FrameParser, HexParseError, describeFrame, parseHex, toHex, type ParsedItem, type ParserDirection } from '@sfm/core/protocol';
import { UsageError, type CliIO } from '../io.js';

export interface DecodeArgs {
  hex?: string;
  file?: string;
  direction: 'auto' | 'device' | 'host';
}

const DIRECTIONS: Record<DecodeArgs['direction'], ParserDirection> = { auto: 'auto', device: 'device-to-host', host: 'host-to-device' };

export function decodeCommand(io: CliIO) {
  return {
    command: 'decode [file]',
    describe: 'decode a capture (hex or a raw file) into one JSON line per frame',
    builder: (y: Argv) =>
      y
        .positional('file', { type: 'string', describe: 'raw capture bytes' })
        .option('hex', { type: 'string', describe: 'bytes as hex, e.g. "10 02 00 10 10 EA …"' })
        .option('direction', { choices: ['auto', 'device', 'host'] as const, default: 'auto' as const, describe: 'which side sent the bytes' })
        .example('$0 decode --hex "10 02 00 10 10 EA 00 00 0A …"', 'decode a device reply'),
    handler: (args: DecodeArgs) => runDecode(args, io),
  };
}

export async function runDecode(args: DecodeArgs, io: CliIO): Promise<void> {
  if (args.hex !== undefined && args.file !== undefined) throw new UsageError('give either --hex or a FILE, not both');
  if (args.hex === undefined && args.file === undefined) throw new UsageError('nothing to decode: give --hex "…" or a capture FILE');
  const parser = new FrameParser(DIRECTIONS[args.direction]);
  const emit = (items: ParsedItem[]): void => {
    for (const item of items) io.stdout(JSON.stringify(itemJson(item)) + '\n');
  };
  if (args.hex !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = parseHex(args.hex);
    } catch (e) {
      if (e instanceof HexParseError) throw new UsageError(`--hex: ${e.message}`);
      throw e;
    }
    emit(parser.push(bytes));
  } else {
    const file = args.file!;
    try {
      await access(file);
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      for await (const chunk of createReadStream(file)) emit(parser.push(chunk as Buffer));
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  emit(parser.end());
}

function itemJson(item: ParsedItem): unknown {
  switch (item.kind) {
    case 'frame':
      return describeFrame(item.frame);
    case 'noise':
      return { noise_hex: toHex(item.bytes) };
    case 'session-reset':
      return { noise_hex: '41 03', session_reset: true };
    case 'error':
      return { error: { reason: item.reason, message: item.message, byte_count: item.byteCount } };
  }
}
