/**
 * @module vCards as CardDAV stores them (RFC 6350, RFC 2426, RFC 6352 §5.1): one address object
 * resource is one VCARD with a UID. The text is bounded and read into content lines (group,
 * name, parameters, value) by a small parser of our own, which accepts what real address books
 * send (vCard 3.0 and 4.0, and 2.1) without judging values it does not need; the text is stored
 * as the client sent it. Nothing in a card is ever dereferenced: PHOTO, LOGO, SOUND and URL
 * values stay text (ATTACKS.md PX-15, IC-05).
 * Also here: evaluating an addressbook-query filter (RFC 6352 §10.5) against a parsed card.
 * Trust: input is a client's upload.
 */

/** Bounds on one vCard. */
export const VCARD_LIMITS = {
  /** Bytes of one card (a photo inline included). */
  maxBytes: 1024 * 1024,
  /** Content lines (after unfolding) of one card. */
  maxLines: 5000,
  /** Parameters of one content line. */
  maxParams: 50,
} as const;

/** One content line: `group.NAME;param=value:value`. Names are upper-cased. */
export interface CardProperty {
  group: string | null;
  name: string;
  params: Map<string, string[]>;
  value: string;
}

/** A parsed card. */
export interface ParsedCard {
  uid: string;
  version: string;
  properties: CardProperty[];
}

/** Why a card was refused, in words a client can show. */
export class VCardError extends Error {}

/** Parses and checks one address object resource; throws VCardError when it cannot be stored. */
export function parseVCard(text: string): ParsedCard {
  if (Buffer.byteLength(text) > VCARD_LIMITS.maxBytes)
    throw new VCardError(`larger than ${VCARD_LIMITS.maxBytes} bytes`);
  const lines = unfold(text);
  if (lines.length > VCARD_LIMITS.maxLines) throw new VCardError(`more than ${VCARD_LIMITS.maxLines} lines`);
  const properties = lines.map(contentLine);
  const first = properties[0];
  const last = properties[properties.length - 1];
  if (!first || first.name !== 'BEGIN' || first.value.toUpperCase() !== 'VCARD' || last?.name !== 'END')
    throw new VCardError('the object must be one VCARD');
  let depth = 0;
  properties.forEach((p, i) => {
    if (p.name === 'BEGIN') depth++;
    if (p.name === 'END') depth--;
    if (depth < 0 || (depth === 0 && i < properties.length - 1))
      throw new VCardError('the object must be one VCARD');
    if (depth > 1) throw new VCardError('a VCARD may not hold other components');
  });
  if (depth !== 0 || last.value.toUpperCase() !== 'VCARD')
    throw new VCardError('the object must be one VCARD');
  const inner = properties.slice(1, -1);
  const version = inner.find((p) => p.name === 'VERSION')?.value ?? '';
  if (!['2.1', '3.0', '4.0'].includes(version)) throw new VCardError('VERSION must be 3.0 or 4.0');
  const uids = inner.filter((p) => p.name === 'UID');
  const uid = uids[0]?.value ?? '';
  if (uids.length !== 1 || uid.length === 0 || uid.length > 255)
    throw new VCardError('a vCard needs one UID (at most 255 characters)');
  return { uid, version, properties: inner };
}

/** Lines with folding undone (RFC 6350 §3.2); empty lines dropped. */
function unfold(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if ((raw.startsWith(' ') || raw.startsWith('\t')) && out.length > 0) out[out.length - 1] += raw.slice(1);
    else if (raw !== '') out.push(raw);
    if (out.length > VCARD_LIMITS.maxLines) break;
  }
  return out;
}

/** Reads one content line; quoted parameter values may hold `:` and `;`. */
function contentLine(line: string): CardProperty {
  const nameEnd = line.search(/[;:]/);
  if (nameEnd <= 0) throw new VCardError(`not a content line: ${line.slice(0, 60)}`);
  const full = line.slice(0, nameEnd);
  if (!/^([A-Za-z0-9-]+\.)?[A-Za-z0-9-]+$/.test(full))
    throw new VCardError(`bad property name: ${full.slice(0, 60)}`);
  const dot = full.indexOf('.');
  const params = new Map<string, string[]>();
  let i = nameEnd;
  for (let count = 0; line[i] === ';'; count++) {
    if (count >= VCARD_LIMITS.maxParams) throw new VCardError('too many parameters');
    const eq = line.slice(i + 1).search(/[=;:]/);
    if (eq < 0) throw new VCardError('unfinished parameter');
    const pname = line.slice(i + 1, i + 1 + eq).toUpperCase();
    i = i + 1 + eq;
    const values: string[] = [];
    if (line[i] === '=') {
      // One or more values, comma-separated, each optionally in double quotes.
      do {
        i++;
        if (line[i] === '"') {
          const close = line.indexOf('"', i + 1);
          if (close < 0) throw new VCardError('unclosed quote in a parameter');
          values.push(line.slice(i + 1, close));
          i = close + 1;
        } else {
          const end = line.slice(i).search(/[,;:]/);
          if (end < 0) throw new VCardError('unfinished parameter');
          values.push(line.slice(i, i + end));
          i += end;
        }
      } while (line[i] === ',');
    } else {
      // vCard 2.1 style: a bare type (`TEL;CELL:`).
      values.push(pname);
    }
    params.set(pname, [...(params.get(pname) ?? []), ...values]);
  }
  if (line[i] !== ':') throw new VCardError(`not a content line: ${line.slice(0, 60)}`);
  return {
    group: dot > 0 ? full.slice(0, dot) : null,
    name: (dot > 0 ? full.slice(dot + 1) : full).toUpperCase(),
    params,
    value: line.slice(i + 1),
  };
}

/** A text-match of an addressbook-query (RFC 6352 §10.5.4). */
export interface TextMatch {
  text: string;
  collation: 'i;ascii-casemap' | 'i;unicode-casemap' | 'i;octet';
  matchType: 'equals' | 'contains' | 'starts-with' | 'ends-with';
  negate: boolean;
}

/** A param-filter (§10.5.2): the parameter is absent, or its values match. */
export interface ParamFilter {
  name: string;
  isNotDefined: boolean;
  textMatch: TextMatch | null;
}

/** A prop-filter (§10.5.1). */
export interface PropFilter {
  name: string;
  test: 'anyof' | 'allof';
  isNotDefined: boolean;
  textMatches: TextMatch[];
  paramFilters: ParamFilter[];
}

/** A whole filter (§10.5): its prop-filters, any or all of which must match. */
export interface CardFilter {
  test: 'anyof' | 'allof';
  props: PropFilter[];
}

/** Collations a query may name (RFC 4790); others are refused by the protocol layer. */
export const COLLATIONS = ['i;ascii-casemap', 'i;unicode-casemap', 'i;octet'] as const;

/** Whether a card matches a filter; a filter without prop-filters matches every card. */
export function matchesCard(card: ParsedCard, filter: CardFilter): boolean {
  if (filter.props.length === 0) return true;
  const one = (f: PropFilter) => matchesProp(card, f);
  return filter.test === 'allof' ? filter.props.every(one) : filter.props.some(one);
}

function matchesProp(card: ParsedCard, f: PropFilter): boolean {
  const name = f.name.toUpperCase();
  const props = card.properties.filter((p) => p.name === name);
  if (f.isNotDefined) return props.length === 0;
  if (props.length === 0) return false;
  const tests = [
    ...f.textMatches.map((t) => () => props.some((p) => matchesText(textValue(p.value), t))),
    ...f.paramFilters.map((pf) => () => props.some((p) => matchesParam(p, pf))),
  ];
  if (tests.length === 0) return true;
  return f.test === 'allof' ? tests.every((t) => t()) : tests.some((t) => t());
}

function matchesParam(p: CardProperty, f: ParamFilter): boolean {
  const values = p.params.get(f.name.toUpperCase());
  if (f.isNotDefined) return values === undefined;
  if (values === undefined) return false;
  const t = f.textMatch;
  return t === null || values.some((v) => matchesText(v, t));
}

function matchesText(value: string, t: TextMatch): boolean {
  const fold = (s: string) =>
    t.collation === 'i;octet'
      ? s
      : t.collation === 'i;ascii-casemap'
        ? s.replace(/[A-Z]/g, (c) => c.toLowerCase())
        : s.normalize('NFKC').toLowerCase();
  const v = fold(value);
  const x = fold(t.text);
  const hit =
    t.matchType === 'equals'
      ? v === x
      : t.matchType === 'starts-with'
        ? v.startsWith(x)
        : t.matchType === 'ends-with'
          ? v.endsWith(x)
          : v.includes(x);
  return hit !== t.negate;
}

/** A text value with its escapes undone (RFC 6350 §3.4). */
function textValue(value: string): string {
  return value.replace(/\\([\\,;nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}
