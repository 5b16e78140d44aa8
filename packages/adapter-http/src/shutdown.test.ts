/** Graceful close: stop accepting, let the request in flight finish, close keep-alive sockets. */
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startFixture } from '@sfm/test-support';

const q = '?device=demo';

describe('close()', () => {
  it('completes a request in flight, refuses new connections, then resolves', async () => {
    // The modem holds each reply 60 ms: reading the unit's info takes several hundred ms.
    const f = await startFixture({ sim: { forwardDelayMs: 60 } });
    try {
      const inFlight = f.call(`/device/info${q}`);
      const t0 = Date.now();
      while ((await f.relay.cacheStats()).device_requests_pending === 0) {
        if (Date.now() - t0 > 2000) throw new Error('the request never reached the unit');
        await new Promise((r) => setTimeout(r, 5));
      }
      let closed = false;
      const closing = f.server.close().then(() => {
        closed = true;
      });
      await new Promise((r) => setTimeout(r, 20));
      expect(closed).toBe(false);
      // no new connections while closing
      await expect(fetch(`${f.url}/health`)).rejects.toThrow();
      const r = await inFlight;
      expect(r.status).toBe(200);
      expect(r.json.serial).toBe(f.sim.unit.serial);
      await closing;
      expect(closed).toBe(true);
      expect((await f.relay.cacheStats()).device_requests_pending).toBe(0);
    } finally {
      await f.close(); // idempotent
    }
  });

  it('waits for device work whose client has gone away', async () => {
    const f = await startFixture({ sim: { forwardDelayMs: 60 } });
    try {
      const abort = new AbortController();
      const gone = fetch(`${f.url}/device/info${q}`, { signal: abort.signal }).catch(() => 'aborted');
      while ((await f.relay.cacheStats()).device_requests_pending === 0) await new Promise((r) => setTimeout(r, 5));
      abort.abort();
      expect(await gone).toBe('aborted');
      await f.server.close();
      expect((await f.relay.cacheStats()).device_requests_pending).toBe(0);
      // the work finished and was cached
      expect((await f.relay.cacheStats()).kinds.device_info.entries).toBe(1);
    } finally {
      await f.close();
    }
  });

  it('does not wait for idle keep-alive connections; a second close() shares the first', async () => {
    const f = await startFixture();
    try {
      // a kept-alive connection that stays open and idle
      await new Promise<void>((resolve, reject) => {
        const req = request(`${f.url}/health`, { agent: new Agent({ keepAlive: true }) }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
      const t0 = Date.now();
      const a = f.server.close();
      const b = f.server.close();
      expect(a).toBe(b);
      await a;
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await f.close();
    }
  });
});
