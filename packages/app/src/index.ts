export { PLUGIN_CATALOG } from './catalog.js';
export { cliServices, bootFor } from './services.js';
export { serveCommand, VERSION } from './serve.js';
export { simCommand } from './sim.js';
