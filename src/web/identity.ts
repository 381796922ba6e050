/**
 * @module Who is asking, for every HTTP route: the Authorization header (HTTP Basic with an app
 * password or, without a second factor, the account password; or a bearer token), or the
 * browser's session cookie. A cookie alone never authorizes a state-changing request: it must
 * come with the session's CSRF token in a header, from our own origin (ATTACKS.md WB-*).
 * Trust: headers and cookies are untrusted; they are only ever handed to the services to check.
 */
import { timingSafeEqual } from 'node:crypto';
import { randomId } from '../core/ids.ts';
import type { Ctx, Protocol, Services } from '../services/index.ts';

/** The session cookie. `__Host-` makes browsers require Secure, Path=/ and no Domain, so no
 * sibling host can set or overwrite it. */
export const SESSION_COOKIE = '__Host-portcullis';
/** The header carrying the CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

/** An authenticated caller. */
export interface Caller {
  ctx: Ctx;
  /** Set when the caller was identified by the session cookie. */
  session: { csrf: string; expiresAt: number } | null;
}

/** Methods that change nothing (RFC 9110 §9.2.1). */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session token in a Cookie header, if there is exactly one well-formed one. */
export function sessionToken(cookieHeader: string | null): string | null {
  if (!cookieHeader || cookieHeader.length > 8192) return null;
  const values = cookieHeader
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.startsWith(`${SESSION_COOKIE}=`))
    .map((p) => p.slice(SESSION_COOKIE.length + 1));
  return values.length === 1 && /^pcs_\d{1,15}_[a-z2-9]{32}$/.test(values[0]!) ? values[0]! : null;
}

/** The Set-Cookie value that starts a session, or (with token null) ends it. */
export function sessionCookie(token: string | null, maxAgeSeconds: number): string {
  const age = token === null ? 0 : Math.max(0, Math.floor(maxAgeSeconds));
  return `${SESSION_COOKIE}=${token ?? ''}; Path=/; Max-Age=${age}; HttpOnly; Secure; SameSite=Strict`;
}

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * True when a request may act with cookie credentials: a safe method, or the CSRF token in its
 * header, and no sign that a browser sent it from another site (Origin not ours,
 * Sec-Fetch-Site cross-site).
 */
export function sameOriginRequest(request: Request, ownOrigin: string, csrf: string | null): boolean {
  const origin = request.headers.get('origin');
  if (origin !== null && origin !== ownOrigin) return false;
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') return false;
  if (SAFE.has(request.method)) return true;
  const sent = request.headers.get(CSRF_HEADER);
  return csrf !== null && sent !== null && sameText(sent, csrf);
}

/**
 * Identifies the caller of a request for `protocol`: null when nobody is signed in, 'csrf' for a
 * valid session cookie on a request that failed the same-origin checks. `cookies` says whether the browser session
 * is accepted on this route; `headers` whether the Authorization header is.
 */
export async function identify(
  services: Pick<Services, 'directory' | 'signIn'>,
  request: Request,
  opts: {
    protocol: Protocol;
    remote: string;
    tls: string | null;
    ownOrigin: string;
    cookies: boolean;
    headers: boolean;
  },
): Promise<Caller | 'csrf' | 'throttled' | null> {
  const origin = {
    protocol: opts.protocol,
    remote: opts.remote,
    sessionId: randomId(8),
    tls: opts.tls,
    client: request.headers.get('user-agent'),
  };
  const header = request.headers.get('authorization');
  if (header !== null) {
    if (!opts.headers) return null;
    const basic = /^Basic ([A-Za-z0-9+/=]{1,2000})$/i.exec(header);
    if (basic) {
      const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon <= 0) return null;
      const r = await services.directory.authenticate(origin, text.slice(0, colon), text.slice(colon + 1));
      return r.ok ? { ctx: r.value, session: null } : r.error === 'throttled' ? 'throttled' : null;
    }
    const bearer = /^Bearer ([A-Za-z0-9._~+/-]{1,200}=*)$/i.exec(header);
    if (bearer) {
      const r = await services.directory.authenticateToken(origin, bearer[1]!);
      return r.ok ? { ctx: r.value, session: null } : r.error === 'throttled' ? 'throttled' : null;
    }
    return null;
  }
  if (!opts.cookies) return null;
  const token = sessionToken(request.headers.get('cookie'));
  if (token === null) return null;
  const r = await services.signIn.resume(origin, token);
  if (!r.ok) return null;
  if (!sameOriginRequest(request, opts.ownOrigin, r.value.csrf)) return 'csrf';
  return { ctx: r.value.ctx, session: { csrf: r.value.csrf, expiresAt: r.value.expiresAt } };
}
