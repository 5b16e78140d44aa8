export { PLUGIN_CATALOG } from './catalog.js';
export { cliServices, bootFor } from './services.js';
export { serveCommand } from './serve.js';
export { VERSION } from './version.js';
export { simCommand } from './sim.js';
export { tapCommand, startTap, tapEnds, type RunningTap, type TapOptions, type TapEnd } from './tap.js';
