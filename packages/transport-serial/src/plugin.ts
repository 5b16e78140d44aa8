/** The transport-serial plugin: reach units over RS-232 (38400 8N1, exclusive lock). */
import { TOKENS, type SfmPlugin } from '@sfm/core/kernel';
import { serialTransportFactory } from './serial-transport.js';

export const plugin: SfmPlugin = {
  name: 'transport-serial',
  provides: [TOKENS.TransportFactory],
  register(ctx) {
    ctx.provide(TOKENS.TransportFactory, { value: serialTransportFactory });
  },
};
