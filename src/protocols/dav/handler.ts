/**
 * @module CalDAV (RFC 4791) over WebDAV (RFC 4918), with sync-collection (RFC 6578) and the
 * principal properties clients use to find calendars (RFC 5397, RFC 3744 §5, RFC 6764). The
 * namespace is fixed: `/dav/principals/ADDRESS/`, the calendar home `/dav/calendars/ADDRESS/`,
 * a calendar `…/NAME/` and its objects `…/NAME/OBJECT`. The path is read once into those parts;
 * an address that is not the caller's own is answered 404 with no data whatever the method
 * (ATTACKS.md DV-05), and every read and write goes through the calendar service.
 * Bounds: XML bodies (xml.ts), hrefs per multiget (DV-03), Depth 0 or 1 only (DV-06); LOCK, ACL
 * and the like are 405 (DV-07).
 * Trust: the request is the client's; the caller's context was checked by the web layer.
 */
import type { Calendar, CalendarObject, Ctx, Services } from '../../services/index.ts';
import { child, children, DavXmlError, document, esc, NS, parseXml, qname, type XmlNode } from './xml.ts';

/** Most hrefs one calendar-multiget may name. */
const MAX_HREFS = 1000;
/** Methods served, for OPTIONS and 405 answers. */
const ALLOW = 'OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL';

/** What a path names. */
type Target =
  | { kind: 'root' }
  | { kind: 'principal' }
  | { kind: 'home' }
  | { kind: 'calendar'; calendar: string }
  | { kind: 'object'; calendar: string; object: string };

type Prop = { ns: string; name: string };

/** Answers one DAV request of an authenticated caller. */
export async function handleDav(
  services: Pick<Services, 'calendars'>,
  ctx: Ctx,
  request: Request,
  path: string,
  body: string,
): Promise<Response> {
  if (ctx.principal.kind !== 'account') return status(403);
  const me = ctx.principal.address;
  const target = parsePath(path, me);
  if (target === null) return status(404);
  const urls = {
    principal: `/dav/principals/${encodeURIComponent(me)}/`,
    home: `/dav/calendars/${encodeURIComponent(me)}/`,
    calendar: (name: string) => `/dav/calendars/${encodeURIComponent(me)}/${name}/`,
    object: (calendar: string, name: string) =>
      `/dav/calendars/${encodeURIComponent(me)}/${calendar}/${name}`,
  };
  const cal = services.calendars;
  const method = request.method.toUpperCase();
  // Only the WebDAV methods carry XML; a PUT carries iCalendar.
  let xml: XmlNode | null = null;
  if (['PROPFIND', 'PROPPATCH', 'REPORT', 'MKCALENDAR', 'MKCOL'].includes(method))
    try {
      xml = parseXml(body);
    } catch (err) {
      if (err instanceof DavXmlError) return text(400, err.message);
      throw err;
    }

  switch (method) {
    case 'OPTIONS':
      return new Response(null, {
        status: 200,
        headers: { DAV: '1, 3, calendar-access, extended-mkcol', Allow: ALLOW, 'Content-Length': '0' },
      });

    case 'PROPFIND': {
      const depth = request.headers.get('depth') ?? 'infinity';
      if (depth !== '0' && depth !== '1')
        return xmlResponse(403, document('error', '<d:propfind-finite-depth/>'));
      const asked = propRequest(xml);
      const responses: string[] = [];
      const add = (href: string, props: Map<string, string | null>) =>
        responses.push(propResponse(href, props, asked));
      if (target.kind === 'root') {
        add('/dav/', collectionProps(urls, 'Portcullis', '<d:collection/>'));
        if (depth === '1') add(urls.principal, principalProps(urls, me));
      } else if (target.kind === 'principal') {
        add(urls.principal, principalProps(urls, me));
      } else if (target.kind === 'home') {
        add(urls.home, collectionProps(urls, me, '<d:collection/>'));
        if (depth === '1') {
          const list = await cal.list(ctx);
          if (!list.ok) return status(403);
          for (const c of list.value) add(urls.calendar(c.name), calendarProps(urls, c));
        }
      } else if (target.kind === 'calendar') {
        const c = await cal.get(ctx, target.calendar);
        if (!c.ok) return status(404);
        add(urls.calendar(c.value.name), calendarProps(urls, c.value));
        if (depth === '1') {
          const objects = await cal.objects(ctx, c.value.name, 'all');
          if (!objects.ok) return status(404);
          for (const o of objects.value) add(urls.object(c.value.name, o.name), objectProps(o, asked));
        }
      } else {
        const objects = await cal.objects(ctx, target.calendar, { names: [target.object] });
        const o = objects.ok ? objects.value[0] : undefined;
        if (!o) return status(404);
        add(urls.object(target.calendar, o.name), objectProps(o, asked));
      }
      return multistatus(responses);
    }

    case 'PROPPATCH': {
      if (target.kind !== 'calendar') return status(403);
      const update = xml?.ns === NS.dav && xml.name === 'propertyupdate' ? xml : null;
      const props = children(update, NS.dav, 'set').flatMap((s) => child(s, NS.dav, 'prop')?.children ?? []);
      const removed = children(update, NS.dav, 'remove').flatMap(
        (s) => child(s, NS.dav, 'prop')?.children ?? [],
      );
      const patch = writableProps([...props, ...removed.map((p) => ({ ...p, text: '' }))]);
      const results = new Map<string, number>();
      for (const p of [...props, ...removed]) results.set(key(p), patch.keys.has(key(p)) ? 200 : 403);
      // RFC 4918 §9.2: all or nothing.
      const refused = [...results.values()].some((s) => s !== 200);
      if (!refused) {
        const r = await cal.update(ctx, target.calendar, patch.values);
        if (!r.ok) return r.error === 'not-found' ? status(404) : text(400, r.detail ?? r.error);
      }
      const inner = [...results.entries()]
        .map(([k, s]) => {
          const [ns, name] = splitKey(k);
          const q = qname(ns, name);
          const code = refused && s === 200 ? 424 : s;
          return `<d:propstat><d:prop><${q.tag}${q.decl}/></d:prop><d:status>HTTP/1.1 ${code} ${reason(code)}</d:status></d:propstat>`;
        })
        .join('');
      return multistatus([
        `<d:response><d:href>${esc(urls.calendar(target.calendar))}</d:href>${inner}</d:response>`,
      ]);
    }

    case 'MKCALENDAR':
    case 'MKCOL': {
      if (target.kind !== 'calendar') return status(target.kind === 'object' ? 409 : 405);
      // Extended MKCOL (RFC 5689) makes a calendar only when asked for one.
      const set = xml
        ? children(xml, NS.dav, 'set').flatMap((s) => child(s, NS.dav, 'prop')?.children ?? [])
        : [];
      if (method === 'MKCOL') {
        const type = set.find((p) => p.ns === NS.dav && p.name === 'resourcetype');
        if (!child(type, NS.caldav, 'calendar')) return status(403);
      }
      const compNames = set
        .filter((p) => p.ns === NS.caldav && p.name === 'supported-calendar-component-set')
        .flatMap((p) => children(p, NS.caldav, 'comp'));
      const patch = writableProps(set.filter((p) => !(p.ns === NS.dav && p.name === 'resourcetype')));
      const r = await cal.create(ctx, target.calendar, {
        ...patch.values,
        ...(compNames.length > 0 ? { components: compNames.map((c) => attr(c, 'name')) } : {}),
      });
      if (!r.ok) {
        if (r.error === 'exists') return status(405);
        if (r.error === 'invalid' || r.error === 'too-many') return text(403, r.detail ?? r.error);
        return status(403);
      }
      return new Response(null, { status: 201, headers: { 'Content-Length': '0' } });
    }

    case 'GET':
    case 'HEAD': {
      if (target.kind !== 'object') return status(target.kind === 'calendar' ? 405 : 404);
      const r = await cal.objects(ctx, target.calendar, { names: [target.object] });
      const o = r.ok ? r.value[0] : undefined;
      if (!o) return status(404);
      return new Response(method === 'HEAD' ? null : o.data, {
        status: 200,
        headers: { 'Content-Type': 'text/calendar; charset=utf-8', ETag: o.etag },
      });
    }

    case 'PUT': {
      if (target.kind !== 'object') return status(405);
      const type = request.headers.get('content-type') ?? '';
      if (!/^text\/calendar\b/i.test(type)) return text(415, 'only text/calendar is stored here');
      const ifMatch = request.headers.get('if-match') ?? undefined;
      const ifNoneMatch = request.headers.get('if-none-match') === '*';
      const r = await cal.put(ctx, target.calendar, target.object, body, {
        ...(ifMatch ? { ifMatch } : {}),
        ifNoneMatch,
      });
      if (!r.ok) {
        if (r.error === 'not-found') return status(409);
        if (r.error === 'precondition-failed') return status(412);
        if (r.error === 'uid-conflict') return xmlResponse(403, document('error', '<c:no-uid-conflict/>'));
        if (r.error === 'too-many') return text(507, r.detail ?? r.error);
        return xmlResponse(
          403,
          document(
            'error',
            `<c:valid-calendar-data/><d:responsedescription>${esc(r.detail ?? r.error)}</d:responsedescription>`,
          ),
        );
      }
      return new Response(null, {
        status: r.value.created ? 201 : 204,
        headers: { ETag: r.value.object.etag, 'Content-Length': '0' },
      });
    }

    case 'DELETE': {
      if (target.kind === 'calendar') {
        const r = await cal.remove(ctx, target.calendar);
        return r.ok ? status(204) : status(404);
      }
      if (target.kind !== 'object') return status(403);
      const ifMatch = request.headers.get('if-match') ?? undefined;
      const r = await cal.removeObject(ctx, target.calendar, target.object, ifMatch);
      if (r.ok) return status(204);
      return status(r.error === 'precondition-failed' ? 412 : 404);
    }

    case 'REPORT': {
      if (!xml) return text(400, 'REPORT needs a body');
      if (target.kind !== 'calendar') return status(target.kind === 'object' ? 403 : 404);
      const asked = propRequest(xml);
      const c = await cal.get(ctx, target.calendar);
      if (!c.ok) return status(404);
      if (xml.ns === NS.caldav && xml.name === 'calendar-multiget') {
        const hrefs = children(xml, NS.dav, 'href').map((h) => h.text.trim());
        if (hrefs.length > MAX_HREFS) return text(403, `at most ${MAX_HREFS} hrefs`);
        const names = new Map<string, string>();
        for (const h of hrefs) {
          const name = objectName(h, me, target.calendar);
          if (name !== null) names.set(name, h);
        }
        const r = await cal.objects(ctx, target.calendar, { names: [...names.keys()] });
        if (!r.ok) return status(404);
        const found = new Map(r.value.map((o) => [o.name, o]));
        return multistatus(
          hrefs.map((h) => {
            const name = objectName(h, me, target.calendar);
            const o = name === null ? undefined : found.get(name);
            // Each answer carries the href as it was asked for, so the client can match it.
            return o
              ? propResponse(h, objectProps(o, asked), asked)
              : `<d:response><d:href>${esc(h)}</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>`;
          }),
        );
      }
      if (xml.ns === NS.caldav && xml.name === 'calendar-query') {
        const range = timeRange(child(xml, NS.caldav, 'filter'));
        if (range === 'invalid') return xmlResponse(403, document('error', '<c:valid-filter/>'));
        const r = await cal.objects(ctx, target.calendar, range ? { range } : 'all');
        if (!r.ok) {
          if (r.error === 'invalid') return text(403, r.detail ?? r.error);
          return r.error === 'too-many' ? text(503, r.detail ?? r.error) : status(404);
        }
        const wanted = componentFilter(child(xml, NS.caldav, 'filter'));
        return multistatus(
          r.value
            .filter((o) => wanted === null || o.component === wanted)
            .map((o) => propResponse(urls.object(target.calendar, o.name), objectProps(o, asked), asked)),
        );
      }
      if (xml.ns === NS.dav && xml.name === 'sync-collection') {
        const token = child(xml, NS.dav, 'sync-token')?.text.trim() ?? '';
        const since = token === '' ? 0 : tokenValue(token);
        if (since === null) return xmlResponse(403, document('error', '<d:valid-sync-token/>'));
        const r = await cal.changesSince(ctx, target.calendar, since);
        if (!r.ok) return xmlResponse(403, document('error', '<d:valid-sync-token/>'));
        const responses = [
          ...r.value.changed.map((o) =>
            propResponse(urls.object(target.calendar, o.name), objectProps(o, asked), asked),
          ),
          ...(since === 0
            ? []
            : r.value.removed.map(
                (n) =>
                  `<d:response><d:href>${esc(urls.object(target.calendar, n))}</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>`,
              )),
        ];
        return multistatus(responses, `<d:sync-token>${esc(syncToken(r.value.token))}</d:sync-token>`);
      }
      return xmlResponse(403, document('error', '<d:supported-report/>'));
    }

    default:
      return new Response('Method Not Allowed', { status: 405, headers: { Allow: ALLOW } });
  }
}

/** Reads a path under /dav into what it names; null when it names nothing of the caller's. */
function parsePath(path: string, me: string): Target | null {
  const parts = path.split('/').slice(1);
  if (parts[0] !== 'dav') return null;
  if (parts[parts.length - 1] === '') parts.pop();
  const rest = parts.slice(1).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return null;
    }
  });
  if (rest.some((p) => p === null)) return null;
  const [kind, owner, calendar, object, ...more] = rest as string[];
  if (kind === undefined) return { kind: 'root' };
  // Another account's address is answered as if nothing were there (DV-05).
  if (owner === undefined || owner.toLowerCase() !== me.toLowerCase() || more.length > 0) return null;
  if (kind === 'principals') return calendar === undefined ? { kind: 'principal' } : null;
  if (kind !== 'calendars') return null;
  if (calendar === undefined) return { kind: 'home' };
  if (object === undefined) return { kind: 'calendar', calendar };
  return { kind: 'object', calendar, object };
}

/**
 * The object an href names within the caller's calendar `calendar`, or null. The href is read
 * like a request path (percent-encoding undone per segment, so `%40` and `@` are the same), and
 * must name exactly that calendar's member: `..`, encoded slashes or another owner name nothing
 * (ATTACKS.md DV-04).
 */
function objectName(href: string, me: string, calendar: string): string | null {
  let path = href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(href)) {
    try {
      path = new URL(href).pathname;
    } catch {
      return null;
    }
  }
  const target = parsePath(path, me);
  return target?.kind === 'object' &&
    target.calendar === calendar &&
    !target.object.includes('/') &&
    target.object !== '.' &&
    target.object !== '..'
    ? target.object
    : null;
}

/** The properties a PROPFIND or REPORT asks for: a list, or everything (allprop or no body). */
function propRequest(xml: XmlNode | null): Prop[] | 'all' | 'names' {
  if (!xml) return 'all';
  if (child(xml, NS.dav, 'propname')) return 'names';
  const prop = child(xml, NS.dav, 'prop');
  if (!prop) return 'all';
  return prop.children.map((p) => ({ ns: p.ns, name: p.name }));
}

const key = (p: Prop): string => `${p.ns}\u0000${p.name}`;
const splitKey = (k: string): [string, string] => k.split('\u0000') as [string, string];

/** Property values by key; null: known but empty. */
function props(list: [string, string, string | null][]): Map<string, string | null> {
  return new Map(list.map(([ns, name, value]) => [key({ ns, name }), value]));
}

function principalProps(urls: { principal: string; home: string }, me: string): Map<string, string | null> {
  return props([
    [NS.dav, 'resourcetype', '<d:principal/>'],
    [NS.dav, 'displayname', esc(me)],
    [NS.dav, 'current-user-principal', `<d:href>${esc(urls.principal)}</d:href>`],
    [NS.dav, 'principal-URL', `<d:href>${esc(urls.principal)}</d:href>`],
    [NS.caldav, 'calendar-home-set', `<d:href>${esc(urls.home)}</d:href>`],
    [NS.caldav, 'calendar-user-address-set', `<d:href>mailto:${esc(me)}</d:href>`],
    [NS.dav, 'supported-report-set', ''],
  ]);
}

function collectionProps(
  urls: { principal: string; home: string },
  name: string,
  type: string,
): Map<string, string | null> {
  return props([
    [NS.dav, 'resourcetype', type],
    [NS.dav, 'displayname', esc(name)],
    [NS.dav, 'current-user-principal', `<d:href>${esc(urls.principal)}</d:href>`],
    [NS.dav, 'owner', `<d:href>${esc(urls.principal)}</d:href>`],
    [NS.caldav, 'calendar-home-set', `<d:href>${esc(urls.home)}</d:href>`],
    [NS.dav, 'current-user-privilege-set', PRIVILEGES],
  ]);
}

const PRIVILEGES =
  '<d:privilege><d:read/></d:privilege><d:privilege><d:write/></d:privilege><d:privilege><d:write-properties/></d:privilege><d:privilege><d:write-content/></d:privilege><d:privilege><d:bind/></d:privilege><d:privilege><d:unbind/></d:privilege><d:privilege><c:read-free-busy/></d:privilege>';

function calendarProps(urls: { principal: string; home: string }, c: Calendar): Map<string, string | null> {
  const comps = c.components
    .split(' ')
    .map((n) => `<c:comp name="${esc(n)}"/>`)
    .join('');
  return props([
    [NS.dav, 'resourcetype', '<d:collection/><c:calendar/>'],
    [NS.dav, 'displayname', esc(c.displayName)],
    [NS.caldav, 'calendar-description', esc(c.description)],
    [NS.apple, 'calendar-color', esc(c.color)],
    [NS.caldav, 'supported-calendar-component-set', comps],
    [NS.caldav, 'supported-calendar-data', '<c:calendar-data content-type="text/calendar" version="2.0"/>'],
    [NS.caldav, 'max-resource-size', String(1024 * 1024)],
    [NS.cs, 'getctag', esc(syncToken(c.modseq))],
    [NS.dav, 'sync-token', esc(syncToken(c.modseq))],
    [NS.dav, 'owner', `<d:href>${esc(urls.principal)}</d:href>`],
    [NS.dav, 'current-user-principal', `<d:href>${esc(urls.principal)}</d:href>`],
    [NS.dav, 'current-user-privilege-set', PRIVILEGES],
    [
      NS.dav,
      'supported-report-set',
      ['c:calendar-multiget', 'c:calendar-query', 'd:sync-collection']
        .map((r) => `<d:supported-report><d:report><${r}/></d:report></d:supported-report>`)
        .join(''),
    ],
  ]);
}

function objectProps(o: CalendarObject, asked: Prop[] | 'all' | 'names'): Map<string, string | null> {
  const wantsData =
    Array.isArray(asked) && asked.some((p) => p.ns === NS.caldav && p.name === 'calendar-data');
  return props([
    [NS.dav, 'resourcetype', ''],
    [NS.dav, 'getetag', esc(o.etag)],
    [NS.dav, 'getcontenttype', 'text/calendar; charset=utf-8; component=' + o.component.toLowerCase()],
    [NS.dav, 'getcontentlength', String(Buffer.byteLength(o.data))],
    ...(wantsData ? [[NS.caldav, 'calendar-data', esc(o.data)] as [string, string, string]] : []),
  ]);
}

/** One `<d:response>` with the asked properties found (200) and not found (404). */
function propResponse(
  href: string,
  values: Map<string, string | null>,
  asked: Prop[] | 'all' | 'names',
): string {
  const found: string[] = [];
  const missing: string[] = [];
  const list: Prop[] =
    asked === 'all' || asked === 'names'
      ? [...values.keys()].map((k) => {
          const [ns, name] = splitKey(k);
          return { ns, name };
        })
      : asked;
  for (const p of list) {
    const q = qname(p.ns, p.name);
    const v = values.get(key(p));
    if (v === undefined) missing.push(`<${q.tag}${q.decl}/>`);
    else if (asked === 'names' || v === null || v === '') found.push(`<${q.tag}${q.decl}/>`);
    else found.push(`<${q.tag}${q.decl}>${v}</${q.tag}>`);
  }
  const stat = (inner: string[], code: number) =>
    inner.length === 0
      ? ''
      : `<d:propstat><d:prop>${inner.join('')}</d:prop><d:status>HTTP/1.1 ${code} ${reason(code)}</d:status></d:propstat>`;
  return `<d:response><d:href>${esc(href)}</d:href>${stat(found, 200)}${stat(missing, 404)}</d:response>`;
}

/** Calendar properties a client may set, and the patch they make. */
function writableProps(list: XmlNode[]): {
  keys: Set<string>;
  values: { displayName?: string; description?: string; color?: string };
} {
  const keys = new Set<string>();
  const values: { displayName?: string; description?: string; color?: string } = {};
  for (const p of list) {
    if (p.ns === NS.dav && p.name === 'displayname') values.displayName = p.text.trim();
    else if (p.ns === NS.caldav && p.name === 'calendar-description') values.description = p.text;
    else if (p.ns === NS.apple && p.name === 'calendar-color') values.color = p.text.trim();
    else if (p.ns === NS.caldav && p.name === 'supported-calendar-component-set') {
      // Fixed once the calendar exists; accepted at creation.
    } else continue;
    keys.add(key(p));
  }
  return { keys, values };
}

/** The time range of a calendar-query filter (null: none; 'invalid': unreadable). */
function timeRange(filter: XmlNode | undefined): { start: number; end: number } | null | 'invalid' {
  let found: XmlNode | undefined;
  const walk = (n: XmlNode): void => {
    for (const c of n.children) {
      if (c.ns === NS.caldav && c.name === 'time-range') found ??= c;
      else walk(c);
    }
  };
  if (!filter) return null;
  walk(filter);
  if (!found) return null;
  const start = attr(found, 'start');
  const end = attr(found, 'end');
  const parse = (v: string, otherwise: number) => {
    if (v === '') return otherwise;
    const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(v);
    return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
  };
  const s = parse(start, Date.UTC(1900, 0, 1));
  const e = parse(end, Date.UTC(2100, 0, 1));
  return Number.isNaN(s) || Number.isNaN(e) ? 'invalid' : { start: s, end: e };
}

/** The component a calendar-query asks for (VCALENDAR > VEVENT…), null for any. */
function componentFilter(filter: XmlNode | undefined): string | null {
  const top = child(filter, NS.caldav, 'comp-filter');
  const inner = child(top, NS.caldav, 'comp-filter');
  return inner ? attr(inner, 'name').toUpperCase() || null : null;
}

function attr(node: XmlNode, name: string): string {
  return node.attrs[name] ?? '';
}

const syncToken = (modseq: number): string => `urn:portcullis:sync:${modseq}`;
function tokenValue(token: string): number | null {
  const m = /^urn:portcullis:sync:(\d{1,15})$/.exec(token);
  return m ? Number(m[1]) : null;
}

function reason(code: number): string {
  return (
    ({ 200: 'OK', 403: 'Forbidden', 404: 'Not Found', 424: 'Failed Dependency' } as Record<number, string>)[
      code
    ] ?? ''
  );
}

function multistatus(responses: string[], extra = ''): Response {
  return xmlResponse(207, document('multistatus', responses.join('') + extra));
}

function xmlResponse(code: number, body: string): Response {
  return new Response(body, { status: code, headers: { 'Content-Type': 'application/xml; charset=utf-8' } });
}

function status(code: number): Response {
  return new Response(null, { status: code, headers: { 'Content-Length': '0' } });
}

function text(code: number, message: string): Response {
  return new Response(message, { status: code, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}
