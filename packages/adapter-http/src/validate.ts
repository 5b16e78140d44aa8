/**
 * Request validation from the route table: the query string (unknown and repeated parameters
 * rejected), path parameters, and the JSON body — checked by core's schema checks, so messages
 * name the field and say why.
 */
import { InvalidInput } from '@sfm/core';
import { checkValue, parseText } from '@sfm/core/schema';
import { Type } from '@sinclair/typebox';
import type { RouteContext } from './http.js';
import type { RouteSpec } from './routes.js';

/** What a route without a body accepts: nothing, or an empty JSON object. */
const NO_BODY = Type.Object({}, { additionalProperties: false, description: 'this route takes no body' });

/** The raw query string of a URL, split into name → every value given. */
export function queryValues(url: string): Map<string, string[]> {
  const q = url.indexOf('?');
  const out = new Map<string, string[]>();
  if (q < 0) return out;
  const hash = url.indexOf('#', q);
  for (const [k, v] of new URLSearchParams(url.slice(q + 1, hash < 0 ? undefined : hash))) {
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

function shownName(name: string): string {
  return /^[\x21-\x7e]{1,40}$/.test(name) ? name : JSON.stringify(name.length > 40 ? `${name.slice(0, 37)}…` : name);
}

export function validateQuery(route: RouteSpec, url: string): RouteContext['query'] {
  const out: RouteContext['query'] = {};
  for (const [name, values] of queryValues(url)) {
    const spec = route.params.find((p) => p.in === 'query' && p.name === name);
    if (!spec && route.probe) continue;
    if (!spec) {
      const known = route.params.filter((p) => p.in === 'query').map((p) => p.name);
      throw new InvalidInput(shownName(name), `unknown query parameter (${known.length ? `this route takes ${known.join(', ')}` : 'this route takes none'})`);
    }
    if (values.length > 1) throw new InvalidInput(name, `given ${values.length} times; give it once`);
    out[name] = parseText(name, spec.schema, values[0]!);
  }
  for (const spec of route.params) if (spec.in === 'query' && spec.required && out[spec.name] === undefined) throw new InvalidInput(spec.name, 'is required');
  return out;
}

export function validateParams(route: RouteSpec, raw: Record<string, string | undefined>): RouteContext['params'] {
  const out: RouteContext['params'] = {};
  for (const spec of route.params) {
    if (spec.in !== 'path') continue;
    const v = raw[spec.name];
    if (v === undefined) throw new InvalidInput(spec.name, 'is required');
    out[spec.name] = parseText(spec.name, spec.schema, v);
  }
  return out;
}

export function validateBody(route: RouteSpec, body: unknown): RouteContext['body'] {
  if (body === undefined) {
    if (route.body?.required) {
      throw new InvalidInput('body', `required: a JSON object (Content-Type: application/json) naming ${Object.keys(route.body.schema.properties).length > 0 ? 'the fields to change' : 'nothing'}`);
    }
    return undefined;
  }
  checkValue('body', route.body?.schema ?? NO_BODY, body);
  return body as Record<string, unknown>;
}
