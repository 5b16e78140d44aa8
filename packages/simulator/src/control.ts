/**
 * The simulator's control API (`--control`), JSON over node:http:
 *
 *   GET  /stats            counters (SimulatorStats)
 *   POST /stats/reset      zero the counters
 *   GET  /events           { serial, count, events } — the stored records' summaries
 *   POST /events           body {count?} (default 1): record that many events now → { events }
 *   POST /erase            erase all records → { erased }
 *   GET  /faults           the pending faults
 *   POST /fault            body {kind: 'drop', after_bytes} | {kind: 'corrupt'} | {kind: 'stall', ms}
 *                          | {kind: 'garble', bytes} | {kind: 'reboot'} | {kind: 'modem-text'} | {kind: 'clear'}
 *   GET  /unit             identity, monitoring, battery, memory, storage range, lifetime counter
 *   POST /swap             body {serial, events?, seed?}: another unit takes this one's place
 *   POST /offline          body {mode: 'refuse' | 'silent' | null}: the unit unreachable, or back
 *   POST /call-home        body {to?: "HOST:PORT"}: the unit calls home now (default: where it calls
 *                          after each new record) → 202 { calling }
 *
 * Errors: { error: { code, message } } — 400 INVALID_REQUEST, 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED,
 * 409 MEMORY_FULL, 413 PAYLOAD_TOO_LARGE (bodies are limited to 64 KiB).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SfmError, type ErrorCode } from '@sfm/core';
import { storageRangeView } from '@sfm/core/protocol';
import type { FaultSpec } from './faults.js';
import type { BoundAddress, SimulatorServer } from './server.js';
import { SimulatedUnit, UnitMemoryFull } from './unit.js';

export const CONTROL_BODY_LIMIT = 64 * 1024;
/** Most events one POST /events may record. */
export const MAX_EVENTS_PER_REQUEST = 1000;

export interface ControlOptions {
  host?: string;
  port?: number;
}

export interface ControlServer {
  readonly address: BoundAddress;
  readonly server: Server;
  close(): Promise<void>;
}

/** The control API's statuses, by error code. */
const STATUS: Partial<Record<ErrorCode, number>> = { INVALID_REQUEST: 400, NOT_FOUND: 404, METHOD_NOT_ALLOWED: 405, MEMORY_FULL: 409, PAYLOAD_TOO_LARGE: 413 };

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > CONTROL_BODY_LIMIT) {
        failed = true;
        reject(new SfmError('PAYLOAD_TOO_LARGE', `body larger than ${CONTROL_BODY_LIMIT} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new SfmError('INVALID_REQUEST', 'body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new SfmError('INVALID_REQUEST', 'body must be a JSON object');
  return body as Record<string, unknown>;
}

function bad(message: string): SfmError {
  return new SfmError('INVALID_REQUEST', message);
}

/** Checks a POST /fault body; throws a 400 naming the field and why. */
export function parseFaultSpec(body: unknown): FaultSpec {
  const b = asObject(body);
  const intField = (name: string, min: number, max: number): number => {
    const v = b[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`${name}: must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v;
  };
  switch (b.kind) {
    case 'drop':
      return { kind: 'drop', after_bytes: intField('after_bytes', 0, 2 ** 31) };
    case 'garble':
      return { kind: 'garble', bytes: intField('bytes', 1, 65536) };
    case 'stall': {
      const ms = b.ms;
      if (ms === 'forever') return { kind: 'stall', ms };
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 86_400_000) {
        throw bad(`ms: must be a number of milliseconds from 0 to 86400000, or "forever", got ${JSON.stringify(ms)}`);
      }
      return { kind: 'stall', ms };
    }
    case 'corrupt':
    case 'reboot':
    case 'modem-text':
    case 'clear':
      return { kind: b.kind };
    default:
      throw bad(`kind: must be one of drop, corrupt, stall, garble, reboot, modem-text, clear; got ${JSON.stringify(b.kind)}`);
  }
}

/** A "HOST:PORT" (IPv6 in brackets) of a body, or a 400 naming `to`. */
function parseAddress(v: unknown): BoundAddress {
  const m = typeof v === 'string' ? /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v) : null;
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw bad(`to: must be "HOST:PORT" with a port from 1 to 65535, got ${JSON.stringify(v)}`);
  return { host: m[1] ?? m[2]!, port };
}

type Handler = (req: IncomingMessage) => Promise<[number, unknown]>;

export async function startControlServer(sim: SimulatorServer, opts: ControlOptions = {}): Promise<ControlServer> {
  // The unit is looked up per request: a swap replaces it.
  const routes: Record<string, Partial<Record<'GET' | 'POST', Handler>>> = {
    '/stats': { GET: async () => [200, sim.stats] },
    '/stats/reset': {
      POST: async (req) => {
        asObject(await readBody(req));
        sim.resetStats();
        return [200, sim.stats];
      },
    },
    '/events': {
      GET: async () => [200, { serial: sim.unit.serial, count: sim.unit.events.length, events: sim.unit.events }],
      POST: async (req) => {
        const b = asObject(await readBody(req));
        const count = b.count ?? 1;
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_EVENTS_PER_REQUEST) {
          throw bad(`count: must be an integer from 1 to ${MAX_EVENTS_PER_REQUEST}, got ${JSON.stringify(count)}`);
        }
        const events = [];
        for (let i = 0; i < count; i++) {
          try {
            events.push(sim.unit.recordEvent());
          } catch (e) {
            if (e instanceof UnitMemoryFull) throw new SfmError('MEMORY_FULL', `${e.message} (${events.length} of ${count} recorded)`);
            throw e;
          }
        }
        return [201, { events }];
      },
    },
    '/erase': {
      POST: async (req) => {
        asObject(await readBody(req));
        const erased = sim.unit.events.length;
        sim.unit.erase();
        return [200, { erased }];
      },
    },
    '/faults': { GET: async () => [200, sim.faults.state] },
    '/fault': {
      POST: async (req) => {
        const spec = parseFaultSpec(await readBody(req));
        return [200, { applied: spec.kind, faults: sim.injectFault(spec) }];
      },
    },
    '/swap': {
      POST: async (req) => {
        const b = asObject(await readBody(req));
        if (typeof b.serial !== 'string') throw bad(`serial: must be a serial number such as "BE20001", got ${JSON.stringify(b.serial)}`);
        for (const k of ['events', 'seed'] as const) {
          if (b[k] !== undefined && (typeof b[k] !== 'number' || !Number.isInteger(b[k]) || (b[k] as number) < 0)) throw bad(`${k}: must be a whole number ≥ 0, got ${JSON.stringify(b[k])}`);
        }
        let next: SimulatedUnit;
        try {
          const was = sim.unit;
          next = new SimulatedUnit({
            serial: b.serial, events: (b.events as number | undefined) ?? 3, seed: (b.seed as number | undefined) ?? 7,
            now: was.now, monitorSettleMs: was.monitorSettleMs,
            recordTimeS: was.compliance.record_time_s ?? undefined, sampleRate: was.compliance.sample_rate ?? undefined,
          });
        } catch (e) {
          throw bad(`serial: ${(e as Error).message}`);
        }
        sim.replaceUnit(next);
        return [200, { serial: next.serial, count: next.events.length }];
      },
    },
    '/offline': {
      POST: async (req) => {
        const b = asObject(await readBody(req));
        if (b.mode !== 'refuse' && b.mode !== 'silent' && b.mode !== null) throw bad(`mode: must be "refuse", "silent" or null, got ${JSON.stringify(b.mode)}`);
        await sim.setOffline(b.mode);
        return [200, { offline: sim.offline }];
      },
    },
    '/call-home': {
      POST: async (req) => {
        const b = asObject(await readBody(req));
        const to = b.to === undefined ? sim.callHomeTo : parseAddress(b.to);
        if (!to) throw bad('to: give "HOST:PORT" (the unit was started without a call-home address)');
        if (b.to === undefined) sim.requestCall();
        else void sim.callHome(to);
        return [202, { calling: `${to.host}:${to.port}` }];
      },
    },
    '/unit': {
      GET: async () => [
        200,
        {
          serial: sim.unit.serial,
          firmware: sim.unit.firmware,
          is_monitoring: sim.unit.isMonitoring,
          battery_v: sim.unit.batteryV,
          memory_total: sim.unit.memoryTotal,
          memory_free: sim.unit.memoryFree,
          storage_range: storageRangeView(sim.unit.storageRange, sim.unit.lastKey),
          lifetime_records: sim.unit.lifetimeRecords,
          offline: sim.offline,
          sessions_active: sim.stats.sessionsActive,
          call_home: sim.callHomeTo && `${sim.callHomeTo.host}:${sim.callHomeTo.port}`,
        },
      ],
    },
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://control').pathname.replace(/\/+$/, '') || '/';
    const route = routes[path];
    const method = req.method === 'GET' || req.method === 'POST' ? req.method : null;
    const handler = route && method ? route[method] : undefined;
    if (!route) {
      req.resume();
      return send(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${path}` } });
    }
    if (!handler) {
      req.resume();
      const allow = Object.keys(route).join(', ');
      return send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} ${path}: allowed ${allow}` } }, { allow });
    }
    handler(req).then(
      ([status, body]) => send(res, status, body),
      (e: unknown) => {
        const status = e instanceof SfmError ? STATUS[e.code] : undefined;
        if (e instanceof SfmError && status) {
          send(res, status, { error: { code: e.code, message: e.message } }, status === 413 ? { connection: 'close' } : {});
          if (status === 413) req.resume();
        } else {
          send(res, 500, { error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } });
        }
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    address: { host: a.address, port: a.port },
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
