/**
 * The served OpenAPI document as the contract tests hold the server to: every response a test
 * gets is checked against what the document declares for its request — the operation (by method
 * and path, /api/sfm prefix and aliases included), the status, the media type, the body (Ajv,
 * JSON Schema 2020-12, strict) and the values of the headers it declares. A request no operation
 * takes must be answered 404 with the NotFound response, as the document says.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Fixture, Reply } from '@sfm/test-support';

// ajv-formats is CommonJS: its default export is the function itself.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, any>;

/** What a test got: the request's method and URL path (with query), the response. */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  text: string;
}

const pointer = (parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export class Contract {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly operations: { method: string; template: string; re: RegExp }[] = [];
  /** The server URL that is a path prefix (servers other than "/"). */
  private readonly prefixes: string[];
  /** Operations answered 2xx so far, as "get /device/info" (the document's path). */
  readonly answered = new Set<string>();

  constructor(readonly doc: Json) {
    addFormats(this.ajv);
    // The document's own fields are not JSON Schema keywords; its schemas are checked strictly.
    this.ajv.addVocabulary(Object.keys(doc));
    this.ajv.addSchema(doc, 'openapi.json');
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i');
      for (const method of Object.keys(item)) this.operations.push({ method, template, re });
    }
    this.prefixes = (doc.servers as { url: string }[]).map((s) => s.url).filter((u) => u !== '/');
  }

  /** Every operation of the document, as "get /device/info". */
  get operationNames(): string[] {
    return this.operations.map((o) => `${o.method} ${o.template}`);
  }

  private validator(path: string[]): ValidateFunction {
    const v = this.ajv.getSchema(`openapi.json#/${pointer(path)}`);
    if (!v) throw new Error(`no schema at ${pointer(path)}`);
    return v;
  }

  private resolve(node: Json, at: string[]): { node: Json; at: string[] } {
    if (typeof node.$ref !== 'string') return { node, at };
    const parts = (node.$ref as string).replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    return this.resolve(parts.reduce<Json>((n, p) => n[p], this.doc), parts);
  }

  /** Where the document declares the answer to a request, or undefined when no operation takes it. */
  operation(method: string, urlPath: string): { template: string; method: string } | undefined {
    let path = urlPath.split(/[?#]/)[0]!;
    for (const prefix of this.prefixes) if (path.toLowerCase().startsWith(`${prefix.toLowerCase()}/`)) path = path.slice(prefix.length);
    const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
    return this.operations.find((o) => o.method === m && o.re.test(path));
  }

  /** What in a response the document does not declare; [] when it declares all of it. */
  problems(x: Exchange): string[] {
    const where = `${x.method} ${x.path.length > 120 ? `${x.path.slice(0, 117)}…` : x.path} → ${x.status}`;
    const op = this.operation(x.method, x.path);
    let response: { node: Json; at: string[] };
    if (!op) {
      // The document's rule for what no operation takes: 404 NOT_FOUND.
      if (x.status !== 404) return [`${where}: no operation takes this request, so it must be answered 404`];
      response = this.resolve({ $ref: '#/components/responses/NotFound' }, []);
    } else {
      if (x.status < 400) this.answered.add(`${op.method} ${op.template}`);
      const at = ['paths', op.template, op.method, 'responses'];
      const declared = this.resolve(this.doc.paths[op.template][op.method].responses, at).node;
      const status = String(x.status);
      if (!declared[status]) return [`${where}: status ${status} is not declared (declared: ${Object.keys(declared).join(', ')})`];
      response = this.resolve(declared[status], [...at, status]);
    }
    const out: string[] = [];
    for (const [name, h] of Object.entries((response.node.headers ?? {}) as Json)) {
      const value = x.headers.get(name);
      if (value === null) continue;
      const header = this.resolve(h as Json, [...response.at, 'headers', name]);
      const v = this.validator([...header.at, 'schema']);
      const typed = header.node.schema?.type === 'integer' && /^\d+$/.test(value) ? Number(value) : value;
      if (!v(typed)) out.push(`${where}: header ${name}: ${JSON.stringify(value)}: ${this.ajv.errorsText(v.errors, { dataVar: 'value' })}`);
    }
    const content = response.node.content as Json | undefined;
    const head = x.method.toUpperCase() === 'HEAD';
    if (!content) {
      if (x.text !== '') out.push(`${where}: the document declares no body, got ${JSON.stringify(x.text.slice(0, 80))}`);
      return out;
    }
    const type = (x.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!content[type]) return [...out, `${where}: media type ${JSON.stringify(type)} is not declared (declared: ${Object.keys(content).join(', ')})`];
    if (head) return out;
    let body: unknown = x.text;
    if (type === 'application/json' || type.endsWith('+json')) {
      try {
        body = JSON.parse(x.text);
      } catch {
        return [...out, `${where}: the body is not JSON: ${JSON.stringify(x.text.slice(0, 80))}`];
      }
    }
    const v = this.validator([...response.at, 'content', type, 'schema']);
    if (!v(body)) out.push(`${where}: ${this.ajv.errorsText(v.errors, { separator: '; ', dataVar: 'body' })}: ${x.text.slice(0, 200)}`);
    return out;
  }

  /** Throws naming what the document does not declare. */
  check(x: Exchange): void {
    const p = this.problems(x);
    if (p.length > 0) throw new Error(`the response is not what the OpenAPI document declares:\n${p.join('\n')}`);
  }
}

/** The contract of a running server: its own GET /openapi.json. */
export async function servedContract(url: string): Promise<Contract> {
  const r = await fetch(`${url}/openapi.json`);
  if (r.status !== 200) throw new Error(`GET /openapi.json: ${r.status}`);
  return new Contract((await r.json()) as Json);
}

/** The fixture's `call`, from now on checking every response against the served document. */
export async function checkResponses(f: Fixture): Promise<Contract> {
  const contract = await servedContract(f.url);
  const call = f.call;
  f.call = async (path, opts = {}): Promise<Reply> => {
    const r = await call(path, opts);
    contract.check({ method: opts.method ?? 'GET', path, status: r.status, headers: r.headers, text: r.text });
    return r;
  };
  return contract;
}
