/**
 * @module The HTTP application (Hono): security headers on every response, one canonical parse of
 * the path that routing and authorization both use, and the routes: JMAP (`/.well-known/jmap`,
 * `/jmap/...`), web sign-in and account security (`/auth/...`, account.ts) and client setup
 * documents (clients.ts).
 * Trust: everything in a request is untrusted. Identity comes only from credentials the
 * directory and sign-in services check (identity.ts: HTTP Basic, bearer tokens, or the session
 * cookie together with its CSRF token); no header, cookie or path segment routes a request or
 * names a user (ATTACKS.md R1, R3). Paths that are not already canonical are refused, not
 * repaired (R4, PX-04). Request bodies are bounded before they are parsed.
 */
import { type Context, Hono } from 'hono';
import type { Logger } from '../core/log.ts';
import { BUDGETED_BYTES, type MemoryBudget, UNBOUNDED_BUDGET } from '../core/memory-budget.ts';
import { handleDav } from '../protocols/dav/handler.ts';
import { jmapAccountId, type MethodContext, runRequest } from '../protocols/jmap/core/api.ts';
import {
  CAP_CORE,
  CAP_MAIL,
  CAP_SAFE_BODY,
  CAP_SUBMISSION,
  CAP_VACATION,
  CORE_LIMITS,
  jsonDepthWithin,
  MAX_JSON_DEPTH,
  parseRequest,
} from '../protocols/jmap/core/request.ts';
import { METHODS } from '../protocols/jmap/methods/index.ts';
import type { Ctx, Services } from '../services/index.ts';
import { addAccountRoutes } from './account.ts';
import { addClientSetupRoutes } from './clients.ts';
import { identify } from './identity.ts';
import { loadStaticFiles, type StaticFile, staticResponse, WEBMAIL_DIST } from './static.ts';

/** Dependencies of the web application. */
export interface WebDeps {
  services: Pick<
    Services,
    'directory' | 'mail' | 'calendars' | 'contacts' | 'inbox' | 'changes' | 'submission' | 'signIn' | 'images'
  >;
  log: Logger;
  /** This server's name. */
  hostname: string;
  /** Ports of the mail listeners that are on, for client autoconfiguration. */
  mailPorts: Partial<Record<'imap' | 'imaps' | 'submission' | 'submissions', number>>;
  /** Whether the listener speaks TLS (HSTS is sent only then). */
  secure: boolean;
  /** Base URL clients are told to use; empty: this listener's scheme and the request's Host. */
  publicUrl: string;
  /** The remote address of a request (from the socket, never from a header). */
  remoteOf(request: Request, env: unknown): string;
  /** The TLS version of the connection, null without TLS. */
  tlsOf(request: Request, env: unknown): string | null;
  /** The request target exactly as the client sent it (before any URL normalisation). */
  targetOf(request: Request, env: unknown): string;
  /** The process's memory budget for large request bodies (DS-06); unbounded when absent. */
  budget?: MemoryBudget;
  /** The webmail's files by path; by default those built into WEBMAIL_DIST, read at start. */
  webmail?: ReadonlyMap<string, StaticFile>;
}

/** Response headers every answer carries. */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/**
 * True when a request path is already in canonical form: absolute, ASCII, no empty, `.` or `..`
 * segment, no backslash, semicolon or NUL. `@` may appear as it is (DAV paths hold addresses, and
 * HTTP clients such as aiohttp decode `%40`). Percent-encoding is allowed only where it decodes to
 * valid UTF-8 that holds no `/`, `\`, control character or dot segment (a file name in a
 * download URL); every encoded traversal or overlong trick is refused (ATTACKS.md PX-04).
 */
export function canonicalPath(path: string): boolean {
  if (!path.startsWith('/') || path.length > 2048) return false;
  const segments = path.slice(1).split('/');
  return segments.every((s, i) => {
    if (s === '') return i === segments.length - 1;
    if (!/^(?:[A-Za-z0-9_.~@-]|%[0-9A-Fa-f]{2})+$/.test(s)) return false;
    let decoded: string;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      return false;
    }
    return decoded !== '.' && decoded !== '..' && !/[/\\\x00-\x1f\x7f]/.test(decoded);
  });
}

/** Largest DAV request body: an iCalendar object or an XML request. */
const DAV_MAX_BODY = 1024 * 1024 + 64 * 1024;

/** Event streams one account may hold open at once. */
const MAX_EVENT_STREAMS = 10;

/** A problem-details response (RFC 7807), as JMAP uses for request-level errors; a `limit` error
 * names the limit it hit (RFC 8620 §3.6.1). */
const problem = (status: number, type: string, detail: string, limit?: string): Response =>
  new Response(JSON.stringify({ type, status, detail, ...(limit ? { limit } : {}) }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  });

/** The answer to a body the memory budget has no room for now (DS-06). */
const busy = (): Response => {
  const r = problem(
    503,
    'urn:ietf:params:jmap:error:serverUnavailable',
    'the server is short of memory; try again shortly',
  );
  r.headers.set('Retry-After', '5');
  return r;
};

/** Builds the application. */
export function createWebApp(deps: WebDeps): Hono {
  const { services, log } = deps;
  const budget = deps.budget ?? UNBOUNDED_BUDGET;
  const app = new Hono();
  // Requests in progress per account (RFC 8620 maxConcurrentRequests).
  const inFlight = new Map<number, number>();

  app.use('*', async (c, next) => {
    // The path as sent: a URL parser would already have resolved `..` and decoded tricks away.
    const target = deps.targetOf(c.req.raw, c.env);
    const path = target.split('?', 1)[0]!;
    const encoding = c.req.header('content-encoding');
    if (!canonicalPath(path) || path !== new URL(c.req.url).pathname) {
      log.info(
        { remote: deps.remoteOf(c.req.raw, c.env), path: path.slice(0, 200) },
        'security.probe: non-canonical path',
      );
      c.res = new Response('Not Found', { status: 404 });
    } else if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      // Compressed request bodies are refused rather than inflated (no decompression bombs).
      c.res = new Response('Unsupported Media Type: no Content-Encoding', { status: 415 });
    } else await next();
    // Only the webmail's own files carry a policy and caching of their own (static.ts).
    const own = c.res.headers.has('content-security-policy');
    for (const [k, v] of Object.entries(SECURITY_HEADERS))
      if (!own || (k !== 'Content-Security-Policy' && k !== 'Cache-Control')) c.res.headers.set(k, v);
    if (deps.secure) c.res.headers.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  });

  /** The caller of a JMAP route (Authorization header or browser session), or a refusal. */
  async function authenticate(c: Context): Promise<Ctx | Response> {
    const r = await identify(services, c.req.raw, {
      protocol: 'jmap',
      remote: deps.remoteOf(c.req.raw, c.env),
      tls: deps.tlsOf(c.req.raw, c.env),
      ownOrigin: base(c.req.raw),
      cookies: true,
      headers: true,
    });
    if (r === 'csrf') return new Response('Forbidden: CSRF token missing or wrong', { status: 403 });
    if (r === 'throttled') return tooManyAttempts();
    if (r?.ctx.principal.kind !== 'account') return unauthorized();
    return r.ctx;
  }

  const tooManyAttempts = (): Response =>
    new Response('Too many failed sign-ins from this address; try again later', {
      status: 429,
      headers: { 'Retry-After': '60' },
    });

  const unauthorized = (): Response =>
    new Response('Unauthorized', {
      status: 401,
      headers: { 'WWW-Authenticate': 'Basic realm="Portcullis", charset="UTF-8"' },
    });

  const base = (request: Request): string => {
    if (deps.publicUrl) return deps.publicUrl.replace(/\/$/, '');
    const host = request.headers.get('host') ?? '';
    // Only a plain host[:port] is echoed back into the URLs the client is told to use.
    const safe = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host)
      ? host
      : 'localhost';
    return `${deps.secure ? 'https' : 'http'}://${safe}`;
  };

  const session = async (c: Context): Promise<Response> => {
    const ctx = await authenticate(c);
    if (ctx instanceof Response) return ctx;
    if (ctx.principal.kind !== 'account') return unauthorized();
    const request = c.req.raw;
    const state = await services.mail.highestModseq(ctx);
    const id = jmapAccountId(ctx.principal.accountId);
    const url = base(request);
    return Response.json({
      capabilities: {
        [CAP_CORE]: CORE_LIMITS,
        [CAP_MAIL]: {},
        [CAP_SUBMISSION]: {},
        [CAP_VACATION]: {},
        [CAP_SAFE_BODY]: {},
      },
      accounts: {
        [id]: {
          name: ctx.principal.address,
          isPersonal: true,
          isReadOnly: false,
          accountCapabilities: {
            [CAP_SUBMISSION]: { maxDelayedSend: 0, submissionExtensions: {} },
            [CAP_VACATION]: {},
            [CAP_MAIL]: {
              maxMailboxesPerEmail: null,
              maxMailboxDepth: null,
              maxSizeMailboxName: 255,
              maxSizeAttachmentsPerEmail: CORE_LIMITS.maxSizeUpload,
              emailQuerySortOptions: ['receivedAt', 'sentAt', 'size'],
              mayCreateTopLevelMailbox: true,
            },
          },
        },
      },
      primaryAccounts: { [CAP_MAIL]: id, [CAP_SUBMISSION]: id, [CAP_VACATION]: id },
      username: ctx.principal.address,
      apiUrl: `${url}/jmap/api`,
      downloadUrl: `${url}/jmap/download/{accountId}/{blobId}/{name}?type={type}`,
      uploadUrl: `${url}/jmap/upload/{accountId}`,
      eventSourceUrl: `${url}/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}`,
      state: state.ok ? String(state.value) : '0',
    });
  };
  app.get('/.well-known/jmap', (c) => session(c));
  app.get('/jmap/session', (c) => session(c));

  // CalDAV and CardDAV (RFC 4791, RFC 6352): discovery by well-known name (RFC 6764), then the
  // caller's own principal, calendars and address books under /dav, with Basic (a `dav` app password, or the password of
  // an account without a second factor) or a bearer token; never a browser cookie.
  app.on(
    ['GET', 'PROPFIND'],
    ['/.well-known/caldav', '/.well-known/carddav'],
    () => new Response(null, { status: 301, headers: { Location: '/dav/', 'Content-Length': '0' } }),
  );
  app.all('/dav/*', async (c) => {
    const r = await identify(services, c.req.raw, {
      protocol: 'dav',
      remote: deps.remoteOf(c.req.raw, c.env),
      tls: deps.tlsOf(c.req.raw, c.env),
      ownOrigin: base(c.req.raw),
      cookies: false,
      headers: true,
    });
    if (r === 'throttled') return tooManyAttempts();
    if (r === 'csrf' || r?.ctx.principal.kind !== 'account') return unauthorized();
    const read = await readBudgeted(c.req.raw, DAV_MAX_BODY, budget);
    if (read === 'busy') return busy();
    if (read === null) return new Response('Request body too large', { status: 413 });
    try {
      const path = deps.targetOf(c.req.raw, c.env).split('?', 1)[0]!;
      return await handleDav(services, r.ctx, c.req.raw, path, read.bytes.toString('utf8'));
    } finally {
      budget.give(read.held);
    }
  });

  app.post('/jmap/api', async (c) => {
    const ctx = await authenticate(c);
    if (ctx instanceof Response) return ctx;
    if (ctx.principal.kind !== 'account') return unauthorized();
    const accountId = ctx.principal.accountId;
    if ((inFlight.get(accountId) ?? 0) >= CORE_LIMITS.maxConcurrentRequests)
      return problem(
        429,
        'urn:ietf:params:jmap:error:limit',
        'too many concurrent requests (maxConcurrentRequests)',
        'maxConcurrentRequests',
      );
    inFlight.set(accountId, (inFlight.get(accountId) ?? 0) + 1);
    let held = 0;
    try {
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/json\b/i.test(type))
        return problem(
          400,
          'urn:ietf:params:jmap:error:notJSON',
          'the content type must be application/json',
        );
      const read = await readBudgeted(c.req.raw, CORE_LIMITS.maxSizeRequest, budget);
      if (read === 'busy') return busy();
      if (read === null)
        return problem(
          413,
          'urn:ietf:params:jmap:error:limit',
          `the request exceeds maxSizeRequest (${CORE_LIMITS.maxSizeRequest} bytes)`,
          'maxSizeRequest',
        );
      held = read.held;
      const text = read.bytes.toString('utf8');
      if (!jsonDepthWithin(text))
        return problem(
          400,
          'urn:ietf:params:jmap:error:limit',
          `nested deeper than ${MAX_JSON_DEPTH} levels`,
        );
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return problem(400, 'urn:ietf:params:jmap:error:notJSON', 'the request is not valid JSON');
      }
      const request = parseRequest(body);
      if (!request.ok)
        return problem(
          400,
          `urn:ietf:params:jmap:error:${request.error}`,
          request.detail ?? request.error,
          request.error === 'limit' ? 'maxCallsInRequest' : undefined,
        );
      const mc: MethodContext = {
        ctx,
        services,
        accountId: jmapAccountId(accountId),
        hostname: deps.hostname,
        secure: deps.secure,
        createdIds: new Map(Object.entries(request.value.createdIds ?? {})),
        followUps: [],
      };
      const methodResponses = await runRequest(request.value, mc, METHODS, log);
      const state = await services.mail.highestModseq(ctx);
      return Response.json({
        methodResponses,
        sessionState: state.ok ? String(state.value) : '0',
        ...(request.value.createdIds ? { createdIds: Object.fromEntries(mc.createdIds) } : {}),
      });
    } finally {
      budget.give(held);
      const n = (inFlight.get(accountId) ?? 1) - 1;
      if (n > 0) inFlight.set(accountId, n);
      else inFlight.delete(accountId);
    }
  });

  // Push (RFC 8620 §7.3): a StateChange event after every change to the account.
  const streams = new Map<number, number>();
  app.get('/jmap/eventsource', async (c) => {
    const ctx = await authenticate(c);
    if (ctx instanceof Response) return ctx;
    if (ctx.principal.kind !== 'account') return unauthorized();
    const accountId = ctx.principal.accountId;
    const params = new URL(c.req.url).searchParams;
    const types = (params.get('types') ?? '*').split(',');
    const known = [
      'Email',
      'Mailbox',
      'Thread',
      'EmailDelivery',
      'Identity',
      'EmailSubmission',
      'VacationResponse',
    ];
    if (!types.every((t) => t === '*' || known.includes(t)))
      return problem(400, 'urn:ietf:params:jmap:error:invalidArguments', 'unknown type in types');
    const closeAfter = params.get('closeafter') ?? 'no';
    const ping = Number(params.get('ping') ?? '0');
    if (!['state', 'no'].includes(closeAfter) || !Number.isSafeInteger(ping) || ping < 0 || ping > 3600)
      return problem(400, 'urn:ietf:params:jmap:error:invalidArguments', 'bad closeafter or ping');
    if ((streams.get(accountId) ?? 0) >= MAX_EVENT_STREAMS)
      return problem(
        429,
        'urn:ietf:params:jmap:error:limit',
        `at most ${MAX_EVENT_STREAMS} event streams per account`,
      );
    streams.set(accountId, (streams.get(accountId) ?? 0) + 1);
    const id = jmapAccountId(accountId);
    const encoder = new TextEncoder();
    let cleanup = (): void => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (text: string): void => {
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            cleanup();
          }
        };
        const unwatch = services.changes.watch(ctx, (modseq) => {
          const changed = Object.fromEntries(
            (types.includes('*') ? known : types).map((t) => [t, String(modseq)]),
          );
          send(
            `event: state\ndata: ${JSON.stringify({ '@type': 'StateChange', changed: { [id]: changed } })}\n\n`,
          );
          if (closeAfter === 'state') cleanup();
        });
        // The server may lengthen the ping interval; it never pings more often than every 10 s.
        const timer =
          ping > 0
            ? setInterval(
                () => send(`event: ping\ndata: {"interval":${Math.max(ping, 10)}}\n\n`),
                Math.max(ping, 10) * 1000,
              )
            : null;
        let done = false;
        cleanup = () => {
          if (done) return;
          done = true;
          unwatch?.();
          if (timer) clearInterval(timer);
          const n = (streams.get(accountId) ?? 1) - 1;
          if (n > 0) streams.set(accountId, n);
          else streams.delete(accountId);
          try {
            controller.close();
          } catch {}
        };
        c.req.raw.signal.addEventListener('abort', () => cleanup());
        send(': portcullis push\n\n');
      },
      cancel() {
        cleanup();
      },
    });
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } });
  });

  // Blob upload (RFC 8620 §6.1), bounded by maxSizeUpload and maxConcurrentUpload.
  const uploading = new Map<number, number>();
  app.post('/jmap/upload/:account', async (c) => {
    const ctx = await authenticate(c);
    if (ctx instanceof Response) return ctx;
    if (ctx.principal.kind !== 'account') return unauthorized();
    const accountId = ctx.principal.accountId;
    if (c.req.param('account') !== jmapAccountId(accountId))
      return new Response('Not Found', { status: 404 });
    if ((uploading.get(accountId) ?? 0) >= CORE_LIMITS.maxConcurrentUpload)
      return problem(
        429,
        'urn:ietf:params:jmap:error:limit',
        'too many uploads at once (maxConcurrentUpload)',
        'maxConcurrentUpload',
      );
    uploading.set(accountId, (uploading.get(accountId) ?? 0) + 1);
    let held = 0;
    try {
      const read = await readBudgeted(c.req.raw, CORE_LIMITS.maxSizeUpload, budget);
      if (read === 'busy') return busy();
      if (read === null)
        return problem(
          413,
          'urn:ietf:params:jmap:error:limit',
          `larger than maxSizeUpload (${CORE_LIMITS.maxSizeUpload} bytes)`,
          'maxSizeUpload',
        );
      held = read.held;
      const bytes = read.bytes;
      const asked = c.req.header('content-type') ?? '';
      const type = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}/.test(asked)
        ? asked.split(';', 1)[0]!.trim().toLowerCase()
        : 'application/octet-stream';
      const up = await services.mail.upload(ctx, bytes, type);
      if (!up.ok && up.error === 'storage-low')
        return problem(
          503,
          'urn:ietf:params:jmap:error:serverUnavailable',
          'server storage is low, try again later',
        );
      if (!up.ok) return new Response('Not Found', { status: 404 });
      return Response.json(
        { accountId: jmapAccountId(accountId), blobId: `u${up.value.id}`, type, size: up.value.size },
        { status: 201 },
      );
    } finally {
      budget.give(held);
      const n = (uploading.get(accountId) ?? 1) - 1;
      if (n > 0) uploading.set(accountId, n);
      else uploading.delete(accountId);
    }
  });

  // Blob download (RFC 8620 §6.2): a whole message (`b<id>`) or one part (`b<id>.<part>`),
  // always as an attachment so a browser never renders mail content in our origin.
  app.get('/jmap/download/:account/:blob/:name', async (c) => {
    const ctx = await authenticate(c);
    if (ctx instanceof Response) return ctx;
    if (ctx.principal.kind !== 'account') return unauthorized();
    if (c.req.param('account') !== jmapAccountId(ctx.principal.accountId))
      return new Response('Not Found', { status: 404 });
    const m = /^b([1-9]\d{0,14})(?:\.([1-9]\d{0,5}))?$/.exec(c.req.param('blob'));
    if (!m) return new Response('Not Found', { status: 404 });
    const bytes = await services.mail.readPart(ctx, Number(m[1]), m[2] ? Number(m[2]) : null);
    if (!bytes.ok) return new Response('Not Found', { status: 404 });
    const asked = c.req.query('type') ?? '';
    // Types a browser would run or render as a document are never sent as such (WB-03, WB-11).
    const type =
      /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}$/.test(asked) &&
      !/html|xml|svg|script/i.test(asked)
        ? asked
        : 'application/octet-stream';
    const name = c.req.param('name').slice(0, 200);
    return new Response(bytes.value, {
      headers: {
        'Content-Type': type,
        'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
        'Content-Length': String(bytes.value.length),
        'X-Download-Options': 'noopen',
      },
    });
  });

  // The webmail (webmail/), a single-page application that talks JMAP and /auth/ only.
  const webmail = deps.webmail ?? loadStaticFiles(WEBMAIL_DIST);
  for (const [path, file] of webmail) app.get(path, () => staticResponse(file));
  if (!webmail.has('/'))
    app.get(
      '/',
      () => new Response('The webmail is not built: run `npm run build:webmail`.', { status: 404 }),
    );

  addAccountRoutes(app, {
    services,
    remoteOf: deps.remoteOf,
    tlsOf: deps.tlsOf,
    ownOrigin: base,
    readBounded,
  });
  addClientSetupRoutes(app, {
    hostname: deps.hostname,
    mailPorts: deps.mailPorts,
    readBounded,
    signedIn: async (c) => {
      const r = await identify(services, c.req.raw, {
        protocol: 'web',
        remote: deps.remoteOf(c.req.raw, c.env),
        tls: deps.tlsOf(c.req.raw, c.env),
        ownOrigin: base(c.req.raw),
        cookies: true,
        headers: false,
      });
      return typeof r === 'string' || r === null ? null : r.ctx;
    },
  });

  // A path that exists answers other methods with 405, never with another handler (PX-05).
  const routes = app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({
      method: r.method,
      pattern: new RegExp(
        `^${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\/:[^/]+/g, '/[^/]+')}$`,
      ),
    }));
  app.notFound((c) => {
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    return allowed.length > 0
      ? new Response('Method Not Allowed', { status: 405, headers: { Allow: allowed.join(', ') } })
      : new Response('Not Found', { status: 404 });
  });
  app.onError((err) => {
    log.error({ err }, 'http request failed');
    return new Response('Internal Server Error', { status: 500 });
  });
  return app;
}

/** The body, or null when it is longer than `max` bytes (reading stops there). */
export async function readBounded(request: Request, max: number): Promise<Buffer | null> {
  const r = await readBudgeted(request, max, UNBOUNDED_BUDGET);
  if (r === null || r === 'busy') return null;
  UNBOUNDED_BUDGET.give(r.held);
  return r.bytes;
}

/**
 * The body, or null when it is longer than `max` bytes, or 'busy' when the memory budget has no
 * room for it (reading stops there, ATTACKS.md DS-06). A large body takes its bytes from the
 * budget as they arrive; the caller gives back `held` when it no longer needs them.
 */
export async function readBudgeted(
  request: Request,
  max: number,
  budget: MemoryBudget,
): Promise<{ bytes: Buffer; held: number } | null | 'busy'> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > max) return null;
  if (!request.body) return { bytes: Buffer.alloc(0), held: 0 };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let held = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    const owed = total >= BUDGETED_BYTES ? total - held : 0;
    if (total > max || (owed > 0 && !budget.take(owed))) {
      budget.give(held);
      await reader.cancel();
      return total > max ? null : 'busy';
    }
    held += owed;
    chunks.push(value);
  }
  return { bytes: Buffer.concat(chunks), held };
}
