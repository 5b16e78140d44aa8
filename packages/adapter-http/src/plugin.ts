/** The adapter-http plugin: registers startHttpServer as the kernel's HTTP front end. */
import { TOKENS, type SfmPlugin, type StartHttpServer } from '@sfm/core';
import { startHttpServer } from './server.js';

export const plugin: SfmPlugin = {
  name: 'adapter-http',
  provides: 'front-end',
  register(c) {
    c.register<StartHttpServer>(TOKENS.HttpServer, { useValue: startHttpServer });
  },
};
