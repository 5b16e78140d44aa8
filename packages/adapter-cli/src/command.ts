/** Defines a command whose handler names the arguments it reads (yargs types them loosely). */
import type { Argv, CommandModule } from 'yargs';

export function cmd<A>(m: { command: string; describe: string; builder: (y: Argv) => Argv<any>; handler: (a: A) => Promise<void> }): CommandModule<any, any> {
  return m as unknown as CommandModule<any, any>;
}
