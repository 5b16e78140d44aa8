/** @sfm/transport-tcp — reaches a unit over TCP (cellular modem, serial-to-TCP bridge). */
export * from './tcp-transport.js';
export * from './plugin.js';
