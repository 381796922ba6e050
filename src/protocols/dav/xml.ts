/**
 * @module WebDAV XML in and out (RFC 4918 §14). Requests are parsed by @xmldom/xmldom after the
 * text is bounded and any DTD is refused outright, so no entity is ever declared, expanded or
 * fetched (ATTACKS.md DV-01, DV-02); the document becomes a plain tree of namespaced elements
 * with its depth and element count bounded (DV-03). Responses are built as escaped text.
 * Trust: input is a client's request body.
 */
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';

export const NS = {
  dav: 'DAV:',
  caldav: 'urn:ietf:params:xml:ns:caldav',
  carddav: 'urn:ietf:params:xml:ns:carddav',
  cs: 'http://calendarserver.org/ns/',
  apple: 'http://apple.com/ns/ical/',
} as const;

/** Bounds on one request body. */
export const XML_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 32, maxElements: 20_000 } as const;

/** An element: namespace, local name, attributes (by local name), child elements and its text. */
export interface XmlNode {
  ns: string;
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

/** A body that is not acceptable XML, with the reason. */
export class DavXmlError extends Error {}

/** Parses a request body; an empty body is null. */
export function parseXml(body: string): XmlNode | null {
  if (body.trim() === '') return null;
  if (Buffer.byteLength(body) > XML_LIMITS.maxBytes) throw new DavXmlError('request body too large');
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw new DavXmlError('DTDs are not accepted');
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== 'warning')
          throw new DavXmlError(`not well-formed XML: ${String(message).slice(0, 200)}`);
      },
    }).parseFromString(body, 'application/xml');
  } catch (err) {
    if (err instanceof DavXmlError) throw err;
    throw new DavXmlError('not well-formed XML');
  }
  const root = doc.documentElement;
  if (!root) throw new DavXmlError('no root element');
  let count = 0;
  const convert = (el: Element, depth: number): XmlNode => {
    if (depth > XML_LIMITS.maxDepth) throw new DavXmlError('XML nested too deeply');
    if (++count > XML_LIMITS.maxElements) throw new DavXmlError('too many XML elements');
    const node: XmlNode = {
      ns: el.namespaceURI ?? '',
      name: el.localName ?? '',
      attrs: Object.create(null) as Record<string, string>,
      children: [],
      text: '',
    };
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i);
      if (a && a.localName && !a.name.startsWith('xmlns')) node.attrs[a.localName] = a.value;
    }
    for (let c = el.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 1) node.children.push(convert(c as Element, depth + 1));
      else if (c.nodeType === 3 || c.nodeType === 4) node.text += c.nodeValue ?? '';
    }
    return node;
  };
  return convert(root, 1);
}

/** The first child with this namespace and name. */
export function child(node: XmlNode | null | undefined, ns: string, name: string): XmlNode | undefined {
  return node?.children.find((c) => c.ns === ns && c.name === name);
}

/** Every child with this namespace and name. */
export function children(node: XmlNode | null | undefined, ns: string, name: string): XmlNode[] {
  return node?.children.filter((c) => c.ns === ns && c.name === name) ?? [];
}

/** Text escaped for element content and attribute values. */
export function esc(text: string): string {
  return text.replace(
    /[<>&"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? '',
  );
}

const PREFIX: Record<string, string> = {
  [NS.dav]: 'd',
  [NS.caldav]: 'c',
  [NS.carddav]: 'r',
  [NS.cs]: 'cs',
  [NS.apple]: 'a',
};

/** The qualified name of a property in a response; other namespaces get their own prefix. */
export function qname(ns: string, name: string): { tag: string; decl: string } {
  const p = PREFIX[ns];
  if (p) return { tag: `${p}:${name}`, decl: '' };
  return { tag: `x:${name}`, decl: ` xmlns:x="${esc(ns)}"` };
}

/** A whole response document with the namespaces we use declared on its root. */
export function document(rootName: string, inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<d:${rootName} xmlns:d="DAV:" xmlns:c="${NS.caldav}" xmlns:r="${NS.carddav}" xmlns:cs="${NS.cs}" xmlns:a="${NS.apple}">${inner}</d:${rootName}>`;
}
