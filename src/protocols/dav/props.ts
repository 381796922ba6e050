/**
 * @module The WebDAV properties Portcullis answers with (RFC 4918 §15, RFC 4791 §5.2, RFC 6352
 * §6.2, RFC 3744 §5, RFC 5397, RFC 6578), and the multistatus responses that carry them.
 * Values are built as escaped XML text; a property asked for and not known is answered 404.
 */
import type { DavObject, Visible } from '../../services/index.ts';
import { esc, NS, qname, type XmlNode } from './xml.ts';

/** A property name. */
export type Prop = { ns: string; name: string };
/** What a PROPFIND or REPORT asks for: a list, everything, or the names only. */
export type Asked = Prop[] | 'all' | 'names';

/** The URLs of the caller's namespace. */
export interface Urls {
  principal: string;
  outbox: string;
  inbox: string;
  calendars: string;
  addressbooks: string;
}

export const key = (p: Prop): string => `${p.ns}\u0000${p.name}`;
export const splitKey = (k: string): Prop => {
  const [ns, name] = k.split('\u0000') as [string, string];
  return { ns, name };
};

/** Property values by key; '' is known but empty. */
type Values = Map<string, string>;
function props(list: [string, string, string][]): Values {
  return new Map(list.map(([ns, name, value]) => [key({ ns, name }), value]));
}

const href = (url: string) => `<d:href>${esc(url)}</d:href>`;

const privileges = (names: string[]) => names.map((p) => `<d:privilege><${p}/></d:privilege>`).join('');
/** What the caller may do: everything with their own, what a share grants with another's. */
const PRIVILEGES = {
  owner: privileges([
    'd:read',
    'd:write',
    'd:write-properties',
    'd:write-content',
    'd:bind',
    'd:unbind',
    'c:read-free-busy',
  ]),
  write: privileges(['d:read', 'd:write-content', 'd:bind', 'd:unbind', 'c:read-free-busy']),
  read: privileges(['d:read', 'c:read-free-busy']),
};

const reports = (names: string[]) =>
  names.map((r) => `<d:supported-report><d:report><${r}/></d:report></d:supported-report>`).join('');

/** Properties every resource of the namespace has (of another owner's, with a share's rights). */
function common(
  urls: Urls,
  shared?: { owner: string; access: 'read' | 'write' },
): [string, string, string][] {
  return [
    [NS.dav, 'current-user-principal', href(urls.principal)],
    [NS.dav, 'principal-collection-set', href('/dav/principals/')],
    [NS.dav, 'owner', href(shared ? `/dav/principals/${encodeURIComponent(shared.owner)}/` : urls.principal)],
    [NS.dav, 'current-user-privilege-set', PRIVILEGES[shared?.access ?? 'owner']],
  ];
}

export function principalProps(urls: Urls, me: string): Values {
  return props([
    [NS.dav, 'resourcetype', '<d:principal/>'],
    [NS.dav, 'displayname', esc(me)],
    [NS.dav, 'principal-URL', href(urls.principal)],
    [NS.caldav, 'calendar-home-set', href(urls.calendars)],
    [NS.caldav, 'calendar-user-address-set', href(`mailto:${me}`)],
    [NS.carddav, 'addressbook-home-set', href(urls.addressbooks)],
    [NS.caldav, 'schedule-outbox-URL', href(urls.outbox)],
    [NS.caldav, 'schedule-inbox-URL', href(urls.inbox)],
    [NS.dav, 'supported-report-set', ''],
    ...common(urls),
  ]);
}

/** The caller's scheduling outbox (RFC 6638 §2.1), where free-busy requests are POSTed. */
export function outboxProps(urls: Urls): Values {
  return props([
    [NS.dav, 'resourcetype', '<d:collection/><c:schedule-outbox/>'],
    [NS.dav, 'displayname', 'Outbox'],
    ...common(urls),
  ]);
}

/** The root, a home or another plain collection. */
export function plainCollectionProps(urls: Urls, name: string): Values {
  return props([
    [NS.dav, 'resourcetype', '<d:collection/>'],
    [NS.dav, 'displayname', esc(name)],
    [NS.caldav, 'calendar-home-set', href(urls.calendars)],
    [NS.carddav, 'addressbook-home-set', href(urls.addressbooks)],
    [NS.dav, 'supported-report-set', ''],
    ...common(urls),
  ]);
}

/** A calendar or an address book, as the caller sees it. */
export function collectionProps(urls: Urls, v: Visible): Values {
  const c = v.collection;
  const token = esc(syncToken(c.modseq));
  const shared: [string, string, string][] = [
    [NS.dav, 'displayname', esc(c.displayName)],
    [NS.cs, 'getctag', token],
    [NS.dav, 'sync-token', token],
    ...common(urls, v.access === 'owner' ? undefined : { owner: v.owner, access: v.access }),
  ];
  if (c.kind === 'inbox')
    return props([
      [NS.dav, 'resourcetype', '<d:collection/><c:schedule-inbox/>'],
      [NS.dav, 'supported-report-set', reports(['c:calendar-multiget', 'd:sync-collection'])],
      ...shared,
    ]);
  if (c.kind === 'addressbook')
    return props([
      [NS.dav, 'resourcetype', '<d:collection/><r:addressbook/>'],
      [NS.carddav, 'addressbook-description', esc(c.description)],
      [
        NS.carddav,
        'supported-address-data',
        '<r:address-data-type content-type="text/vcard" version="3.0"/><r:address-data-type content-type="text/vcard" version="4.0"/>',
      ],
      [NS.carddav, 'max-resource-size', String(1024 * 1024)],
      [
        NS.dav,
        'supported-report-set',
        reports(['r:addressbook-multiget', 'r:addressbook-query', 'd:sync-collection']),
      ],
      ...shared,
    ]);
  const comps = c.components
    .split(' ')
    .map((n) => `<c:comp name="${esc(n)}"/>`)
    .join('');
  return props([
    [NS.dav, 'resourcetype', '<d:collection/><c:calendar/>'],
    [NS.caldav, 'calendar-description', esc(c.description)],
    [NS.apple, 'calendar-color', esc(c.color)],
    [NS.caldav, 'supported-calendar-component-set', comps],
    [NS.caldav, 'supported-calendar-data', '<c:calendar-data content-type="text/calendar" version="2.0"/>'],
    [NS.caldav, 'max-resource-size', String(1024 * 1024)],
    [
      NS.dav,
      'supported-report-set',
      reports(['c:calendar-multiget', 'c:calendar-query', 'c:free-busy-query', 'd:sync-collection']),
    ],
    ...shared,
  ]);
}

/** An object resource; its data only when asked for by name. */
export function objectProps(o: DavObject, asked: Asked): Values {
  const card = o.component === 'VCARD';
  const data: Prop = card
    ? { ns: NS.carddav, name: 'address-data' }
    : { ns: NS.caldav, name: 'calendar-data' };
  const wantsData = Array.isArray(asked) && asked.some((p) => key(p) === key(data));
  return props([
    [NS.dav, 'resourcetype', ''],
    [NS.dav, 'getetag', esc(o.etag)],
    [
      NS.dav,
      'getcontenttype',
      card
        ? 'text/vcard; charset=utf-8'
        : `text/calendar; charset=utf-8; component=${o.component.toLowerCase()}`,
    ],
    [NS.dav, 'getcontentlength', String(Buffer.byteLength(o.data))],
    ...(wantsData ? [[data.ns, data.name, esc(o.data)] as [string, string, string]] : []),
  ]);
}

/** The properties a PROPFIND or REPORT asks for: a list, or everything (allprop or no body). */
export function propRequest(xml: XmlNode | null): Asked {
  if (!xml) return 'all';
  if (xml.children.some((c) => c.ns === NS.dav && c.name === 'propname')) return 'names';
  const prop = xml.children.find((c) => c.ns === NS.dav && c.name === 'prop');
  if (!prop) return 'all';
  return prop.children.map((p) => ({ ns: p.ns, name: p.name }));
}

/** One `<d:response>` with the asked properties found (200) and not found (404). */
export function propResponse(url: string, values: Values, asked: Asked): string {
  const found: string[] = [];
  const missing: string[] = [];
  const list: Prop[] = asked === 'all' || asked === 'names' ? [...values.keys()].map(splitKey) : asked;
  for (const p of list) {
    const q = qname(p.ns, p.name);
    const v = values.get(key(p));
    if (v === undefined) missing.push(`<${q.tag}${q.decl}/>`);
    else if (asked === 'names' || v === '') found.push(`<${q.tag}${q.decl}/>`);
    else found.push(`<${q.tag}${q.decl}>${v}</${q.tag}>`);
  }
  const stat = (inner: string[], code: number) =>
    inner.length === 0
      ? ''
      : `<d:propstat><d:prop>${inner.join('')}</d:prop><d:status>${statusLine(code)}</d:status></d:propstat>`;
  return `<d:response>${href(url)}${stat(found, 200)}${stat(missing, 404)}</d:response>`;
}

/** A `<d:response>` with a status only (a member that is gone or was not found). */
export function statusResponse(url: string, code: number): string {
  return `<d:response>${href(url)}<d:status>${statusLine(code)}</d:status></d:response>`;
}

/** Collection properties a client may set, and the patch they make. */
export function writableProps(list: XmlNode[]): {
  keys: Set<string>;
  values: { displayName?: string; description?: string; color?: string };
} {
  const keys = new Set<string>();
  const values: { displayName?: string; description?: string; color?: string } = {};
  for (const p of list) {
    if (p.ns === NS.dav && p.name === 'displayname') values.displayName = p.text.trim();
    else if (p.ns === NS.caldav && p.name === 'calendar-description') values.description = p.text;
    else if (p.ns === NS.carddav && p.name === 'addressbook-description') values.description = p.text;
    else if (p.ns === NS.apple && p.name === 'calendar-color') values.color = p.text.trim();
    else if (p.ns === NS.caldav && p.name === 'supported-calendar-component-set') {
      // Fixed once the calendar exists; accepted at creation.
    } else continue;
    keys.add(key(p));
  }
  return { keys, values };
}

export const syncToken = (modseq: number): string => `urn:portcullis:sync:${modseq}`;
export function tokenValue(token: string): number | null {
  const m = /^urn:portcullis:sync:(\d{1,15})$/.exec(token);
  return m ? Number(m[1]) : null;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  403: 'Forbidden',
  404: 'Not Found',
  424: 'Failed Dependency',
};
export function statusLine(code: number): string {
  return `HTTP/1.1 ${code} ${REASONS[code] ?? ''}`.trimEnd();
}
