#!/usr/bin/env node
import { RelayService, TransportRegistry, type Store } from '@sfm/core';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { serialTransportFactory } from '@sfm/transport-serial';
import { SqliteStore } from '@sfm/store-sqlite';
import { MemoryStore } from '@sfm/store-memory';
import { runCli } from './cli.js';
import { simCommand } from './commands/sim.js';
import { processIO } from './io.js';
import { parseStoreSpec } from './store-spec.js';

const transports = new TransportRegistry().register(tcpTransportFactory).register(serialTransportFactory);

process.exitCode = await runCli(process.argv.slice(2), processIO, {
  services: ({ store }) => {
    const spec = parseStoreSpec(store);
    const s: Store = spec.kind === 'memory' ? new MemoryStore() : new SqliteStore(spec.path);
    const relay = new RelayService(transports, s);
    return { access: relay, relay, close: () => s.close() };
  },
  extraCommands: (io) => [simCommand(io)],
});
