#!/usr/bin/env node
import { DirectDeviceAccess, TransportRegistry } from '@sfm/core';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { serialTransportFactory } from '@sfm/transport-serial';
import { runCli } from './cli.js';
import { simCommand } from './commands/sim.js';
import { processIO } from './io.js';

const transports = new TransportRegistry().register(tcpTransportFactory).register(serialTransportFactory);

process.exitCode = await runCli(process.argv.slice(2), processIO, {
  access: () => new DirectDeviceAccess(transports),
  extraCommands: (io) => [simCommand(io)],
});
