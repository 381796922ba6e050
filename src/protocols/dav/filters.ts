/**
 * @module The filters of calendar-query (RFC 4791 §9.7), free-busy-query (§7.10) and
 * addressbook-query (RFC 6352 §10.5), read from request XML into plain values the services
 * evaluate. An unreadable filter is 'invalid' (the caller answers with a precondition error).
 */
import {
  type CardFilter,
  COLLATIONS,
  type ParamFilter,
  type PropFilter,
  type TextMatch,
} from '../../contacts/vcard.ts';
import { child, children, NS, type XmlNode } from './xml.ts';

/** Most prop-filters, text-matches and param-filters one addressbook-query may hold. */
const MAX_FILTER_NODES = 100;

const attr = (node: XmlNode, name: string): string => node.attrs[name] ?? '';

/** An iCalendar UTC date-time (`20261128T120000Z`) in ms, or NaN. */
function utc(v: string): number {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(v);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
}

/** A `<c:time-range>` element's span; an open side runs to 1900 or 2100. */
export function rangeOf(node: XmlNode): { start: number; end: number } | 'invalid' {
  const start = attr(node, 'start');
  const end = attr(node, 'end');
  const s = start === '' ? Date.UTC(1900, 0, 1) : utc(start);
  const e = end === '' ? Date.UTC(2100, 0, 1) : utc(end);
  return Number.isNaN(s) || Number.isNaN(e) ? 'invalid' : { start: s, end: e };
}

/** The time range of a calendar-query filter (null: none). */
export function timeRange(filter: XmlNode | undefined): { start: number; end: number } | null | 'invalid' {
  let found: XmlNode | undefined;
  const walk = (n: XmlNode): void => {
    for (const c of n.children) {
      if (c.ns === NS.caldav && c.name === 'time-range') found ??= c;
      else walk(c);
    }
  };
  if (!filter) return null;
  walk(filter);
  return found ? rangeOf(found) : null;
}

/** The component a calendar-query asks for (VCALENDAR > VEVENT…), null for any. */
export function componentFilter(filter: XmlNode | undefined): string | null {
  const top = child(filter, NS.caldav, 'comp-filter');
  const inner = child(top, NS.caldav, 'comp-filter');
  return inner ? attr(inner, 'name').toUpperCase() || null : null;
}

/** An addressbook-query's filter and its limit (RFC 6352 §8.6.1), or why it cannot be read. */
export function cardQuery(
  xml: XmlNode,
):
  | { filter: CardFilter; limit: number | null }
  | { invalid: 'valid-filter' | 'supported-collation' | 'supported-filter' } {
  const filter = child(xml, NS.carddav, 'filter');
  let nodes = 0;
  let invalid: 'valid-filter' | 'supported-collation' | 'supported-filter' | null = null;
  const test = (n: XmlNode): 'anyof' | 'allof' => {
    const t = attr(n, 'test') || 'anyof';
    if (t !== 'anyof' && t !== 'allof') invalid ??= 'valid-filter';
    return t === 'allof' ? 'allof' : 'anyof';
  };
  const textMatch = (n: XmlNode): TextMatch => {
    nodes++;
    const collation = attr(n, 'collation') || 'i;unicode-casemap';
    const matchType = attr(n, 'match-type') || 'contains';
    if (!(COLLATIONS as readonly string[]).includes(collation)) invalid ??= 'supported-collation';
    if (!['equals', 'contains', 'starts-with', 'ends-with'].includes(matchType))
      invalid ??= 'supported-filter';
    return {
      text: n.text,
      collation: collation as TextMatch['collation'],
      matchType: matchType as TextMatch['matchType'],
      negate: attr(n, 'negate-condition') === 'yes',
    };
  };
  const paramFilter = (n: XmlNode): ParamFilter => {
    nodes++;
    const match = child(n, NS.carddav, 'text-match');
    return {
      name: attr(n, 'name'),
      isNotDefined: child(n, NS.carddav, 'is-not-defined') !== undefined,
      textMatch: match ? textMatch(match) : null,
    };
  };
  const propFilter = (n: XmlNode): PropFilter => {
    nodes++;
    if (!/^[A-Za-z0-9-]{1,64}$/.test(attr(n, 'name'))) invalid ??= 'valid-filter';
    return {
      name: attr(n, 'name'),
      test: test(n),
      isNotDefined: child(n, NS.carddav, 'is-not-defined') !== undefined,
      textMatches: children(n, NS.carddav, 'text-match').map(textMatch),
      paramFilters: children(n, NS.carddav, 'param-filter').map(paramFilter),
    };
  };
  const parsed: CardFilter = filter
    ? { test: test(filter), props: children(filter, NS.carddav, 'prop-filter').map(propFilter) }
    : { test: 'anyof', props: [] };
  if (nodes > MAX_FILTER_NODES) invalid ??= 'supported-filter';
  if (invalid) return { invalid };
  const n = child(child(xml, NS.carddav, 'limit'), NS.carddav, 'nresults')?.text.trim();
  const limit = n === undefined ? null : /^\d{1,9}$/.test(n) ? Number(n) : Number.NaN;
  if (Number.isNaN(limit)) return { invalid: 'valid-filter' };
  return { filter: parsed, limit };
}
