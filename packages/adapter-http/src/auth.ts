/**
 * The bearer token of write routes, compared in constant time (both sides hashed first, so the
 * comparison does not depend on where they differ nor on their lengths).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function tokenMatches(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

/** Throws 401 UNAUTHORIZED unless `authorization` is `Bearer <token>`; `why` says what the route does. */
export function checkBearer(authorization: string | undefined, token: string, why: string): void {
  if (authorization === undefined || authorization.trim() === '') {
    throw new HttpError('UNAUTHORIZED', `${why}: send Authorization: Bearer <token>`, { 'WWW-Authenticate': 'Bearer realm="sfm"' });
  }
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  // Compare even when the scheme is wrong, so both refusals take the same time.
  const ok = tokenMatches(m?.[1] ?? '', token) && m !== null;
  if (!ok) {
    throw new HttpError('UNAUTHORIZED', m ? 'the bearer token is not valid' : 'Authorization: expected "Bearer <token>"', {
      'WWW-Authenticate': 'Bearer realm="sfm", error="invalid_token"',
    });
  }
}
