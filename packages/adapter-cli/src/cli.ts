/** The `sfm` command line: yargs over the commands, with injectable I/O. */
import yargs from 'yargs';
import { decodeCommand } from './commands/decode.js';
import { UsageError, processIO, type CliIO } from './io.js';

/** Runs the CLI on `argv`; resolves to the process exit code. */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  let exitCode = 0;
  const cli = yargs(argv)
    .scriptName('sfm')
    .usage('$0 <command> [options]')
    .command(decodeCommand(io))
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    })
    .wrap(Math.min(100, process.stdout.columns ?? 100));
  try {
    let helpText = '';
    await cli.parseAsync(argv, {}, (_err, _argv, output) => {
      helpText = output;
    });
    if (helpText) io.stdout(helpText + '\n');
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`sfm: ${e.message}\n`);
      exitCode = e.exitCode;
    } else {
      io.stderr(`sfm: ${(e as Error).message}\n`);
      exitCode = 1;
    }
  }
  return exitCode;
}
