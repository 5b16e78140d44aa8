/**
 * Request validation generated from the route table: the query string (unknown and repeated
 * parameters rejected), path parameters, and the JSON body. The result is typed by the schema.
 */
import { checkValue, parseParam, ValidationError, type ObjectSchema } from './schema.js';
import { lookupComponent } from './models.js';
import type { RouteSpec } from './routes.js';

export interface ValidatedRequest {
  query: Record<string, string | number | boolean>;
  params: Record<string, string | number | boolean>;
  /** The JSON object sent, or undefined when none was. */
  body: Record<string, unknown> | undefined;
}

/** What a route without a body accepts: nothing, or an empty JSON object. */
const NO_BODY: ObjectSchema = { type: 'object', properties: {}, additionalProperties: false, description: 'this route takes no body' };

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

export function validateQuery(route: RouteSpec, url: string): ValidatedRequest['query'] {
  const specs = new Map(route.params.filter((p) => p.in === 'query').map((p) => [p.name, p]));
  const out: ValidatedRequest['query'] = {};
  for (const [name, values] of queryValues(url)) {
    const spec = specs.get(name);
    if (!spec) {
      const known = [...specs.keys()];
      throw new ValidationError(shownName(name), `unknown query parameter (${known.length ? `this route takes ${known.join(', ')}` : 'this route takes none'})`);
    }
    if (values.length > 1) throw new ValidationError(name, `given ${values.length} times; give it once`);
    out[name] = parseParam(name, spec.schema, values[0]!);
  }
  for (const spec of specs.values()) if (spec.required && out[spec.name] === undefined) throw new ValidationError(spec.name, 'is required');
  return out;
}

export function validateParams(route: RouteSpec, raw: Record<string, string | undefined>): ValidatedRequest['params'] {
  const out: ValidatedRequest['params'] = {};
  for (const spec of route.params.filter((p) => p.in === 'path')) {
    const v = raw[spec.name];
    if (v === undefined) throw new ValidationError(spec.name, 'is required');
    out[spec.name] = parseParam(spec.name, spec.schema, v);
  }
  return out;
}

export function validateBody(route: RouteSpec, body: unknown): ValidatedRequest['body'] {
  if (body === undefined) {
    if (route.body?.required) {
      throw new ValidationError('body', `required: a JSON object (Content-Type: application/json) naming ${Object.keys(route.body.schema.properties).length > 0 ? 'the fields to change' : 'nothing'}`);
    }
    return undefined;
  }
  checkValue('body', route.body?.schema ?? NO_BODY, body, lookupComponent);
  return body as Record<string, unknown>;
}
