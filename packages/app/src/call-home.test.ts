/**
 * Auto Call Home as an operator runs it: `sfm serve` with the call-home listener on and
 * `sfm sim --call-home`, two real processes talking over TCP. A new event on the unit makes it
 * call; the event is in /db/events (source call-home) and the call in /db/sessions (kind
 * call-home); a second call asks the unit for nothing it already gave.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUB } from '@sfm/core/protocol';
import { assertBuilt, killAll, serve, sfm, until } from './processes.test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sfm-ach-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});
beforeAll(assertBuilt);

const hex = (sub: number) => sub.toString(16).toUpperCase().padStart(2, '0');

describe('sfm serve with ach.listen, and sfm sim --call-home', () => {
  it('a new event on the unit is archived by its call (source call-home, a call-home Session); the next call fetches nothing twice', async () => {
    const config = join(dir, 'sfm.json');
    writeFileSync(config, JSON.stringify({
      store: `sqlite:${join(dir, 'cache.db')}`,
      simulate: false,
      log_level: 'warn',
      // The unit is known by its serial (it is never dialled here).
      devices: { north: { host: '127.0.0.1', tcp_port: 1, serial: 'BE18189' } },
      ach: { listen: '127.0.0.1:0', allow_peers: ['127.0.0.0/8'], accept: 'known', captures_dir: join(dir, 'captures') },
    }));
    const s = await serve(['--config', config]);
    try {
      const ach = /call-home: taking calls on (\S+):(\d+)/.exec(s.out);
      expect(ach, s.out).not.toBeNull();
      const unit = sfm(['sim', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', '--call-home', `${ach![1]}:${ach![2]}`, '--events', '2', '--baud', '0', '--forward-delay-ms', '0']);
      await until(() => /control API on (http:\/\/\S+)\/stats/.test(unit.err), 'sfm sim to start');
      const control = /control API on (http:\/\/\S+)\/stats/.exec(unit.err)![1]!;
      const json = async (url: string, init?: RequestInit) => (await fetch(url, init)).json() as Promise<Record<string, any>>;
      const sessions = async () => (await json(`${s.url}/db/sessions`)).sessions as Record<string, unknown>[];

      const recorded = (await json(`${control}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"count":1}' })).events[0];
      await until(async () => (await sessions()).length === 1, 'the call to be recorded');
      const [first] = await sessions();
      expect(first).toMatchObject({ serial: 'BE18189', kind: 'call-home', events_new: 3, waveforms_new: 3, erased: false, result: 'ok' });
      expect(readdirSync(join(dir, 'captures'))).toEqual([first!.capture]);
      const events = (await json(`${s.url}/db/events?serial=BE18189`)).events as Record<string, unknown>[];
      expect(events).toHaveLength(3);
      expect(events[0]).toMatchObject({ key: recorded.key, timestamp: recorded.timestamp, source: 'call-home', has_waveform: true });

      // A call with nothing new: the unit is asked who it is and what it holds, nothing more.
      await fetch(`${control}/stats/reset`, { method: 'POST' });
      expect((await fetch(`${control}/call-home`, { method: 'POST' })).status).toBe(202);
      await until(async () => (await sessions()).length === 2, 'the second call to be recorded');
      expect((await sessions())[0]).toMatchObject({ kind: 'call-home', events_new: 0, waveforms_new: 0, result: 'ok' });
      const asked = Object.keys((await json(`${control}/stats`)).framesBySub).sort();
      expect(asked).toEqual([SUB.STORAGE_RANGE, SUB.EVENT_INDEX, SUB.SERIAL_NUMBER, SUB.POLL].map(hex).sort());
      expect((await json(`${s.url}/db/events?serial=BE18189`)).events).toHaveLength(3);
      expect(await (await fetch(`${s.url}/metrics`)).text()).toContain('sfm_ach_sessions_total{result="ok"} 2');
      unit.child.kill('SIGTERM');
      await unit.done;
    } finally {
      await s.stop();
    }
  });
});
