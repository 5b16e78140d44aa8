#!/usr/bin/env node
// tsyringe needs the Reflect metadata API: loaded once, first, for the whole process.
import 'reflect-metadata';
import { processIO, runCli } from '@sfm/adapter-cli';
import { serveCommand } from './serve.js';
import { cliServices } from './services.js';
import { simCommand } from './sim.js';
import { tapCommand } from './tap.js';
import { VERSION } from './version.js';

process.exitCode = await runCli(process.argv.slice(2), processIO, {
  version: VERSION,
  services: cliServices,
  extraCommands: (io) => [simCommand(io), serveCommand(io), tapCommand(io)],
});
