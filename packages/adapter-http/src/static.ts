/**
 * The web application's files, served at / from the directory the executable names (the HTTP
 * front end does not know what is in it). Built files only: read once into memory, compressed as
 * the client accepts (each form kept), tagged, and cached by the browser as Vite names them —
 * files under assets/ carry a content hash in their name and never change (a year, immutable);
 * anything else (index.html) is revalidated on every load, so a new build is seen at once.
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import type { RequestHandler } from 'express';
import { Body, MIN_COMPRESSED_BYTES } from '@sfm/core/service';
import { encodedEtag, noneMatch } from './etag.js';
import { negotiateEncoding } from './reply.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Hashed by the build: the name changes when the content does. */
const IMMUTABLE = /^\/assets\//;

/**
 * The page may load only what the server serves (nothing from elsewhere: it works offline) and
 * talks only to this server. Charts set inline styles, hence 'unsafe-inline' for styles alone.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

interface StaticFile {
  body: Body;
  type: string;
  /** Strong, quoted: a hash of the bytes. */
  etag: string;
}

export function staticFiles(root: string): RequestHandler {
  let base: string;
  try {
    base = realpathSync(root);
  } catch {
    throw new Error(`the web application's directory ${root} does not exist (build it: pnpm build)`);
  }
  const files = new Map<string, StaticFile | null>();
  const load = (path: string): StaticFile | null => {
    if (files.has(path)) return files.get(path)!;
    let file: StaticFile | null = null;
    const type = TYPES[extname(path)];
    const full = join(base, path);
    // No way out of the directory: the path is resolved and must stay under it.
    let real: string | undefined;
    try {
      real = realpathSync(full);
    } catch {
      real = undefined;
    }
    if (type && real && real.startsWith(base + sep) && statSync(real).isFile()) {
      const bytes = readFileSync(real);
      file = { body: new Body(bytes), type, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"` };
    }
    files.set(path, file);
    return file;
  };

  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let path: string;
    try {
      path = decodeURIComponent(req.path);
    } catch {
      return next();
    }
    if (path === '/' || path === '') path = '/index.html';
    if (path.includes('\0') || path.split('/').includes('..')) return next();
    const file = load(path);
    if (!file) return next();
    const accepted = negotiateEncoding(req.headers['accept-encoding']);
    // Images are compressed already.
    const encoding = file.body.bytes().byteLength >= MIN_COMPRESSED_BYTES && !/^image\/(png|x-icon)/.test(file.type) ? accepted : undefined;
    res.setHeader('Cache-Control', IMMUTABLE.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    res.setHeader('Vary', 'Accept-Encoding');
    res.setHeader('ETag', encodedEtag(file.etag, encoding));
    if (file.type.startsWith('text/html')) {
      res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Referrer-Policy', 'no-referrer');
    }
    const inm = req.headers['if-none-match'];
    if (noneMatch(Array.isArray(inm) ? inm.join(',') : inm, file.etag)) {
      res.statusCode = 304;
      res.end();
      return;
    }
    const bytes = encoding ? file.body.encoded(encoding) : file.body.bytes();
    res.statusCode = 200;
    res.setHeader('Content-Type', file.type);
    if (encoding) res.setHeader('Content-Encoding', encoding);
    res.setHeader('Content-Length', String(bytes.byteLength));
    res.end(req.method === 'HEAD' ? undefined : bytes);
  };
}
