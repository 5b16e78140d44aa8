/**
 * Hostile input through HTTP, as properties: random and hostile query strings on every route,
 * hostile path parameters, device selections that pass the schema but not the allow-list or the
 * registry, hostile JSON bodies and media types on every POST route. Every request is built to be
 * refused, so the answer must be a 4xx with `{ error: { code, message } }` — never a 5xx, never a
 * stack trace or a file path — and Object.prototype is never polluted. Requests the HTTP parser
 * itself refuses (over 16 KiB of request line and headers, malformed HTTP) get the same body.
 */
import { connect } from 'node:net';
import { brotliDecompressSync, inflateSync, gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@sfm/core';
import { ROUTES, type RouteSpec } from './routes.js';
import { Type, type TObject, type TSchema } from '@sinclair/typebox';

/** The JSON Schema keywords of a shape's field that this generator reads. */
type Schema = TSchema & { type?: string; enum?: unknown[]; anyOf?: { const?: unknown }[]; minimum?: number; maximum?: number; maxLength?: number };
import { call, startFixture, type Fixture, type Reply } from '@sfm/test-support';

const RUNS = 120;
const BODY_LIMIT = 16 * 1024;

const urlPath = (r: RouteSpec, idx = '0'): string => r.path.replace('{idx}', idx);
const queryNames = (r: RouteSpec): Set<string> => new Set(r.params.filter((p) => p.in === 'query').map((p) => p.name));
const methodOf = (r: RouteSpec): string => r.method.toUpperCase();

const GET_ROUTES = ROUTES.filter((r) => r.method === 'get');
const POST_ROUTES = ROUTES.filter((r) => r.method === 'post');
const DEVICE_ROUTES = ROUTES.filter((r) => r.device);
const IDX_ROUTES = ROUTES.filter((r) => r.path.includes('{idx}'));

// --- what every answer must look like ------------------------------------------------------------

const STACK_FRAME = /^\s*at .+:\d+:\d+\)?\s*$|\bat (?:async )?[\w$.<>[\]]+ \(.*:\d+:\d+\)|\(?(?:file:\/\/|node:internal|\/node_modules\/)/m;

function expectRefused(r: Reply, what: string): void {
  const ctx = `${what} → ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, ctx).toBeGreaterThanOrEqual(400);
  expect(r.status, ctx).toBeLessThan(500);
  expect(r.headers.get('content-type'), ctx).toBe('application/json; charset=utf-8');
  expect(r.json, ctx).toBeTypeOf('object');
  expect(Object.keys(r.json), ctx).toEqual(['error']);
  expect(Object.keys(r.json.error).sort(), ctx).toEqual(['code', 'message']);
  expect(ERROR_CODES, ctx).toContain(r.json.error.code);
  expect(r.json.error.message, ctx).toBeTypeOf('string');
  expect(r.json.error.message.trim().length, ctx).toBeGreaterThan(0);
  expect(r.text, ctx).not.toMatch(STACK_FRAME);
  expect(r.text, ctx).not.toContain(process.cwd());
}

/** Object.prototype as it was before any request. */
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
function expectNoPollution(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_KEYS);
  const probe = {} as Record<string, unknown>;
  for (const k of ['polluted', 'isAdmin', 'confirm', 'project', 'enabled']) expect(probe[k], k).toBeUndefined();
}

// --- hostile text ----------------------------------------------------------------------------------

const HOSTILE_TEXT = [
  '1e309', '-1e309', '18446744073709551616', '18446744073709551615', '9007199254740993', '-9007199254740993', '-1', '-0', '+1',
  'NaN', 'Infinity', '-Infinity', '0x10', '0b1', '1.5', '1e3', '', ' ', '\t', '١٢٣', '１２３', 'true ', 'TRUE', 'null', 'undefined',
  '[]', '{}', '\u202eevil\u202c', 'مرحبا بالعالم', 'שלום', '😀', '👨‍👩‍👧‍👦', '\u0000', 'a\u0000b', '\uFEFF', '\uD800', '\uDC00x', 'é', '\u007f',
  '\r\n', 'a\nb', '%', '%%', '%zz', '%E0%A4%A', '%C0%80', '%ED%A0%80', '%FF%FE', '%00', '%0a', '%2e%2e%2f', '../../etc/passwd',
  '<script>alert(1)</script>', "' OR 1=1 --", '${jndi:ldap://x/a}', '{{7*7}}', '__proto__', 'constructor', 'prototype', 'toString',
  'hasOwnProperty', '__proto__[polluted]', 'constructor[prototype][polluted]', 'a[]', 'a[0]', 'demo\u0000', 'demo ', ' demo', 'DEMO',
];
/** Some text: hostile constants, random code points (any plane), or long runs. */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  // long runs (kept under the 16 KiB request-line limit when encoded; that limit has its own test below)
  { weight: 1, arbitrary: fc.constantFrom<[string, number]>(['x', 200], ['9', 1000], ['x', 5000], ['😀', 100], ['😀', 600], ['%', 2000], ['é', 1200], ['\u202e', 300]).map(([c, n]) => c.repeat(n)) },
);

/** A query entry: decoded name and value; `raw` sends percent garbage and non-ASCII as typed. */
interface Entry {
  k: string;
  v: string | null;
  raw: boolean;
}

const utf8 = new TextEncoder();
function encodeAll(s: string): string {
  let out = '';
  for (const b of utf8.encode(s)) out += /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}
/**
 * Raw: percent garbage and '+' go as typed, non-ASCII is left for fetch to encode as UTF-8. Only
 * what would change the URL is escaped: # & = (structure), and tabs, newlines, controls and
 * spaces, which URL parsing drops (inside the URL or at its end) instead of sending.
 */
const encodeRaw = (s: string): string => s.replace(/[#&=\u0000-\u0020]/g, (c) => encodeAll(c));
const render = (e: Entry): string => {
  const enc = e.raw ? encodeRaw : encodeAll;
  return e.v === null ? enc(e.k) : `${enc(e.k)}=${enc(e.v)}`;
};
/** How the server will read an entry. */
const decoded = (e: Entry): [string, string] => [...new URLSearchParams(render(e))][0] ?? ['', ''];
const entry = (k: string, v: string | null, raw = false): Entry => ({ k, v, raw });

function query(entries: Entry[]): string {
  return entries.length ? `?${entries.map(render).join('&')}` : '';
}

// --- the query of a route: junk, a device selection, and one entry that is certainly refused ---------

/** An entry whose name the route does not take. */
const unknownEntry = (r: RouteSpec): fc.Arbitrary<Entry> =>
  fc
    .record({ k: hostileText, v: fc.option(hostileText, { nil: null }), raw: fc.boolean() })
    .filter((e) => [...new URLSearchParams(render(e))].some(([k]) => !queryNames(r).has(k)));

/** An entry for this parameter with a value its schema refuses (judged on the value the server reads). */
function badParamEntry(p: RouteSpec['params'][number]): fc.Arbitrary<Entry> {
  const schema = p.schema;
  let values: fc.Arbitrary<string> = hostileText;
  let takes: (v: string) => boolean = () => false;
  switch (schema.type) {
    case 'boolean':
      takes = (v) => v === 'true' || v === 'false';
      break;
    case 'integer':
      values = fc.oneof(hostileText, fc.constantFrom(String((schema.minimum ?? 0) - 1), String((schema.maximum ?? 0) + 1), '99999999999999999999999'));
      takes = (v) => /^[+-]?\d+$/.test(v) && Number.isSafeInteger(Number(v)) && Number(v) >= (schema.minimum ?? -Infinity) && Number(v) <= (schema.maximum ?? Infinity);
      break;
    case 'number':
      // Any text that reads as a number in range may be taken (left out, as the whole-number case does).
      values = fc.oneof(hostileText, fc.constantFrom(String((schema.minimum ?? 0) - 1), String((schema.maximum ?? 0) + 1), '1e309', 'NaN'));
      takes = (v) => v.trim() !== '' && Number.isFinite(Number(v)) && Number(v) >= (schema.minimum ?? -Infinity) && Number(v) <= (schema.maximum ?? Infinity);
      break;
    case 'string':
      if (schema.enum) takes = (v) => schema.enum!.includes(v);
      else values = fc.constantFrom('', 'a\u0000b', 'x'.repeat(300), '\n', 'a\u007fb'); // device: empty, control characters, too long
      break;
    default:
      break;
  }
  return fc.record({ k: fc.constant(p.name), v: values, raw: fc.boolean() }).filter((e) => !takes(decoded(e)[1]));
}

/** One entry (or two) that the query validation must refuse on this route. */
function refusedEntries(r: RouteSpec): fc.Arbitrary<Entry[]> {
  const typed = r.params.filter((p) => p.in === 'query');
  const options: fc.Arbitrary<Entry[]>[] = [unknownEntry(r).map((e) => [e])];
  options.push(fc.constantFrom('__proto__', 'constructor', 'prototype', 'a[]', `${typed[0]?.name ?? 'x'}[]`, '__proto__[polluted]', '').map((k) => [entry(k, 'yes')]));
  if (typed.length) {
    // a parameter given twice (the same value or another)
    options.push(fc.tuple(fc.constantFrom(...typed), fc.integer({ min: 2, max: 4 })).map(([p, n]) => Array.from({ length: n }, () => entry(p.name, p.name === 'device' ? 'demo' : p.schema.type === 'boolean' ? 'false' : '1'))));
    // a typed parameter with a value it cannot take
    const strict = typed.filter((p) => p.schema.type !== 'string' || p.schema.enum || p.name === 'device');
    if (strict.length) options.push(fc.constantFrom(...strict).chain(badParamEntry).map((e) => [e]));
  }
  return fc.oneof(...options);
}

/** Junk anywhere in the query: random names and values, or known names with random values. */
const junk = (r: RouteSpec): fc.Arbitrary<Entry[]> =>
  fc.array(
    fc.oneof(
      fc.record({ k: hostileText, v: fc.option(hostileText, { nil: null }), raw: fc.boolean() }),
      fc.record({ k: fc.constantFrom(...queryNames(r), 'force'), v: hostileText, raw: fc.boolean() }),
    ),
    { maxLength: 3 },
  );

/** A device selection: the registered unit (so validation goes on past it) or a hostile one. */
const selection: fc.Arbitrary<Entry[]> = fc.oneof(
  fc.constant<Entry[]>([entry('device', 'demo')]),
  fc.constant<Entry[]>([]),
  hostileText.map((v) => [entry('device', v)]),
  hostileText.map((v) => [entry('host', v), entry('tcp_port', '1e309')]),
  hostileText.map((v) => [entry('port', v)]),
  fc.constant<Entry[]>([entry('device', 'demo'), entry('host', '10.0.0.1')]),
);

// --- bodies --------------------------------------------------------------------------------------

const nested = (depth: number, open: string, close: string, inner = '0'): string => open.repeat(depth) + inner + close.repeat(depth);
const deep: fc.Arbitrary<string> = fc.tuple(fc.constantFrom(10, 1000, 2500), fc.constantFrom<[string, string]>(['[', ']'], ['{"a":', '}'], ['{"__proto__":', '}'])).map(([d, [o, c]]) => nested(d, o, c));
const anyJson: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('1e309', '-1e309', '18446744073709551616', '-0', '1.5', 'null', 'true', '""', '"😀\u202e"', '"\\u0000"', '"\\ud800"'),
  deep,
);

/** A JSON value the property schema cannot take (as JSON text). */
function badJsonValue(field: TSchema): fc.Arbitrary<string> {
  const common = fc.oneof(fc.constantFrom('null', '[]', '{}', '"x"', 'true', '0', '1e309'), deep);
  const f = field as Schema;
  // An enum of literals (anyOf of consts) is an enum.
  const choices = f.enum ?? (f.anyOf?.every((a) => a.const !== undefined) ? f.anyOf.map((a) => a.const) : undefined);
  const schema: Schema = { ...f, type: f.type ?? (typeof choices?.[0] === 'string' ? 'string' : undefined), enum: choices };
  switch (schema.type) {
    case 'boolean':
      return fc.oneof(common.filter((v) => v !== 'true'), fc.constantFrom('"true"', '1', '"false"', '[true]', '{"confirm":true}'));
    case 'integer': {
      const candidates = ['-1e309', '1e309', '18446744073709551616', '9007199254740993', '1.5', '"1"', '[1]', '-1'];
      if (schema.maximum !== undefined) candidates.push(String(schema.maximum + 1), String(schema.maximum * 1000));
      if (schema.minimum !== undefined) candidates.push(String(schema.minimum - 1));
      if (schema.enum) candidates.push('0', '1000', '4095', '-1024', '1024.5');
      const bad = (t: string): boolean => {
        const v = JSON.parse(t) as unknown;
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) return true;
        if (schema.enum) return !schema.enum.includes(v);
        return v < (schema.minimum ?? -Infinity) || v > (schema.maximum ?? Infinity);
      };
      return fc.oneof(fc.constantFrom(...candidates.filter(bad)), common.filter((t) => t !== '0' || bad(t)));
    }
    case 'number': {
      const candidates = ['-1e309', '1e309', '"3"', '-1', '0'];
      if (schema.maximum !== undefined) candidates.push(String(schema.maximum * 2 + 1));
      if (schema.minimum !== undefined && schema.minimum > 0) candidates.push(String(schema.minimum / 2));
      return fc.constantFrom(...candidates.filter((t) => { const v = JSON.parse(t) as unknown; return typeof v !== 'number' || !Number.isFinite(v) || v < (schema.minimum ?? -Infinity) || v > (schema.maximum ?? Infinity); }), 'null', '[]', '{}', '"x"');
    }
    case 'string': {
      const bad = fc.oneof(
        hostileText.filter((s) => (schema.enum ? !schema.enum.includes(s) : /[^\x20-\x7e]/.test(s) || s.length > (schema.maxLength ?? Infinity))).map((s) => JSON.stringify(s)),
        fc.constant(JSON.stringify('x'.repeat((schema.maxLength ?? 40) + 1))),
        fc.constantFrom('null', '[]', '{}', '7', 'true', '"\\u0000"', '"a\\nb"', '"😀"'),
      );
      return bad;
    }
    case 'object':
      return fc.oneof(
        fc.constantFrom('null', '[]', '"x"', '6', '{"__proto__":{"polluted":1}}', '{"hour":24}', '{"minute":-1}', '{"second":1}', '{"hour":"6"}'),
        deep,
      );
    default:
      return common;
  }
}

/** A field a body may legitimately carry (to put beside the refused one). */
const VALID_FIELDS: Record<string, string> = {
  project: '"Fuzz"', client: '"Acme"', notes: '""', sample_rate: '1024', record_time_s: '3', recording_mode: '"single_shot"',
  enabled: 'false', dial_string: '"ATDT1"', num_retries: '3', time1: '{"hour":6}',
};

const objectText = (fields: [string, string][]): string => `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/** JSON text that the route must refuse (400, 409 or 413), whatever the query. */
function refusedBody(r: RouteSpec): fc.Arbitrary<string> {
  const schema: TObject = r.body?.schema ?? Type.Object({});
  const props = Object.keys(schema.properties);
  const valid = Object.entries(VALID_FIELDS).filter(([k]) => props.includes(k));
  const extras = fc.subarray(valid, { maxLength: Math.min(2, valid.length) });
  const options: fc.Arbitrary<string>[] = [
    // not an object at all
    fc.oneof(fc.jsonValue({ maxDepth: 2 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => JSON.stringify(v)), fc.constantFrom('1e309', '18446744073709551616', '"__proto__"', '[{"confirm":true}]'), deep.filter((d) => d.startsWith('['))),
    // not JSON
    fc.oneof(
      fc.constantFrom('{', '{"a":}', "{'project':'x'}", 'NaN', 'Infinity', '{"a":1,}', 'undefined', '\u0000', '{"project":"x"', '[', '{"__proto__":}', '{"a":1}{"b":2}', '"unterminated', '1 2', '{"a":"\\uZZZZ"}', nested(3000, '[', '')),
      // (a body that is only a BOM would read as empty: not generated)
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => { try { JSON.parse(s); return false; } catch { return s.replace(/^\uFEFF+/, '') !== ''; } }),
    ),
    // a field the route does not take, beside fields it does (prototype-pollution names included)
    fc.tuple(
      fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'geo_full_scale_ips', 'confirm ', 'Project'), hostileText),
      fc.oneof(anyJson, fc.constantFrom('{"polluted":true,"isAdmin":true}', '{"prototype":{"polluted":true}}', '{"confirm":true}')),
      extras,
    ).filter(([k]) => !props.includes(k)).map(([k, v, more]) => objectText([...more, [k, v]])),
    // the classic pollution payloads
    fc.constantFrom(
      '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}', '{"__proto__":{"confirm":true},"confirm":"true"}',
      '{"time1":{"__proto__":{"polluted":"yes"}}}', '{"time1":{"constructor":{"prototype":{"isAdmin":true}}}}', '{"project":"x","__proto__":{"project":"y"}}',
    ),
    // oversized (413), inside a field the route takes or not
    fc.tuple(fc.constantFrom(props[0] ?? 'x', 'x'), fc.integer({ min: BODY_LIMIT + 1, max: 3 * BODY_LIMIT })).map(([k, n]) => objectText([[k, JSON.stringify('x'.repeat(n))]])),
  ];
  if (props.length) {
    // a field the route takes, with a value it cannot take (beside valid ones)
    options.push(
      fc.constantFrom(...props).chain((k) => fc.tuple(badJsonValue(schema.properties[k]!), extras).map(([v, more]) => objectText([...more.filter(([x]) => x !== k), [k, v]]))),
    );
  }
  if ((schema.minProperties ?? 0) > 0) options.push(fc.constant('{}'));
  if (r.id === 'erase') options.push(fc.constantFrom('{}', '{"confirm":false}')); // 409: not confirmed
  return fc.oneof(...options);
}

/** A body each POST route accepts (sent where something else must make it refuse). */
const VALID_BODY: Record<string, string> = { connect: '{}', monitorStart: '{}', monitorStop: '{}', config: '{"project":"Hostile"}', callHomeSet: '{"enabled":false}', erase: '{"confirm":true}' };

// --- the tests -----------------------------------------------------------------------------------

describe('hostile input through HTTP', () => {
  let f: Fixture;
  let simPort = 0;

  function send(method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<Reply> {
    return call(f.url, path, { method, body, headers });
  }

  beforeAll(async () => {
    // Nothing ad hoc is allowed: only the registered unit "demo" can be reached.
    f = await startFixture({ allow: { hosts: [], serialPorts: [] }, bodyLimitBytes: BODY_LIMIT });
    simPort = f.sim.address.port;
  });
  afterEach(() => expectNoPollution());
  afterAll(async () => {
    // Nothing took the unexpected-error path, not even once.
    expect(f.logs.filter((l) => /"unexpected error"|"status":5\d\d/.test(l))).toEqual([]);
    await f.close();
    expectNoPollution();
  });

  it('random and hostile query strings on every route: refused (4xx)', async () => {
    // (probes ignore what they do not take, as monitors add parameters of their own: below)
    const arb = fc.constantFrom(...ROUTES.filter((r) => !r.probe)).chain((r) => fc.tuple(fc.constant(r), selection, junk(r), refusedEntries(r)));
    await fc.assert(
      fc.asyncProperty(arb, fc.nat(), async ([r, sel, noise, refused], at) => {
        const entries = [...(r.device ? sel : []), ...noise];
        entries.splice(at % (entries.length + 1), 0, ...refused); // anywhere in the query
        const path = urlPath(r) + query(entries);
        const body = r.method === 'post' ? VALID_BODY[r.id] : undefined;
        expectRefused(await send(methodOf(r), path, body), `${methodOf(r)} ${path.slice(0, 300)}`);
        expectNoPollution();
      }),
      { numRuns: 2 * RUNS },
    );
  });

  it('random and hostile query strings on the probes: ignored, the probe answers as without them', async () => {
    const probes = ROUTES.filter((r) => r.probe);
    expect(probes.map((r) => r.path).sort()).toEqual(['/health', '/metrics', '/ready']);
    const arb = fc.constantFrom(...probes).chain((r) => fc.tuple(fc.constant(r), junk(r), refusedEntries(r)));
    await fc.assert(
      fc.asyncProperty(arb, async ([r, noise, refused]) => {
        const path = urlPath(r) + query([...noise, ...refused]);
        const [plain, noisy] = [await send('GET', urlPath(r)), await send('GET', path)];
        // (a query past Node's 16 KiB header limit is refused before any route: 431)
        expect([plain.status, 431], path.slice(0, 300)).toContain(noisy.status);
        expect(noisy.status).toBeLessThan(500);
        expectNoPollution();
      }),
      { numRuns: RUNS },
    );
  });

  it('hostile event indexes in the path, with a valid selection: 400 or 404', async () => {
    const idx = fc.oneof(
      fc.constantFrom('abc', '-1', '+1e3', '1e309', '1e3', '18446744073709551616', '9007199254740992', 'NaN', 'Infinity', '0x10', '1.0', '%20',
        '%F0%9F%98%80', '%E2%80%AE1', '%D9%A1', '%00', '%', '%zz', '%E0%A4%A', '%2F', '%2e%2e', '9'.repeat(400), '__proto__', 'constructor',
        // valid but far beyond the unit's events: 404 after the events are synced
        '9007199254740991', '4294967296'),
      hostileText.map(encodeAll),
    ).filter((i) => {
      // Not an index the unit has (those answer 200), and not a segment URL parsing rewrites.
      let text: string;
      try {
        text = decodeURIComponent(i);
      } catch {
        return true;
      }
      return i !== '' && !/^[./\\?#]/.test(i) && !(/^[+-]?\d+$/.test(text) && Number(text) < 1e6);
    });
    const routeQuery = (r: RouteSpec): fc.Arbitrary<Entry[]> =>
      fc.subarray(r.id === 'waveform' ? [entry('force', 'false'), entry('format', 'json')] : [entry('force', 'false')]).map((rest) => [entry('device', 'demo'), ...rest]);
    const arb = fc.constantFrom(...IDX_ROUTES).chain((r) => fc.tuple(fc.constant(r), idx, routeQuery(r)));
    await fc.assert(
      fc.asyncProperty(arb, async ([r, i, q]) => {
        const path = urlPath(r, i) + query(q);
        expectRefused(await send('GET', path), `GET ${path.slice(0, 300)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('device selections that pass the schema but not the registry or the allow-list: 400, 403 or 404, never a connection', async () => {
    const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 128 }).filter((s) => s !== 'demo' && !/[\u0000-\u001f\u007f-\u009f]/.test(s));
    const host = fc.oneof(
      fc.constantFrom('10.0.0.1', '192.0.2.7', '203.0.113.9', '[2001:db8::1]', '2001:db8::2', 'example.invalid', 'localhost', 'LOCALHOST', '127.0.0.1', '127.1', '::1', '[::1]',
        '::ffff:127.0.0.1', '0.0.0.0', '0', '1e309', '18446744073709551616', '2130706433', '0x7f000001', 'a-b.c', 'x:y'),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,3}$/),
    );
    const tcpPort = fc.integer({ min: 1, max: 65535 }).filter((p) => p !== simPort).map(String);
    const bad: fc.Arbitrary<Entry[]> = fc.oneof(
      fc.constant<Entry[]>([]), // no unit chosen
      name.map((n) => [entry('device', n)]), // not registered: 404
      fc.tuple(host, fc.option(tcpPort, { nil: null })).map(([h, p]) => [entry('host', h), ...(p ? [entry('tcp_port', p)] : [])]), // not allowed: 403 (or 400)
      fc.tuple(fc.constantFrom('/dev/ttyUSB0', '/dev/ttyS0', 'COM3', '/tmp/x', '/dev/ttyUSB0/../ttyS0', '/dev/./ttyS1', '//dev/ttyS0'), fc.option(fc.constantFrom('9600', '38400', '4000000'), { nil: null }))
        .map(([p, b]) => [entry('port', p), ...(b ? [entry('baud', b)] : [])]),
      fc.constantFrom<Entry[]>(
        [entry('device', 'demo'), entry('host', '10.0.0.1')], [entry('device', 'demo'), entry('port', '/dev/ttyS0')], [entry('host', '10.0.0.1'), entry('port', '/dev/ttyS0')],
        [entry('device', 'demo'), entry('tcp_port', '12345')], [entry('device', 'demo'), entry('baud', '9600')], [entry('tcp_port', '12345')], [entry('baud', '9600')],
      ),
    );
    const arb = fc.constantFrom(...DEVICE_ROUTES).chain((r) => fc.tuple(fc.constant(r), bad));
    await fc.assert(
      fc.asyncProperty(arb, async ([r, sel]) => {
        const before = f.sim.server.stats.connectionsTotal;
        const path = urlPath(r) + query(sel);
        // POST routes carry a body they accept, so only the selection is wrong.
        const reply = await send(methodOf(r), path, r.method === 'post' ? VALID_BODY[r.id] : undefined);
        expectRefused(reply, `${methodOf(r)} ${path}`);
        expect(f.sim.server.stats.connectionsTotal, path).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('random and hostile JSON bodies on every POST route, with a valid selection: 400, 409 or 413, nothing sent to the unit', async () => {
    const arb = fc.constantFrom(...POST_ROUTES).chain((r) => fc.tuple(fc.constant(r), refusedBody(r)));
    await fc.assert(
      fc.asyncProperty(arb, async ([r, body]) => {
        const before = f.sim.server.stats.connectionsTotal;
        const path = `${urlPath(r)}?device=demo`;
        expectRefused(await send('POST', path, body), `POST ${path} ${body.slice(0, 200)}`);
        expectNoPollution();
        expect(f.sim.server.stats.connectionsTotal).toBe(before);
      }),
      { numRuns: 2 * RUNS },
    );
  });

  it('bodies in a media type, charset or encoding the relay does not take: 4xx, even when the JSON would be accepted', async () => {
    const types = fc.constantFrom(
      'text/plain', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json5', 'application/jsonp',
      'application/xml', '*/*', 'application/json; charset=latin1', 'application/json; charset=ucs-2', 'application/json; charset=us-ascii', 'json',
      // (charset=utf-16 and utf-32 are taken: body-parser reads every utf-* charset)
    );
    const arb = fc.constantFrom(...POST_ROUTES).chain((r) =>
      fc.tuple(
        fc.constant(r),
        fc.oneof(
          types.map((t) => ({ 'content-type': t })),
          fc.constantFrom('gzip', 'deflate', 'br', 'compress', 'x-unknown', 'gzip, gzip').map((e) => ({ 'content-type': 'application/json', 'content-encoding': e })),
          fc.constant({} as Record<string, string>), // no Content-Type at all (the body goes as bytes)
        ),
        // small bodies: a refused media type is answered before the body is read
        fc.oneof(fc.constant(VALID_BODY[r.id]!), refusedBody(r).filter((b) => b.length < 4096)),
      ),
    );
    /** Would the body decode under its Content-Encoding (a tiny random body can be valid brotli for "")? */
    const decodes = (headers: Record<string, string>, body: string): boolean => {
      const codec = { gzip: gunzipSync, deflate: inflateSync, br: brotliDecompressSync }[headers['content-encoding'] ?? ''];
      if (!codec) return false;
      try {
        codec(utf8.encode(body));
        return true;
      } catch {
        return false;
      }
    };
    await fc.assert(
      fc.asyncProperty(arb, async ([r, headers, body]) => {
        fc.pre(!decodes(headers, body));
        const before = f.sim.server.stats.connectionsTotal;
        const path = `${urlPath(r)}?device=demo`;
        const payload = Object.keys(headers).length === 0 ? utf8.encode(body) : body;
        expectRefused(await send('POST', path, payload, headers), `POST ${path} ${JSON.stringify(headers)} ${body.slice(0, 100)}`);
        expect(f.sim.server.stats.connectionsTotal).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('every GET route refuses what it was not asked (sanity: the routes above are all reached)', () => {
    expect(GET_ROUTES.length).toBeGreaterThanOrEqual(10);
    expect(POST_ROUTES.map((r) => r.id).sort()).toEqual(Object.keys(VALID_BODY).sort());
  });

  // Regression: Node's parser answered these with a bare 431 / 400 and no body.
  describe('requests refused by the HTTP parser get the error body too', () => {
    async function raw(request: string): Promise<{ status: number; headers: string; body: string }> {
      const { port } = new URL(f.url);
      const socket = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => {}); // a reset after the answer is fine
      await new Promise<void>((resolve) => socket.on('connect', resolve));
      socket.write(request);
      await new Promise<void>((resolve) => socket.on('close', () => resolve()));
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head, body };
    }
    const expectErrorBody = (r: { status: number; headers: string; body: string }, status: number): void => {
      expect(r.status, r.headers).toBe(status);
      expect(r.headers).toMatch(/\r\ncontent-type: application\/json; charset=utf-8\r\n/i);
      const json = JSON.parse(r.body);
      expect(Object.keys(json)).toEqual(['error']);
      expect(json.error.code).toBe(status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 408 ? 'REQUEST_TIMEOUT' : 'INVALID_REQUEST');
      expect(json.error.message.length).toBeGreaterThan(0);
    };

    it('a query string over 16 KiB: 431 with a JSON body (through fetch too)', async () => {
      expectErrorBody(await raw(`GET /device/info?device=demo&x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), 431);
      const viaFetch = await send('GET', `/device/info?device=demo&x=${'%F0%9F%98%80'.repeat(1500)}`);
      expectRefused(viaFetch, 'an 18 KB query');
      expect(viaFetch.status).toBe(431);
    });

    it('a header over 16 KiB: 431; malformed HTTP: 400', async () => {
      expectErrorBody(await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`), 431);
      expectErrorBody(await raw('GARBAGE\r\n\r\n'), 400);
      expectErrorBody(await raw('GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'), 400);
      expectErrorBody(await raw('GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'), 400);
    });
  });
});
