/** The CLI's device commands end to end: in-process CLI, real TCP, the emulated unit. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectDeviceAccess } from '@sfm/core/service';
import { analysisOptions } from '@sfm/core/analysis';
import { TransportRegistry } from '@sfm/core/transport';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { runCli, type ServiceOptions } from '../cli.js';
import { readCapture, type CaptureRecord } from '@sfm/core/capture';
import type { CliIO } from '../io.js';

let sim: RunningSimulator;
let where: string[];
const services = (opts: ServiceOptions) => ({
  access: new DirectDeviceAccess(new TransportRegistry(opts.wrapTransport).register(tcpTransportFactory), { frameTimeoutMs: 2000, chunkTimeoutMs: 2000, wakeWindowMs: 0, monitorPollMs: 10 }),
  close() {},
});

async function sfm(...args: string[]) {
  const io = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) } satisfies CliIO & { out: string; err: string };
  const code = await runCli(args, io, { services });
  return { code, out: io.out, err: io.err, json: () => JSON.parse(io.out) };
}

beforeAll(async () => {
  sim = await startSimulator({ events: 3, recordTimeS: 1, monitorSettleMs: 20, baud: 0, forwardDelayMs: 0 });
  where = ['--host', '127.0.0.1', '--tcp-port', String(sim.address.port)];
});
afterAll(() => sim.close());

describe('sfm device commands against the emulated unit', () => {
  it('events --json is the EventList of the contract', async () => {
    const r = await sfm('events', ...where, '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({ serial: 'BE18189', count: 3, events: sim.unit.events });
  });

  it('events prints a readable table', async () => {
    const r = await sfm('events', ...where);
    expect(r.out).toMatch(/^BE18189: 3 events/);
    expect(r.out).toContain(sim.unit.events[0]!.key);
  });

  it('info, event, status, storage-range', async () => {
    expect((await sfm('info', ...where, '--json')).json()).toMatchObject({ serial: 'BE18189', compliance: sim.unit.compliance });
    expect((await sfm('event', '1', ...where, '--json')).json()).toEqual(sim.unit.events[1]);
    expect((await sfm('status', ...where, '--json')).json()).toMatchObject({ is_monitoring: false, memory_total: 983026 });
    const keys = sim.unit.events.map((e) => e.key);
    const next = sim.unit.storageRange.next.toString(16).toUpperCase().padStart(8, '0');
    expect((await sfm('storage-range', ...where, '--json')).json()).toEqual({ first_key: '01110000', last_key: keys.at(-1), next_key: next, is_empty: false });
    expect((await sfm('storage-range', ...where)).out).toBe(`first key 01110000, last key ${keys.at(-1)}, next key ${next}\n`);
    expect((await sfm('event-index', ...where, '--json')).json()).toEqual({ lifetime_event_count: sim.unit.lifetimeRecords });
    expect((await sfm('event-index', ...where)).out).toBe(`records ever made: ${sim.unit.lifetimeRecords}\n`);
    expect((await sfm('info', ...where)).out).toMatch(/Serial\s+BE18189/);
  });

  it('waveform 0 --format csv --out FILE writes samples in in/s, whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-cli-'));
    const file = join(dir, 'w0.csv');
    const r = await sfm('waveform', '0', ...where, '--format', 'csv', '--out', file);
    expect(r.code).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('t_s,Tran_ips,Vert_ips,Long_ips,MicL_psi');
    expect(lines).toHaveLength(1 + sim.unit.events[0]!.total_samples!);
    expect(lines[1]!.split(',').map(Number).every(Number.isFinite)).toBe(true);
    expect(readdirSync(dir)).toEqual(['w0.csv']); // no temporary left behind
  });

  it('waveform 0 --json to stdout is the Waveform shape', async () => {
    const w = (await sfm('waveform', '0', ...where)).json();
    expect(w).toMatchObject({ schema: 'sfm.waveform.v1', serial: 'BE18189', index: 0, key: sim.unit.events[0]!.key });
    expect(w.channels.map((c: { name: string; unit: string }) => `${c.name}:${c.unit}`)).toEqual(['Tran:in/s', 'Vert:in/s', 'Long:in/s', 'MicL:psi']);
  });

  it('report 1 --out FILE writes the event\'s one-page PDF, judged against --standard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-cli-'));
    const file = join(dir, 'r1.pdf');
    const r = await sfm('report', '1', ...where, '--out', file, '--standard', 'usbm-ri8507-drywall,osmre-distance', '--distance-ft', '350.5', '--json');
    expect(r.code, r.err).toBe(0);
    const a = r.json();
    expect(a).toMatchObject({ schema: 'sfm.analysis.v1', serial: 'BE18189', key: sim.unit.events[1]!.key });
    expect(a.compliance.map((c: { standard: string }) => c.standard)).toEqual(['usbm-ri8507-drywall', 'osmre-distance']);
    expect(a.compliance[1].channels[0].limit_ips).toBe(1.0); // 301–5000 ft
    expect(r.err).toMatch(new RegExp(`wrote .*r1\\.pdf \\(BE18189 event ${a.key}: usbm-ri8507-drywall (pass|fail|n/a), osmre-distance (pass|fail)\\)`));
    expect(readdirSync(dir)).toEqual(['r1.pdf']);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toContain('BE18189');
    for (const c of a.channels) expect(text).toContain(c.ppv_ips < 1 ? c.ppv_ips.toFixed(4) : c.ppv_ips.toFixed(3));
    expect(text).toContain('OSMRE limit by distance (350.5 ft)');
    expect(text).toContain(sim.unit.events[1]!.project.project!);
    // The same analysis as DeviceAccess gives it, reading the unit directly.
    const options = analysisOptions(undefined, { standard: 'usbm-ri8507-drywall,osmre-distance', distance_ft: 350.5 });
    const direct = await services({}).access.analysis({ kind: 'tcp', host: '127.0.0.1', port: sim.address.port }, 1, { analysis: options });
    expect([direct.cache, direct.value]).toEqual(['miss', a]);
  });

  it('monitor start and stop', async () => {
    expect((await sfm('monitor', 'start', ...where, '--json')).json().is_monitoring).toBe(true);
    expect((await sfm('monitor', 'stop', ...where, '--json')).json().is_monitoring).toBe(false);
  });

  it('config set changes only the named fields', async () => {
    const r = await sfm('config', 'set', 'trigger_level_ips=0.3', 'project=Dam survey', ...where, '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ trigger_level_ips: 0.3, project: 'Dam survey', client: 'Acme Aggregates' });
    expect(sim.unit.compliance.trigger_level_ips).toBe(0.3);
  });

  it('call-home get and set', async () => {
    expect((await sfm('call-home', 'get', ...where, '--json')).json()).toEqual(sim.unit.callHome);
    const r = await sfm('call-home', 'set', 'enabled=yes', 'time1.hour=7', ...where, '--json');
    expect(r.json()).toMatchObject({ enabled: true, time1: { hour: 7 } });
  });

  it('erase needs --yes, then empties the unit and says how many events it erased', async () => {
    const no = await sfm('erase', ...where);
    expect(no.code).toBe(2);
    expect(no.err).toMatch(/--yes/);
    expect(sim.unit.events).toHaveLength(3);
    const yes = await sfm('erase', ...where, '--yes');
    expect([yes.code, yes.out]).toEqual([0, 'erased 3 events; now no events stored (next key 01110000)\n']);
    expect(sim.unit.events).toHaveLength(0);
    sim.unit.recordEvent();
    const json = await sfm('erase', ...where, '--yes', '--json');
    expect(json.json()).toEqual({ is_empty: true, first_key: '01110000', last_key: null, next_key: '01110000' });
    expect(json.err).toBe('(erased 1 event)\n');
    expect((await sfm('storage-range', ...where)).out).toBe('no events stored (next key 01110000)\n');
  });

  it('bad input: clear messages and exit codes', async () => {
    const cases: [string[], number, RegExp][] = [
      [['events'], 2, /choose a unit/],
      [['events', '--host', 'x', '--port', '/dev/ttyS0'], 2, /one way/],
      [['event', 'abc', ...where], 2, /IDX/],
      [['event', '-1', ...where], 2, /IDX|Unknown|argument/i],
      [['event', '99', ...where], 4, /does not exist/],
      [['config', 'set', 'sample_rate=1000', ...where], 2, /sample_rate/],
      [['config', 'set', 'colour=red', ...where], 2, /unknown key/],
      [['config', 'set', 'trigger_level_ips=abc', ...where], 2, /trigger_level_ips: must be a number from 0.005 to 10, got "abc"/],
      [['waveform', '0', '--out', '/no/such/dir/w.csv', ...where], 2, /does not exist/],
      [['report', '0', ...where], 2, /Missing required argument: out/],
      [['report', '0', '--out', '/no/such/dir/r.pdf', ...where], 2, /does not exist/],
      [['report', '0', '--out', '/tmp/r.pdf', '--standard', 'usbm', ...where], 2, /^sfm: --standard: unknown standard "usbm" \(known: usbm-ri8507-drywall, /],
      [['report', '0', '--out', '/tmp/r.pdf', '--distance-ft', 'far', ...where], 2, /^sfm: --distance-ft: must be a number from 0 to 1000000, got "far"\n$/],
      [['status', '--host', '127.0.0.1', '--tcp-port', '1'], 3, /DEVICE_UNREACHABLE/],
      // What was given and what is expected, never NaN; an unknown flag named once.
      [['status', '--host', '127.0.0.1', '--tcp-port', 'abc'], 2, /^sfm: --tcp-port: must be 1–65535 \(a whole number\), got "abc"\n$/],
      [['status', '--host', '127.0.0.1', '--tcp-port', '70000'], 2, /^sfm: --tcp-port: must be 1–65535 \(a whole number\), got "70000"\n$/],
      [['status', '--host', '127.0.0.1', '--tcp-port'], 2, /tcp-port/],
      [['status', '--host', '127.0.0.1', '--tcp-port', '1', '--tcp-port', '2'], 2, /^sfm: --tcp-port: give it once, not 2 times\n$/],
      [['status', '--port', '/dev/ttyS0', '--baud', 'fast'], 2, /^sfm: --baud: must be 50–4000000 \(a whole number\), got "fast"\n$/],
      [['events', ...where, '--max-age', '-5'], 2, /^sfm: --max-age: must be a whole number ≥ 0, got "-5"\n$/],
      [['status', ...where, '--bogus-flag'], 2, /^sfm: Unknown argument: bogus-flag\n$/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await sfm(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err, args.join(' ')).toMatch(msg);
    }
    expect(existsSync('/no/such/dir')).toBe(false);
  });

  it('--version and -v print the version, -h the help; all exit 0', async () => {
    for (const flag of ['--version', '-v']) {
      const io = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
      expect(await runCli([flag], io, { version: '1.2.3', services })).toBe(0);
      expect([io.out, io.err]).toEqual(['1.2.3\n', '']);
    }
    for (const flag of ['-h', '--help']) {
      const r = await sfm(flag);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^sfm <command> \[options\]/);
      expect(r.out).toContain('sfm completion');
    }
  });

  it('config set refuses what the unit cannot record with, judged with its current setup, before writing anything', async () => {
    sim.unit.configure({ geo_range: 'normal', trigger_level_ips: 2, alarm_level_ips: 4, sample_rate: 1024, record_time_s: 20 });
    const writes = () => ['68', '71', '72', '82'].map((sub) => sim.server.stats.framesBySub[sub] ?? 0);
    const before = { writes: writes(), compliance: sim.unit.compliance };
    const cases: [string[], RegExp][] = [
      [['trigger_level_ips=5', 'geo_range=sensitive'], /trigger_level_ips: 5 exceeds the sensitive range's full scale of 1.25 in\/s\n/],
      [['geo_range=sensitive'], /geo_range: the sensitive range's full scale of 1.25 in\/s is below trigger_level_ips 2 \(trigger_level_ips as set on the unit\); lower it in the same write/],
      [['alarm_level_ips=1.5'], /alarm_level_ips: 1.5 is below trigger_level_ips 2 \(trigger_level_ips as set on the unit\)/],
      [['sample_rate=4096', 'record_time_s=16'], /record_time_s: 16 s is longer than a record at 4096 Sa\/s can be: at most 15.99 s/],
      [['sample_rate=4096'], /sample_rate: at 4096 Sa\/s a record can be at most 15.99 s \(.*\), and record_time_s is 20 s \(record_time_s as set on the unit\)/],
      [['record_time_s=64'], /record_time_s: must be a number from 0.25 to 63.99, got "64"/],
    ];
    for (const [pairs, msg] of cases) {
      const r = await sfm('config', 'set', ...pairs, ...where);
      expect([pairs.join(' '), r.code]).toEqual([pairs.join(' '), 2]);
      expect(r.err, pairs.join(' ')).toMatch(msg);
    }
    expect(writes()).toEqual(before.writes);
    expect(sim.unit.compliance).toEqual(before.compliance);
    // Changing both together is judged as a whole: allowed.
    const ok = await sfm('config', 'set', 'geo_range=sensitive', 'trigger_level_ips=1', 'alarm_level_ips=1.25', ...where, '--json');
    expect(ok.code).toBe(0);
    expect(ok.json()).toMatchObject({ geo_range: 'sensitive', geo_full_scale_ips: 1.25, trigger_level_ips: 1, alarm_level_ips: 1.25 });
  });

  it('--out writes regular files only: a FIFO, a device and a symbolic link are refused before any download', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sfm-out-'));
    const fifo = join(d, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const target = join(d, 'elsewhere.csv');
    writeFileSync(target, 'keep me');
    const link = join(d, 'link.csv');
    symlinkSync(target, link);
    const before = sim.server.stats.connectionsTotal;
    for (const [path, kind] of [[fifo, 'a named pipe'], ['/dev/null', 'a device'], [link, 'a symbolic link'], [d, 'a folder']] as const) {
      const r = await sfm('waveform', '0', ...where, '--format', 'csv', '--out', path);
      expect([path, r.code]).toEqual([path, 2]);
      expect(r.err).toContain(`is ${kind}; --out writes regular files only`);
    }
    expect(sim.server.stats.connectionsTotal).toBe(before);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  });
});

describe('--capture FILE', () => {
  const bytesOf = (records: CaptureRecord[], type: 'host' | 'device') => records.reduce((n, r) => n + (r.type === type ? r.bytes.length : 0), 0);

  it('records every byte of the command\'s session both ways, with who, what and when', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sfm-capture-')), 'events.sfmcap');
    sim.server.resetStats();
    const r = await sfm('events', ...where, '--json', '--capture', file);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`(recorded 1 session with the unit in ${file})`);
    const { records, cut } = readCapture(readFileSync(file));
    expect(cut).toBeNull();
    expect(records[0]).toMatchObject({ type: 'capture', header: { format: 'sfm-capture', recorder: 'sfm', command: ['events', ...where, '--json', '--capture', file] } });
    expect(records[1]).toMatchObject({ type: 'session-start', session: { session: 1, host: 'sfm', device: `tcp:127.0.0.1:${sim.address.port}` } });
    // What the unit heard and said, byte for byte.
    expect([bytesOf(records, 'host'), bytesOf(records, 'device')]).toEqual([sim.server.stats.bytesIn, sim.server.stats.bytesOut]);
    expect(records.at(-2)).toMatchObject({ type: 'session-end', end: { closed_by: 'host' } });
    expect(records.at(-1)!.type).toBe('capture-end');
  });

  it('a unit that cannot be reached: the capture says so; a path that is not a regular file is refused first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfm-capture-'));
    const file = join(dir, 'refused.sfmcap');
    const r = await sfm('status', '--host', '127.0.0.1', '--tcp-port', '1', '--capture', file);
    expect(r.code).toBe(3);
    const { records } = readCapture(readFileSync(file));
    expect(records.find((x) => x.type === 'session-end')).toMatchObject({ end: { closed_by: 'device', error: expect.stringMatching(/refused|ECONNREFUSED/) } });
    const bad = await sfm('status', ...where, '--capture', dir);
    expect([bad.code, bad.err]).toEqual([2, `sfm: --capture: ${dir} is a folder; --capture writes regular files only\n`]);
  });
});

describe('sfm shows monitor-log records', () => {
  let logSim: RunningSimulator;
  let at: string[];
  beforeAll(async () => {
    logSim = await startSimulator({ events: 1, recordTimeS: 1, baud: 0, forwardDelayMs: 0 });
    logSim.unit.recordMonitorLog({ start: new Date('2026-04-08T02:00:00Z'), stop: new Date('2026-04-08T05:30:00Z') });
    at = ['--host', '127.0.0.1', '--tcp-port', String(logSim.address.port)];
  });
  afterAll(() => logSim.close());

  it('events and event: the interval and the trigger level; --json the contract fields', async () => {
    const log = logSim.unit.events[1]!;
    const table = (await sfm('events', ...at)).out.split('\n');
    expect(table.find((l) => l.includes(log.key))).toMatch(/2026-04-08T02:00:00\s+monitor_log\s.*\(monitored until 2026-04-08T05:30:00, trigger 0.5 in\/s\)$/);
    expect((await sfm('event', '1', ...at)).out).toBe(
      `Event 1  key ${log.key}  2026-04-08T02:00:00  monitor_log\n` +
        'Monitored     2026-04-08T02:00:00 to 2026-04-08T05:30:00, nothing crossed the trigger level\n' +
        'Trigger       0.5 in/s (geophones)\n',
    );
    expect((await sfm('event', '1', ...at, '--json')).json()).toMatchObject({ record_type: 'monitor_log', end_timestamp: '2026-04-08T05:30:00', trigger_level_ips: 0.5 });
  });
});
