/**
 * The page's only way to sfm: the HTTP API, as any script would use it. Errors come back as the
 * API's { error: { code, message } }; a write refused for want of the token (401) asks for the
 * token once and is sent again with Authorization: Bearer (kept for this tab only).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'sfm.token';

/** Asks for the token (a dialog); resolves undefined when the person cancels. */
export type TokenPrompt = (why: string) => Promise<string | undefined>;
let promptForToken: TokenPrompt = async () => undefined;
export function setTokenPrompt(p: TokenPrompt): void {
  promptForToken = p;
}

function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function errorOf(r: Response): Promise<ApiError> {
  try {
    const body = (await r.json()) as { error?: { code?: string; message?: string } };
    return new ApiError(r.status, body.error?.code ?? 'HTTP', body.error?.message ?? r.statusText);
  } catch {
    return new ApiError(r.status, 'HTTP', `${r.status} ${r.statusText}`);
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
}

/** A request; the answer's JSON (or the Response itself with raw). */
export async function request(path: string, opts: RequestOptions = {}): Promise<Response> {
  const send = (bearer: string | null): Promise<Response> =>
    fetch(path, {
      method: opts.method ?? 'GET',
      headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), accept: 'application/json' },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  let r = await send(token());
  // A write without the token (or with a wrong one): ask, and send again until given or cancelled.
  while (r.status === 401) {
    const err = await errorOf(r);
    const given = await promptForToken(err.message);
    if (given === undefined) throw err;
    sessionStorage.setItem(TOKEN_KEY, given);
    r = await send(given);
  }
  if (!r.ok) throw await errorOf(r);
  return r;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await (await request(path, { signal })).json()) as T;
}

export async function sendJson<T>(method: string, path: string, body: unknown): Promise<T> {
  return (await (await request(path, { method, body })).json()) as T;
}

/** The server's OpenAPI document, fetched once: the forms read their fields and limits from it. */
let openApi: Promise<{ components: { schemas: Record<string, unknown> } }> | undefined;
export function openApiDocument(): Promise<{ components: { schemas: Record<string, unknown> } }> {
  return (openApi ??= getJson('/openapi.json'));
}

/** A cached route's answer with how it was served (X-Cache, Age, Warning). */
export interface Served<T> {
  value: T;
  cache: string | null;
  ageS: number | null;
  warning: string | null;
}

export async function getServed<T>(path: string, signal?: AbortSignal): Promise<Served<T>> {
  const r = await request(path, { signal });
  const age = r.headers.get('age');
  return { value: (await r.json()) as T, cache: r.headers.get('x-cache'), ageS: age === null ? null : Number(age), warning: r.headers.get('warning') };
}
