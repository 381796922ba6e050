/**
 * @module Header fields for Email/get (RFC 8621 §4.1.2–4.1.3): the `headers` list with raw
 * values, and `header:{name}[:as{Form}][:all]` properties in the parsed forms Raw, Text,
 * Addresses, GroupedAddresses, MessageIds, Date and URLs.
 * Trust: header bytes come from stored messages (bounded when they were delivered); property
 * names come from the client and are checked against the grammar and the form rules.
 */
import { MIME_MAX_HEADER_FIELDS } from '../../../../core/limits.ts';
import { parseAddressList } from '../../../../mail/address.ts';
import { decodeHeaderBytes, decodeWords } from '../../../../mail/header.ts';

/** A header field as it appears in the message: name as written, value with its folding. */
export interface RawField {
  name: string;
  value: string;
}

/** Splits a header block into fields, keeping the raw value (folding included, final CRLF not). */
export function rawFields(block: Uint8Array): RawField[] {
  const text = decodeHeaderBytes(block);
  const fields: RawField[] = [];
  for (const line of text.split(/(?<=\n)/)) {
    if (line === '\r\n' || line === '\n') break;
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0) {
      fields[fields.length - 1]!.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (fields.length >= MIME_MAX_HEADER_FIELDS) break;
    fields.push({ name: line.slice(0, colon).trimEnd(), value: line.slice(colon + 1) });
  }
  for (const f of fields) f.value = f.value.replace(/\r?\n$/, '');
  return fields;
}

const FORMS = ['Raw', 'Text', 'Addresses', 'GroupedAddresses', 'MessageIds', 'Date', 'URLs'] as const;
type Form = (typeof FORMS)[number];

/** The forms (besides Raw) allowed for the fields RFC 8621 §4.1.2 names; other fields take any. */
const FIELD_FORMS: Record<string, Form[]> = {};
for (const [forms, names] of [
  [['Text'], ['subject', 'comments', 'keywords', 'list-id']],
  [
    ['Addresses', 'GroupedAddresses'],
    [
      'from',
      'sender',
      'reply-to',
      'to',
      'cc',
      'bcc',
      'resent-from',
      'resent-sender',
      'resent-reply-to',
      'resent-to',
      'resent-cc',
      'resent-bcc',
    ],
  ],
  [['MessageIds'], ['message-id', 'in-reply-to', 'references', 'resent-message-id']],
  [['Date'], ['date', 'resent-date']],
  [['URLs'], ['list-help', 'list-unsubscribe', 'list-subscribe', 'list-post', 'list-owner', 'list-archive']],
] as [Form[], string[]][])
  for (const n of names) FIELD_FORMS[n] = forms;

/** A parsed `header:` property. */
export interface HeaderSpec {
  /** Lower-case field name. */
  name: string;
  form: Form;
  all: boolean;
}

/** Parses a `header:` property name; null when it is malformed or the form does not apply. */
export function headerSpec(property: string): HeaderSpec | null {
  const m = /^header:([\x21-\x39\x3b-\x7e]{1,100})(?::as([A-Za-z]+))?(:all)?$/.exec(property);
  if (!m) return null;
  const form = (m[2] ?? 'Raw') as Form;
  if (!FORMS.includes(form)) return null;
  const name = m[1]!.toLowerCase();
  const allowed = FIELD_FORMS[name];
  if (form !== 'Raw' && allowed && !allowed.includes(form)) return null;
  return { name, form, all: m[3] !== undefined };
}

const unfold = (raw: string): string => raw.replace(/\r?\n(?=[ \t])/g, '').trim();

type EmailAddress = { name: string | null; email: string };

function addressGroups(raw: string): { name: string | null; addresses: EmailAddress[] }[] {
  const groups: { name: string | null; addresses: EmailAddress[] }[] = [];
  let current: { name: string | null; addresses: EmailAddress[] } | null = null;
  for (const a of parseAddressList(unfold(raw))) {
    if (a.kind === 'group-start') {
      current = { name: decodeWords(a.name), addresses: [] };
      groups.push(current);
    } else if (a.kind === 'group-end') current = null;
    else {
      const address: EmailAddress = {
        name: a.name ? decodeWords(a.name) : null,
        email: a.local !== null && a.domain !== null ? `${a.local}@${a.domain}` : (a.local ?? ''),
      };
      if (current) current.addresses.push(address);
      else {
        const last = groups[groups.length - 1];
        if (last && last.name === null) last.addresses.push(address);
        else groups.push({ name: null, addresses: [address] });
      }
    }
  }
  return groups;
}

/** A raw value in one parsed form. */
function convert(raw: string, form: Form): unknown {
  switch (form) {
    case 'Raw':
      return raw;
    case 'Text':
      return decodeWords(unfold(raw));
    case 'Addresses':
      return addressGroups(raw).flatMap((g) => g.addresses);
    case 'GroupedAddresses':
      return addressGroups(raw);
    case 'MessageIds': {
      const ids = unfold(raw).match(/<[^<>\s]+>/g);
      return ids ? ids.map((s) => s.slice(1, -1)) : null;
    }
    case 'Date': {
      const t = Date.parse(unfold(raw));
      return Number.isFinite(t) ? new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
    }
    case 'URLs': {
      const urls = unfold(raw).match(/<[^<>\s]+>/g);
      return urls ? urls.map((s) => s.slice(1, -1)) : null;
    }
  }
}

/** The value of a `header:` property: the last instance, or all of them with `:all`. */
export function headerValue(fields: RawField[], spec: HeaderSpec): unknown {
  const values = fields
    .filter((f) => f.name.toLowerCase() === spec.name)
    .map((f) => convert(f.value, spec.form));
  return spec.all ? values : (values[values.length - 1] ?? null);
}
