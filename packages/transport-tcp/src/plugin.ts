/** The transport-tcp plugin: reach units over TCP (cellular modems, serial-to-TCP bridges). */
import { TOKENS, type SfmPlugin } from '@sfm/core';
import { tcpTransportFactory } from './tcp-transport.js';

export const plugin: SfmPlugin = {
  name: 'transport-tcp',
  provides: 'transport',
  register(c) {
    c.register(TOKENS.TransportFactory, { useValue: tcpTransportFactory });
  },
};
