/**
 * The relay and the recording link over real TCP sockets: bytes pass unchanged both ways, the
 * capture holds exactly what each side sent, and the session's end says who ended it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { StreamLink } from '../transport/stream-link.js';
import { readCapture, type CaptureRecord } from './format.js';
import { captureLink } from './record-link.js';
import { relayStreams } from './relay.js';
import { CaptureWriter, type CaptureSink } from './writer.js';

function memory(): CaptureSink & { bytes(): Uint8Array } {
  const parts: Uint8Array[] = [];
  return {
    write: (b) => void parts.push(b.slice()),
    flush() {},
    close() {},
    bytes: () => Uint8Array.from(parts.flatMap((p) => [...p])),
  };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(onSocket: (s: Socket) => void): Promise<number> {
  const server = createServer(onSocket);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

const joined = (records: CaptureRecord[], type: 'host' | 'device') => Buffer.concat(records.flatMap((r) => (r.type === type ? [r.bytes] : [])));
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('relayStreams', () => {
  it('passes every byte unchanged both ways and records each direction; the host closing ends the session', async () => {
    const fromHost: Buffer[] = [];
    // The "unit": answers every chunk with its bytes reversed and one byte more.
    const unitPort = await listen((s) => s.on('data', (d: Buffer) => {
      fromHost.push(d);
      s.write(Buffer.concat([Buffer.from(d).reverse(), Buffer.of(0x03)]));
    }));
    const sink = memory();
    const writer = new CaptureWriter(sink, { recorder: 'test' });
    let relayed: ReturnType<typeof relayStreams> | undefined;
    const tapPort = await listen((host) => {
      const device = connect(unitPort, '127.0.0.1');
      relayed = relayStreams(host, device, writer.startSession({ host: 'client', device: 'unit' }));
    });
    const client = connect(tapPort, '127.0.0.1');
    const got: Buffer[] = [];
    client.on('data', (d: Buffer) => got.push(d));
    await once(client, 'connect');
    const sent = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
    for (let i = 0; i < sent.length; i += 700) client.write(sent.subarray(i, i + 700));
    await until(() => Buffer.concat(fromHost).length === sent.length && Buffer.concat(got).length >= sent.length);
    await until(() => Buffer.concat(got).length === Buffer.concat(fromHost).length + fromHost.length);
    client.end();
    expect(await relayed!.done).toEqual({ closed_by: 'host' });
    writer.close();

    const { records, cut } = readCapture(sink.bytes());
    expect(cut).toBeNull();
    expect(Buffer.concat(fromHost)).toEqual(sent); // the unit got exactly what the client sent
    expect(joined(records, 'host')).toEqual(sent);
    expect(joined(records, 'device')).toEqual(Buffer.concat(got)); // the client got exactly what the unit sent
    expect(records.find((r) => r.type === 'session-end')).toMatchObject({ end: { session: 1, closed_by: 'host' } });
  });

  it('stop() ends a session from the middle: both sides closed, closed_by recorder', async () => {
    const unitPort = await listen(() => undefined);
    const writer = new CaptureWriter(memory(), { recorder: 'test' });
    let relayed: ReturnType<typeof relayStreams> | undefined;
    const tapPort = await listen((host) => {
      relayed = relayStreams(host, connect(unitPort, '127.0.0.1'), writer.startSession({ host: null, device: null }));
    });
    const client = connect(tapPort, '127.0.0.1');
    client.resume();
    await until(() => relayed !== undefined);
    relayed!.stop();
    expect(await relayed!.done).toEqual({ closed_by: 'recorder' });
    await once(client, 'close');
  });
});

describe('captureLink', () => {
  it('records what the host writes and the unit sends; the unit hanging up ends the session with its error', async () => {
    const unitPort = await listen((s) => s.once('data', () => s.end(Buffer.of(0x10, 0x02, 0x03))));
    const sink = memory();
    const writer = new CaptureWriter(sink, { recorder: 'test' });
    const socket = connect(unitPort, '127.0.0.1');
    await once(socket, 'connect');
    const link = captureLink(new StreamLink(socket, 'unit'), writer.startSession({ host: 'sfm', device: 'unit' }));
    const seen: Uint8Array[] = [];
    let closedWith: Error | undefined;
    link.setReceiver({ data: (c) => void seen.push(c), closed: (e) => void (closedWith = e) });
    await link.write(Uint8Array.of(0x41, 0x03));
    await until(() => closedWith !== undefined);
    await link.close();
    writer.close();
    const { records } = readCapture(sink.bytes());
    expect(joined(records, 'host')).toEqual(Buffer.of(0x41, 0x03));
    expect(joined(records, 'device')).toEqual(Buffer.of(0x10, 0x02, 0x03));
    expect(records.filter((r) => r.type === 'session-end')).toEqual([expect.objectContaining({ end: { session: 1, closed_by: 'device', error: 'unit: the unit closed the connection' } })]);
  });
});
