/** One call to run an emulated unit: the unit, its TCP server and (optionally) the control API. */
import { DEFAULT_TCP_PORT } from '@sfm/core/transport';
import { startControlServer, type ControlOptions } from './control.js';
import { SimulatorServer, type BoundAddress, type SimulatorServerOptions } from './server.js';
import { SimulatedUnit, type SimulatedUnitOptions } from './unit.js';

/** What `sfm sim` uses unless told otherwise (the library defaults keep tests fast: no modem hold). */
export const SIM_CLI_DEFAULTS = {
  host: '127.0.0.1',
  port: DEFAULT_TCP_PORT,
  baud: 38400,
  forwardDelayMs: 1000,
  events: 5,
  serial: 'BE18189',
} as const;

export interface StartSimulatorOptions extends SimulatedUnitOptions, SimulatorServerOptions {
  /** Where to accept TCP connections (default 127.0.0.1, port 0 = any free port). */
  host?: string;
  port?: number;
  /** Serve the control HTTP API too: true (loopback, any free port) or where. */
  control?: boolean | ControlOptions;
  /** Serve an existing unit instead of creating one from the unit options. */
  unit?: SimulatedUnit;
}

export interface RunningSimulator {
  /** The unit behind the server now (a swap replaces it). */
  readonly unit: SimulatedUnit;
  server: SimulatorServer;
  address: BoundAddress;
  controlAddress: BoundAddress | null;
  close(): Promise<void>;
}

export async function startSimulator(options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const unit = options.unit ?? new SimulatedUnit(options);
  const server = new SimulatorServer(unit, options);
  const address = await server.listen({ host: options.host, port: options.port });
  let control: Awaited<ReturnType<typeof startControlServer>> | null = null;
  if (options.control) {
    try {
      control = await startControlServer(server, options.control === true ? {} : options.control);
    } catch (e) {
      await server.close();
      throw e;
    }
  }
  return {
    get unit() {
      return server.unit;
    },
    server,
    address,
    controlAddress: control?.address ?? null,
    close: async () => {
      await Promise.all([server.close(), control?.close()]);
    },
  };
}
