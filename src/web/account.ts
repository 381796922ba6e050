/**
 * @module Web sign-in and the account's own security settings, as a JSON API under `/auth/`:
 * sign in (password, then a TOTP or recovery code when enrolled), sign out, the session list,
 * password change, TOTP enrolment and removal, app passwords and bearer tokens. Everything here
 * works only with the browser session (cookie + CSRF token); credential changes take the
 * password again (fresh authentication), checked by the services.
 * Trust: bodies are untrusted JSON, bounded in size and checked field by field.
 */
import type { Context, Hono } from 'hono';
import type { Services } from '../services/index.ts';
import { type Caller, identify, sessionCookie } from './identity.ts';

/** What the account routes need from the application. */
export interface AccountRouteDeps {
  services: Pick<Services, 'directory' | 'signIn'>;
  remoteOf(request: Request, env: unknown): string;
  tlsOf(request: Request, env: unknown): string | null;
  ownOrigin(request: Request): string;
  readBounded(request: Request, max: number): Promise<Buffer | null>;
}

const MAX_BODY = 16 * 1024;

const error = (status: number, code: string, detail?: string): Response =>
  Response.json({ error: code, ...(detail ? { detail } : {}) }, { status });

/** The answer while the throttle refuses sign-ins from this address (ATTACKS.md AU-02). */
const throttled = (): Response =>
  Response.json(
    { error: 'throttled', detail: 'too many failed sign-ins; try again later' },
    { status: 429, headers: { 'Retry-After': '60' } },
  );

/** HTTP status for a service error. */
const STATUS: Record<string, number> = {
  invalid: 400,
  'second-factor': 401,
  stale: 403,
  forbidden: 403,
  'not-found': 404,
  exists: 409,
};

const fromService = (r: { error: string; detail?: string }): Response =>
  error(STATUS[r.error] ?? 400, r.error, r.detail);

/** A JSON object body with string fields no longer than `max`, or a response saying why not. */
async function jsonBody(
  deps: AccountRouteDeps,
  request: Request,
): Promise<Record<string, unknown> | Response> {
  if (!/^application\/json\b/i.test(request.headers.get('content-type') ?? ''))
    return error(415, 'invalid', 'the body must be application/json');
  const bytes = await deps.readBounded(request, MAX_BODY);
  if (bytes === null) return error(413, 'invalid', `the body exceeds ${MAX_BODY} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    return error(400, 'invalid', 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return error(400, 'invalid', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** A string field of at most `max` characters; undefined when absent; null when malformed. */
function field(body: Record<string, unknown>, name: string, max = 1024): string | undefined | null {
  const v = body[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' && v.length <= max ? v : null;
}

/** Adds the `/auth/` routes to the application. */
export function addAccountRoutes(app: Hono, deps: AccountRouteDeps): void {
  const { services } = deps;

  /** The signed-in browser session of a request, or the response refusing it. */
  const caller = async (c: Context): Promise<Caller | Response> => {
    const r = await identify(services, c.req.raw, {
      protocol: 'web',
      remote: deps.remoteOf(c.req.raw, c.env),
      tls: deps.tlsOf(c.req.raw, c.env),
      ownOrigin: deps.ownOrigin(c.req.raw),
      cookies: true,
      headers: false,
    });
    if (r === 'csrf') return error(403, 'csrf', 'missing or wrong CSRF token, or a cross-site request');
    if (r === 'throttled') return throttled();
    return r ?? error(401, 'unauthenticated');
  };

  /** The caller's context after fresh authentication when the body carries the password;
   * otherwise as it is (the services refuse it with `stale` when it is not fresh). */
  const freshen = async (who: Caller, body: Record<string, unknown>) => {
    const password = field(body, 'password');
    const code = field(body, 'code', 64);
    if (password === null || code === null) return error(400, 'invalid', 'password and code must be strings');
    if (password === undefined) return who.ctx;
    const r = await services.signIn.reauthenticate(who.ctx, password, code);
    if (!r.ok && r.error === 'throttled') return throttled();
    return r.ok ? r.value : error(r.error === 'forbidden' ? 403 : 401, r.error);
  };

  app.post('/auth/login', async (c) => {
    const request = c.req.raw;
    // A cross-site page must not sign the browser in to an account of the attacker's choosing.
    const origin = request.headers.get('origin');
    if (origin !== null && origin !== deps.ownOrigin(request))
      return error(403, 'csrf', 'cross-site sign-in');
    const body = await jsonBody(deps, request);
    if (body instanceof Response) return body;
    const username = field(body, 'username', 320);
    const password = field(body, 'password');
    const code = field(body, 'code', 64);
    if (!username || !password || code === null)
      return error(400, 'invalid', 'username and password are required strings');
    const r = await services.signIn.signIn(
      {
        protocol: 'web',
        remote: deps.remoteOf(request, c.env),
        sessionId: 'signin',
        tls: deps.tlsOf(request, c.env),
        client: request.headers.get('user-agent'),
      },
      request.headers.get('user-agent') ?? '',
      username,
      password,
      code,
    );
    if (!r.ok) return r.error === 'throttled' ? throttled() : error(401, r.error);
    const principal = r.value.ctx.principal;
    return Response.json(
      {
        username: principal.kind === 'account' ? principal.address : '',
        csrfToken: r.value.csrf,
        expiresAt: new Date(r.value.expiresAt).toISOString(),
      },
      { headers: { 'Set-Cookie': sessionCookie(r.value.token, (r.value.expiresAt - Date.now()) / 1000) } },
    );
  });

  app.post('/auth/logout', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    await services.signIn.signOut(who.ctx);
    return new Response(null, { status: 204, headers: { 'Set-Cookie': sessionCookie(null, 0) } });
  });

  // The current session: lets a reloaded page learn its CSRF token again.
  app.get('/auth/session', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const totp = await services.signIn.totpStatus(who.ctx);
    const p = who.ctx.principal;
    return Response.json({
      username: p.kind === 'account' ? p.address : '',
      csrfToken: who.session?.csrf ?? '',
      expiresAt: new Date(who.session?.expiresAt ?? 0).toISOString(),
      totp: totp.ok ? totp.value : null,
    });
  });

  app.get('/auth/sessions', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const r = await services.signIn.listSessions(who.ctx);
    return r.ok ? Response.json({ sessions: r.value }) : fromService(r);
  });

  app.delete('/auth/sessions/:id', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const id = c.req.param('id');
    if (!/^[a-z2-7]{1,32}$/.test(id)) return error(404, 'not-found');
    const r = await services.signIn.revokeSession(who.ctx, id);
    return r.ok ? new Response(null, { status: 204 }) : fromService(r);
  });

  app.post('/auth/password', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const body = await jsonBody(deps, c.req.raw);
    if (body instanceof Response) return body;
    const next = field(body, 'newPassword');
    if (!next || field(body, 'password') === undefined)
      return error(400, 'invalid', 'password (the current one) and newPassword are required');
    const ctx = await freshen(who, body);
    if (ctx instanceof Response) return ctx;
    const p = ctx.principal;
    if (p.kind !== 'account') return error(403, 'forbidden');
    const r = await services.directory.setPassword(ctx, p.address, next);
    return r.ok ? new Response(null, { status: 204 }) : fromService(r);
  });

  app.post('/auth/totp', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const body = await jsonBody(deps, c.req.raw);
    if (body instanceof Response) return body;
    const ctx = await freshen(who, body);
    if (ctx instanceof Response) return ctx;
    const r = await services.signIn.beginTotp(ctx);
    return r.ok ? Response.json(r.value) : fromService(r);
  });

  app.post('/auth/totp/confirm', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const body = await jsonBody(deps, c.req.raw);
    if (body instanceof Response) return body;
    const code = field(body, 'code', 64);
    if (!code) return error(400, 'invalid', 'code is required');
    const r = await services.signIn.confirmTotp(who.ctx, code);
    return r.ok ? Response.json(r.value) : fromService(r);
  });

  app.post('/auth/totp/remove', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const body = await jsonBody(deps, c.req.raw);
    if (body instanceof Response) return body;
    const ctx = await freshen(who, body);
    if (ctx instanceof Response) return ctx;
    const r = await services.signIn.removeTotp(ctx);
    return r.ok ? new Response(null, { status: 204 }) : fromService(r);
  });

  app.get('/auth/app-passwords', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const p = who.ctx.principal;
    if (p.kind !== 'account') return error(403, 'forbidden');
    const r = await services.directory.listAppPasswords(who.ctx, p.address);
    return r.ok ? Response.json({ appPasswords: r.value }) : fromService(r);
  });

  app.post('/auth/app-passwords', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const body = await jsonBody(deps, c.req.raw);
    if (body instanceof Response) return body;
    const label = field(body, 'label', 100);
    const scopes = body['scopes'];
    const days = body['expiresInDays'];
    if (
      !label ||
      !Array.isArray(scopes) ||
      scopes.length > 8 ||
      !scopes.every((s) => typeof s === 'string') ||
      (days !== undefined &&
        days !== null &&
        !(Number.isSafeInteger(days) && (days as number) > 0 && (days as number) <= 3650)) ||
      (body['bearer'] !== undefined && typeof body['bearer'] !== 'boolean')
    )
      return error(
        400,
        'invalid',
        'label, scopes (array), expiresInDays (1–3650) and bearer (boolean) are expected',
      );
    const ctx = await freshen(who, body);
    if (ctx instanceof Response) return ctx;
    const p = ctx.principal;
    if (p.kind !== 'account') return error(403, 'forbidden');
    const r = await services.directory.addAppPassword(ctx, p.address, {
      label,
      scopes: scopes as string[],
      expiresAt: typeof days === 'number' ? Date.now() + days * 86_400_000 : null,
      kind: body['bearer'] === true ? 'token' : 'app',
    });
    return r.ok ? Response.json(r.value, { status: 201 }) : fromService(r);
  });

  app.get('/auth/forwarding', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const p = who.ctx.principal;
    if (p.kind !== 'account') return error(403, 'forbidden');
    const r = await services.directory.getForwarding(who.ctx, p.address);
    return r.ok ? Response.json(r.value ?? { targets: [], keepCopy: true }) : fromService(r);
  });

  // Sets forwarding ({targets: [], ...} turns it off); needs fresh authentication.
  app.put('/auth/forwarding', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const body = await jsonBody(deps, c.req.raw);
    if (body instanceof Response) return body;
    const targets = body['targets'];
    if (
      !Array.isArray(targets) ||
      targets.length > 50 ||
      !targets.every((t) => typeof t === 'string' && t.length <= 320) ||
      typeof body['keepCopy'] !== 'boolean'
    )
      return error(400, 'invalid', 'targets (array of addresses) and keepCopy (boolean) are expected');
    const ctx = await freshen(who, body);
    if (ctx instanceof Response) return ctx;
    const p = ctx.principal;
    if (p.kind !== 'account') return error(403, 'forbidden');
    const r = await services.directory.setForwarding(
      ctx,
      p.address,
      targets.length > 0 ? { targets: targets as string[], keepCopy: body['keepCopy'] } : null,
    );
    return r.ok ? new Response(null, { status: 204 }) : fromService(r);
  });

  app.delete('/auth/app-passwords/:id', async (c) => {
    const who = await caller(c);
    if (who instanceof Response) return who;
    const p = who.ctx.principal;
    if (p.kind !== 'account') return error(403, 'forbidden');
    const id = c.req.param('id');
    if (!/^[a-z2-7]{1,32}$/.test(id)) return error(404, 'not-found');
    const r = await services.directory.removeAppPassword(who.ctx, p.address, id);
    return r.ok ? new Response(null, { status: 204 }) : fromService(r);
  });
}
