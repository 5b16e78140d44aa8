/** @sfm/transport-serial — reaches a unit over RS-232 through node-serialport. */
export * from './serial-transport.js';
export * from './pty-pair.js';
export * from './plugin.js';
