/** The transport-tcp plugin: reach units over TCP (cellular modems, serial-to-TCP bridges). */
import { TOKENS, type SfmPlugin } from '@sfm/core/kernel';
import { tcpTransportFactory } from './tcp-transport.js';

export const plugin: SfmPlugin = {
  name: 'transport-tcp',
  provides: [TOKENS.TransportFactory],
  register(ctx) {
    ctx.provide(TOKENS.TransportFactory, { value: tcpTransportFactory });
  },
};
