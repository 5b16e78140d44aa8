export { runCli, EXIT, type CliDeps, type CliServices, type ServiceOptions } from './cli.js';
export { processIO, UsageError, type CliIO } from './io.js';
export { cmd } from './command.js';
export { parseHostPort } from './host-port.js';
export { targetFrom, withTargetOptions, type TargetArgs, type DeviceResolver } from './target.js';
