/**
 * @module CalDAV (RFC 4791) and CardDAV (RFC 6352) over WebDAV (RFC 4918), with sync-collection
 * (RFC 6578) and the principal properties clients use to find their collections (RFC 5397,
 * RFC 3744 §5, RFC 6764). The namespace is fixed: `/dav/principals/ADDRESS/`, the homes
 * `/dav/calendars/ADDRESS/` and `/dav/addressbooks/ADDRESS/`, a collection `…/NAME/` and its
 * objects `…/NAME/OBJECT`. The path is read once into those parts; an address that is not the
 * caller's own is answered 404 with no data whatever the method (ATTACKS.md DV-05), and every
 * read and write goes through the calendar or contacts service.
 * Bounds: XML bodies (xml.ts), hrefs per multiget (DV-03), Depth 0 or 1 only (DV-06); LOCK, ACL,
 * COPY and the like are 405 (DV-07); a MOVE stays within the caller's home of one kind.
 * Trust: the request is the client's; the caller's context was checked by the web layer.
 */

import { freeBusyRequest } from '../../calendar/itip.ts';
import type { Ctx, DavObject, Services } from '../../services/index.ts';
import { cardQuery, componentFilter, rangeOf, timeRange } from './filters.ts';
import {
  collectionProps,
  key,
  objectProps,
  outboxProps,
  plainCollectionProps,
  principalProps,
  propRequest,
  propResponse,
  splitKey,
  statusLine,
  statusResponse,
  syncToken,
  tokenValue,
  type Urls,
  writableProps,
} from './props.ts';
import { child, children, DavXmlError, document, esc, NS, parseXml, qname, type XmlNode } from './xml.ts';

/** Most hrefs one multiget may name. */
const MAX_HREFS = 1000;
/** Methods served, for OPTIONS and 405 answers. */
const ALLOW = 'OPTIONS, GET, HEAD, PUT, DELETE, MOVE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL, POST';

/** The kinds of collection, with the path segment and media type of each. The schedule inbox is
 * one collection per account, at `/dav/inbox/ADDRESS/` with its messages below it. */
type Space = 'calendar' | 'addressbook' | 'inbox';
const SPACES = {
  calendar: { segment: 'calendars', media: /^text\/calendar\b/i, type: 'text/calendar; charset=utf-8' },
  addressbook: { segment: 'addressbooks', media: /^text\/(x-)?vcard\b/i, type: 'text/vcard; charset=utf-8' },
  inbox: { segment: 'inbox', media: /^text\/calendar\b/i, type: 'text/calendar; charset=utf-8' },
} as const;

/** What a path names. */
type Target =
  | { kind: 'root' }
  | { kind: 'principal' }
  | { kind: 'outbox' }
  | { kind: 'home'; space: Space }
  | { kind: 'collection'; space: Space; owner: string; collection: string }
  | { kind: 'object'; space: Space; owner: string; collection: string; object: string };

/** Answers one DAV request of an authenticated caller. */
export async function handleDav(
  services: Pick<Services, 'calendars' | 'contacts' | 'inbox'>,
  ctx: Ctx,
  request: Request,
  path: string,
  body: string,
): Promise<Response> {
  if (ctx.principal.kind !== 'account') return status(403);
  const me = ctx.principal.address;
  const target = parsePath(path, me);
  if (target === null) return status(404);
  const mine = encodeURIComponent(me);
  const urls: Urls = {
    principal: `/dav/principals/${mine}/`,
    outbox: `/dav/outbox/${mine}/`,
    inbox: `/dav/inbox/${mine}/`,
    calendars: `/dav/calendars/${mine}/`,
    addressbooks: `/dav/addressbooks/${mine}/`,
  };
  const homeOf = (space: Space, owner = me) => `/dav/${SPACES[space].segment}/${encodeURIComponent(owner)}/`;
  const collectionUrl = (space: Space, owner: string, name: string) =>
    space === 'inbox' ? homeOf(space, owner) : `${homeOf(space, owner)}${name}/`;
  const objectUrl = (space: Space, owner: string, collection: string, name: string) =>
    `${collectionUrl(space, owner, collection)}${name}`;
  /** The collection a target names, as the services take it. */
  const refOf = (t: { owner: string; collection: string }) => ({ owner: t.owner, name: t.collection });
  const serviceOf = (space: Space) =>
    space === 'calendar' ? services.calendars : space === 'addressbook' ? services.contacts : services.inbox;
  const method = request.method.toUpperCase();
  // Another owner's collection that is not shared with the caller is not there, whatever the method.
  if (
    (target.kind === 'collection' || target.kind === 'object') &&
    target.owner !== me &&
    !(await serviceOf(target.space).get(ctx, refOf(target))).ok
  )
    return status(404);
  // Only the WebDAV methods carry XML; a PUT carries iCalendar or a vCard.
  let xml: XmlNode | null = null;
  if (
    ['PROPFIND', 'PROPPATCH', 'REPORT', 'MKCALENDAR', 'MKCOL'].includes(method) ||
    (method === 'POST' && target.kind !== 'outbox')
  )
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
        headers: {
          DAV: '1, 3, calendar-access, calendar-auto-schedule, calendarserver-sharing, addressbook, extended-mkcol',
          Allow: ALLOW,
          'Content-Length': '0',
        },
      });

    case 'PROPFIND': {
      const depth = request.headers.get('depth') ?? 'infinity';
      if (depth !== '0' && depth !== '1')
        return xmlResponse(403, document('error', '<d:propfind-finite-depth/>'));
      const asked = propRequest(xml);
      const responses: string[] = [];
      const add = (url: string, values: Map<string, string>) =>
        responses.push(propResponse(url, values, asked));
      if (target.kind === 'root') {
        add('/dav/', plainCollectionProps(urls, 'Portcullis'));
        if (depth === '1') add(urls.principal, principalProps(urls, me));
      } else if (target.kind === 'principal') {
        add(urls.principal, principalProps(urls, me));
      } else if (target.kind === 'outbox') {
        add(urls.outbox, outboxProps(urls));
      } else if (target.kind === 'home') {
        add(homeOf(target.space), plainCollectionProps(urls, me));
        if (depth === '1') {
          const list = await serviceOf(target.space).list(ctx);
          if (!list.ok) return status(403);
          for (const v of list.value)
            add(collectionUrl(target.space, v.owner, v.collection.name), collectionProps(urls, v));
        }
      } else if (target.kind === 'collection') {
        const service = serviceOf(target.space);
        const c = await service.get(ctx, refOf(target));
        if (!c.ok) return status(404);
        add(collectionUrl(target.space, target.owner, target.collection), collectionProps(urls, c.value));
        if (depth === '1') {
          const objects = await service.objects(ctx, refOf(target), 'all');
          if (!objects.ok) return status(404);
          for (const o of objects.value)
            add(objectUrl(target.space, target.owner, target.collection, o.name), objectProps(o, asked));
        }
      } else {
        const objects = await serviceOf(target.space).objects(ctx, refOf(target), { names: [target.object] });
        const o = objects.ok ? objects.value[0] : undefined;
        if (!o) return status(404);
        add(objectUrl(target.space, target.owner, target.collection, o.name), objectProps(o, asked));
      }
      return multistatus(responses);
    }

    case 'PROPPATCH': {
      if (target.kind !== 'collection') return status(403);
      const update = xml?.ns === NS.dav && xml.name === 'propertyupdate' ? xml : null;
      const set = children(update, NS.dav, 'set').flatMap((s) => child(s, NS.dav, 'prop')?.children ?? []);
      const removed = children(update, NS.dav, 'remove').flatMap(
        (s) => child(s, NS.dav, 'prop')?.children ?? [],
      );
      const patch = writableProps([...set, ...removed.map((p) => ({ ...p, text: '' }))]);
      const results = new Map<string, number>();
      for (const p of [...set, ...removed]) results.set(key(p), patch.keys.has(key(p)) ? 200 : 403);
      // RFC 4918 §9.2: all or nothing.
      const refused = [...results.values()].some((s) => s !== 200);
      if (!refused) {
        const r = await serviceOf(target.space).update(ctx, refOf(target), patch.values);
        if (!r.ok) {
          if (r.error === 'forbidden') return needPrivileges();
          return r.error === 'not-found' ? status(404) : text(400, r.detail ?? r.error);
        }
      }
      const inner = [...results.entries()]
        .map(([k, s]) => {
          const p = splitKey(k);
          const q = qname(p.ns, p.name);
          const code = refused && s === 200 ? 424 : s;
          return `<d:propstat><d:prop><${q.tag}${q.decl}/></d:prop><d:status>${statusLine(code)}</d:status></d:propstat>`;
        })
        .join('');
      return multistatus([
        `<d:response><d:href>${esc(collectionUrl(target.space, target.owner, target.collection))}</d:href>${inner}</d:response>`,
      ]);
    }

    case 'MKCALENDAR':
    case 'MKCOL': {
      if (target.kind !== 'collection') return status(target.kind === 'object' ? 409 : 405);
      if (target.owner !== me) return status(404);
      // Extended MKCOL (RFC 5689) makes a calendar or an address book, each in its own home.
      const set = xml
        ? children(xml, NS.dav, 'set').flatMap((s) => child(s, NS.dav, 'prop')?.children ?? [])
        : [];
      const type = set.find((p) => p.ns === NS.dav && p.name === 'resourcetype');
      const wanted: Space | null =
        method === 'MKCALENDAR' || child(type, NS.caldav, 'calendar')
          ? 'calendar'
          : child(type, NS.carddav, 'addressbook')
            ? 'addressbook'
            : null;
      if (wanted !== target.space) return status(403);
      const compNames = set
        .filter((p) => p.ns === NS.caldav && p.name === 'supported-calendar-component-set')
        .flatMap((p) => children(p, NS.caldav, 'comp'));
      const patch = writableProps(set.filter((p) => !(p.ns === NS.dav && p.name === 'resourcetype')));
      const r = await serviceOf(target.space).create(ctx, target.collection, {
        ...patch.values,
        ...(compNames.length > 0 ? { components: compNames.map((c) => c.attrs['name'] ?? '') } : {}),
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
      if (target.kind !== 'object') return status(target.kind === 'collection' ? 405 : 404);
      const r = await serviceOf(target.space).objects(ctx, refOf(target), { names: [target.object] });
      const o = r.ok ? r.value[0] : undefined;
      if (!o) return status(404);
      return new Response(method === 'HEAD' ? null : o.data, {
        status: 200,
        headers: { 'Content-Type': SPACES[target.space].type, ETag: o.etag },
      });
    }

    case 'PUT': {
      if (target.kind !== 'object') return status(405);
      if (!SPACES[target.space].media.test(request.headers.get('content-type') ?? ''))
        return text(415, `only ${SPACES[target.space].type.split(';')[0]} is stored here`);
      const ifMatch = request.headers.get('if-match') ?? undefined;
      const ifNoneMatch = request.headers.get('if-none-match') === '*';
      const r = await serviceOf(target.space).put(ctx, refOf(target), target.object, body, {
        ...(ifMatch ? { ifMatch } : {}),
        ifNoneMatch,
      });
      const ns = target.space === 'addressbook' ? 'r' : 'c';
      if (!r.ok) {
        if (r.error === 'not-found') return status(target.owner === me ? 409 : 404);
        if (r.error === 'forbidden') return needPrivileges();
        if (r.error === 'precondition-failed') return status(412);
        if (r.error === 'uid-conflict')
          return xmlResponse(403, document('error', `<${ns}:no-uid-conflict/>`));
        if (r.error === 'too-many') return text(507, r.detail ?? r.error);
        const valid = target.space === 'addressbook' ? 'r:valid-address-data' : 'c:valid-calendar-data';
        return xmlResponse(
          403,
          document(
            'error',
            `<${valid}/><d:responsedescription>${esc(r.detail ?? r.error)}</d:responsedescription>`,
          ),
        );
      }
      return new Response(null, {
        status: r.value.created ? 201 : 204,
        headers: { ETag: r.value.object.etag, 'Content-Length': '0' },
      });
    }

    case 'DELETE': {
      if (target.kind === 'collection') {
        const r = await serviceOf(target.space).remove(ctx, refOf(target));
        if (r.ok) return status(204);
        return r.error === 'forbidden' ? needPrivileges() : status(404);
      }
      if (target.kind !== 'object') return status(403);
      const ifMatch = request.headers.get('if-match') ?? undefined;
      const r = await serviceOf(target.space).removeObject(ctx, refOf(target), target.object, ifMatch);
      if (r.ok) return status(204);
      if (r.error === 'forbidden') return needPrivileges();
      return status(r.error === 'precondition-failed' ? 412 : 404);
    }

    case 'MOVE': {
      if (target.kind !== 'object') return status(target.kind === 'collection' ? 403 : 404);
      const destination = destinationOf(request, me);
      if (destination === 'elsewhere') return status(502);
      // A destination outside the caller's home of the same kind is refused (RFC 4918 §9.9.4).
      if (
        destination?.kind !== 'object' ||
        destination.space !== target.space ||
        destination.owner.toLowerCase() !== target.owner.toLowerCase()
      )
        return status(403);
      const overwrite = (request.headers.get('overwrite') ?? 'T').toUpperCase() !== 'F';
      const ifMatch = request.headers.get('if-match') ?? undefined;
      const r = await serviceOf(target.space).move(
        ctx,
        { collection: refOf(target), name: target.object },
        { collection: refOf(destination), name: destination.object },
        { overwrite, ...(ifMatch ? { ifMatch } : {}) },
      );
      if (!r.ok) {
        if (r.error === 'exists') return status(409);
        if (r.error === 'forbidden') return needPrivileges();
        if (r.error === 'precondition-failed') return status(412);
        if (r.error === 'uid-conflict') return xmlResponse(403, document('error', '<c:no-uid-conflict/>'));
        if (r.error === 'too-many') return text(507, r.detail ?? r.error);
        return r.error === 'not-found' ? status(404) : text(403, r.detail ?? r.error);
      }
      return new Response(null, {
        status: r.value.created ? 201 : 204,
        headers: { ETag: r.value.object.etag, 'Content-Length': '0' },
      });
    }

    case 'POST': {
      if (target.kind === 'outbox') return outboxPost(services, ctx, request, body, me);
      // Sharing a collection (calendarserver-sharing): `<cs:share>` with `<cs:set>` (an href
      // `mailto:` of another account, `<cs:read-write/>` or read only) and `<cs:remove>`.
      if (target.kind !== 'collection') return status(405);
      // An XML media type makes a cross-site form or simple request impossible (a browser would
      // send remembered Basic credentials with one; this one needs a preflight nobody answers).
      if (!/^(application|text)\/xml\b/i.test(request.headers.get('content-type') ?? ''))
        return text(415, 'POST takes application/xml');
      if (xml?.ns !== NS.cs || xml.name !== 'share')
        return text(400, 'POST takes a calendarserver-sharing <share> body');
      const changes = [
        ...children(xml, NS.cs, 'set').map((n) => ({
          n,
          access: child(n, NS.cs, 'read-write') ? 'write' : 'read',
        })),
        ...children(xml, NS.cs, 'remove').map((n) => ({ n, access: null })),
      ] as { n: XmlNode; access: 'read' | 'write' | null }[];
      if (changes.length > 100) return text(403, 'at most 100 sharees at once');
      for (const { n, access } of changes) {
        const grantee = /^mailto:(.+)$/i.exec(child(n, NS.dav, 'href')?.text.trim() ?? '')?.[1];
        if (!grantee) return text(400, 'each sharee is a mailto: href');
        const r = await serviceOf(target.space).share(ctx, refOf(target), grantee, access);
        if (!r.ok) {
          if (r.error === 'forbidden') return needPrivileges();
          return r.error === 'not-found' ? status(404) : text(403, r.detail ?? r.error);
        }
      }
      return status(200);
    }

    case 'REPORT': {
      if (!xml) return text(400, 'REPORT needs a body');
      if (target.kind !== 'collection') return status(target.kind === 'object' ? 403 : 404);
      const { space, owner, collection } = target;
      const ref = refOf(target);
      const service = serviceOf(space);
      const asked = propRequest(xml);
      const c = await service.get(ctx, ref);
      if (!c.ok) return status(404);
      const member = (o: DavObject) =>
        propResponse(objectUrl(space, owner, collection, o.name), objectProps(o, asked), asked);
      const report = `${xml.ns === NS.dav ? 'd' : xml.ns === NS.caldav ? 'c' : xml.ns === NS.carddav ? 'r' : '?'}:${xml.name}`;
      const multiget = space === 'addressbook' ? 'r:addressbook-multiget' : 'c:calendar-multiget';

      if (report === multiget) {
        const hrefs = children(xml, NS.dav, 'href').map((h) => h.text.trim());
        if (hrefs.length > MAX_HREFS) return text(403, `at most ${MAX_HREFS} hrefs`);
        const names = new Map<string, string>();
        for (const h of hrefs) {
          const name = memberName(h, me, target);
          if (name !== null) names.set(name, h);
        }
        const r = await service.objects(ctx, ref, { names: [...names.keys()] });
        if (!r.ok) return status(404);
        const found = new Map(r.value.map((o) => [o.name, o]));
        // Each answer carries the href as it was asked for, so the client can match it.
        return multistatus(
          hrefs.map((h) => {
            const name = memberName(h, me, target);
            const o = name === null ? undefined : found.get(name);
            return o ? propResponse(h, objectProps(o, asked), asked) : statusResponse(h, 404);
          }),
        );
      }

      if (report === 'c:calendar-query' && space === 'calendar') {
        const filter = child(xml, NS.caldav, 'filter');
        const range = timeRange(filter);
        if (range === 'invalid') return xmlResponse(403, document('error', '<c:valid-filter/>'));
        const r = range
          ? await services.calendars.query(ctx, ref, range)
          : await service.objects(ctx, ref, 'all');
        if (!r.ok) return queryFailure(r.error, r.detail);
        const wanted = componentFilter(filter);
        return multistatus(r.value.filter((o) => wanted === null || o.component === wanted).map(member));
      }

      if (report === 'c:free-busy-query' && space === 'calendar') {
        const node = child(xml, NS.caldav, 'time-range');
        const range = node ? rangeOf(node) : 'invalid';
        if (range === 'invalid') return xmlResponse(403, document('error', '<c:valid-filter/>'));
        const r = await services.calendars.freeBusy(ctx, ref, range);
        if (!r.ok) return queryFailure(r.error, r.detail);
        return new Response(r.value, { status: 200, headers: { 'Content-Type': SPACES.calendar.type } });
      }

      if (report === 'r:addressbook-query' && space === 'addressbook') {
        const q = cardQuery(xml);
        if ('invalid' in q) return xmlResponse(403, document('error', `<r:${q.invalid}/>`));
        const limit = Math.min(q.limit ?? MAX_HREFS * 100, MAX_HREFS * 100);
        const r = await services.contacts.query(ctx, ref, q.filter, limit);
        if (!r.ok) return queryFailure(r.error, r.detail);
        // A truncated answer says so (RFC 6352 §8.6.2, RFC 4918 §14.24: 507 on the collection).
        const more = r.value.truncated ? [statusResponse(collectionUrl(space, owner, collection), 507)] : [];
        return multistatus([...r.value.cards.map(member), ...more]);
      }

      if (report === 'd:sync-collection') {
        const token = child(xml, NS.dav, 'sync-token')?.text.trim() ?? '';
        const since = token === '' ? 0 : tokenValue(token);
        if (since === null) return xmlResponse(403, document('error', '<d:valid-sync-token/>'));
        const r = await service.changesSince(ctx, ref, since);
        if (!r.ok) return xmlResponse(403, document('error', '<d:valid-sync-token/>'));
        const responses = [
          ...r.value.changed.map(member),
          ...(since === 0
            ? []
            : r.value.removed.map((n) => statusResponse(objectUrl(space, owner, collection, n), 404))),
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
  const [kind, owner, collection, object, ...more] = rest as string[];
  if (kind === undefined) return { kind: 'root' };
  if (owner === undefined || more.length > 0) return null;
  // Another account's principal and homes are answered as if nothing were there (DV-05); its
  // collections are the services' to allow (a share) or to answer as not found.
  const own = owner.toLowerCase() === me.toLowerCase();
  if (kind === 'principals') return own && collection === undefined ? { kind: 'principal' } : null;
  if (kind === 'outbox') return own && collection === undefined ? { kind: 'outbox' } : null;
  if (kind === 'inbox') {
    if (!own || object !== undefined) return null;
    return collection === undefined
      ? { kind: 'collection', space: 'inbox', owner: me, collection: 'inbox' }
      : { kind: 'object', space: 'inbox', owner: me, collection: 'inbox', object: collection };
  }
  const space = (Object.keys(SPACES) as Space[]).find((s) => SPACES[s].segment === kind);
  if (space === undefined) return null;
  if (collection === undefined) return own ? { kind: 'home', space } : null;
  const who = own ? me : owner;
  if (object === undefined) return { kind: 'collection', space, owner: who, collection };
  return { kind: 'object', space, owner: who, collection, object };
}

/** A path or absolute URL (an href, a Destination) as what it names; 'elsewhere': another host. */
function targetOfUrl(url: string, me: string, host: string | null): Target | null | 'elsewhere' {
  let path = url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    try {
      const parsed = new URL(url);
      if (host !== null && parsed.host.toLowerCase() !== host.toLowerCase()) return 'elsewhere';
      path = parsed.pathname;
    } catch {
      return null;
    }
  }
  return parsePath(path, me);
}

/** What a MOVE's Destination header names. */
function destinationOf(request: Request, me: string): Target | null | 'elsewhere' {
  const destination = request.headers.get('destination');
  if (!destination) return null;
  return targetOfUrl(destination, me, request.headers.get('host'));
}

/**
 * The object an href names within the caller's collection, or null. The href is read like a
 * request path (percent-encoding undone per segment, so `%40` and `@` are the same), and must
 * name exactly that collection's member: `..`, encoded slashes or another owner name nothing
 * (ATTACKS.md DV-04).
 */
function memberName(
  href: string,
  me: string,
  of: { space: Space; owner: string; collection: string },
): string | null {
  const target = targetOfUrl(href, me, null);
  return typeof target === 'object' &&
    target?.kind === 'object' &&
    target.space === of.space &&
    target.owner.toLowerCase() === of.owner.toLowerCase() &&
    target.collection === of.collection &&
    !target.object.includes('/') &&
    target.object !== '.' &&
    target.object !== '..'
    ? target.object
    : null;
}

/** A query the service refused: a bad request, a time budget spent, or no such collection. */
function queryFailure(error: string, detail?: string): Response {
  if (error === 'invalid') return text(403, detail ?? error);
  return error === 'too-many' ? text(503, detail ?? error) : status(404);
}

/**
 * A free-busy request POSTed to the caller's outbox (RFC 6638 §5): the organizer must be the
 * caller; each attendee that is an account here gets its busy time, others a request status
 * saying it is not known (3.7).
 */
async function outboxPost(
  services: Pick<Services, 'calendars'>,
  ctx: Ctx,
  request: Request,
  body: string,
  me: string,
): Promise<Response> {
  if (!/^text\/calendar\b/i.test(request.headers.get('content-type') ?? ''))
    return text(415, 'the outbox takes text/calendar');
  const asked = freeBusyRequest(body);
  if (typeof asked === 'string')
    return xmlResponse(
      400,
      document(
        'error',
        `<c:valid-calendar-data/><d:responsedescription>${esc(asked)}</d:responsedescription>`,
      ),
    );
  if (asked.organizer !== me.toLowerCase())
    return xmlResponse(403, document('error', '<c:organizer-allowed/>'));
  const r = await services.calendars.colleagues(ctx, {
    addresses: asked.attendees,
    start: asked.start,
    end: asked.end,
  });
  if (!r.ok) return queryFailure(r.error, r.detail);
  const answers = r.value
    .map(
      (a) =>
        `<c:response><c:recipient><d:href>mailto:${esc(a.address)}</d:href></c:recipient>` +
        (a.reply === null
          ? '<c:request-status>3.7;Invalid calendar user</c:request-status>'
          : `<c:request-status>2.0;Success</c:request-status><c:calendar-data>${esc(a.reply)}</c:calendar-data>`) +
        '</c:response>',
    )
    .join('');
  return new Response(
    `<?xml version="1.0" encoding="utf-8"?>\n<c:schedule-response xmlns:d="DAV:" xmlns:c="${NS.caldav}">${answers}</c:schedule-response>`,
    { status: 200, headers: { 'Content-Type': 'application/xml; charset=utf-8' } },
  );
}

/** A write the caller's share does not allow (RFC 3744 §7.1.1). */
function needPrivileges(): Response {
  return xmlResponse(403, document('error', '<d:need-privileges/>'));
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
