/** @sfm/adapter-cli — the `sfm` command line over DeviceAccess (the caching relay, or the unit directly). */
export { runCli, EXIT, EXIT_CODE, type CliDeps, type CliServices, type ServiceOptions, type ServiceRequest } from './cli.js';
export { processIO, UsageError, type CliIO } from './io.js';
export { cmd } from './command.js';
export { parseHostPort } from './host-port.js';
export { integerOption, numberOption } from './flags.js';
export { Progress, type ProgressOptions } from './progress.js';
export { targetFrom, withTargetOptions, type TargetArgs, type DeviceResolver } from './target.js';
export { checkOutputPath, writeWhole } from './output-file.js';
