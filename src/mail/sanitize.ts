/**
 * @module Mail bodies made safe to show in a browser (ATTACKS.md WB-01, WB-02, WB-08): HTML is
 * parsed and rebuilt from a strict allowlist of elements, attributes, URL schemes and CSS
 * properties; plain text is escaped and only http(s) and mailto links are made. Remote images are
 * never loaded by what this module returns: their address moves to `data-remote-src`, which the
 * webmail turns back into `src` only when the user allows it. `cid:` images of the same message
 * become `data:` URLs, so showing a message needs no request at all.
 * Trust: the input is attacker-controlled mail. The output is still shown only in a sandboxed
 * frame without scripts under its own CSP; this module is the first of those layers, not the only.
 */
import sanitize from 'sanitize-html';

/** A safe body: HTML made from the allowlist, and how many remote images it holds back. */
export interface SafeBody {
  html: string;
  remoteImages: number;
  /** True when the input was longer than MAX_HTML_INPUT and only its start was kept. */
  truncated: boolean;
}

/** Longest HTML or text body that is made safe; the rest is cut off (and said so). */
export const MAX_HTML_INPUT = 4 * 1024 * 1024;

/** Elements that keep their text but lose the tag when not allowed are the default; these lose
 * their content too. */
const DROPPED_WITH_CONTENT = [
  'script',
  'style',
  'textarea',
  'option',
  'select',
  'noscript',
  'noembed',
  'noframes',
  'template',
  'title',
  'head',
  'xmp',
  'iframe',
  'object',
  'embed',
  'svg',
  'math',
  'button',
];

const ALLOWED_TAGS = [
  'a',
  'abbr',
  'address',
  'article',
  'b',
  'big',
  'blockquote',
  'br',
  'caption',
  'center',
  'cite',
  'code',
  'col',
  'colgroup',
  'dd',
  'del',
  'div',
  'dl',
  'dt',
  'em',
  'figcaption',
  'figure',
  'font',
  'footer',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'i',
  'img',
  'ins',
  'kbd',
  'li',
  'mark',
  'ol',
  'p',
  'pre',
  'q',
  's',
  'section',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'tt',
  'u',
  'ul',
  'wbr',
];

const CELL = ['align', 'valign', 'width', 'height', 'bgcolor', 'colspan', 'rowspan', 'nowrap'];

const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  '*': ['style', 'dir', 'lang', 'title'],
  a: ['href', 'target', 'rel'],
  img: ['src', 'alt', 'width', 'height', 'data-remote-src'],
  font: ['color', 'size', 'face'],
  table: ['width', 'height', 'border', 'cellpadding', 'cellspacing', 'align', 'bgcolor'],
  td: CELL,
  th: CELL,
  tr: ['align', 'valign', 'bgcolor'],
  col: ['width', 'span'],
  colgroup: ['width', 'span'],
  div: ['align'],
  p: ['align'],
  ol: ['start', 'type'],
  li: ['value'],
};

/** CSS values without functions, escapes, comments or at-rules; colours may use rgb()/rgba(). */
const CSS_VALUE = /^(?:[#\w.%\s,'"!-]|rgba?\(\s*[\d.%\s,]+\))*$/;
const CSS_PROPERTIES = [
  'background-color',
  'border',
  'border-bottom',
  'border-collapse',
  'border-color',
  'border-left',
  'border-radius',
  'border-right',
  'border-spacing',
  'border-style',
  'border-top',
  'border-width',
  'color',
  'display',
  'font',
  'font-family',
  'font-size',
  'font-style',
  'font-weight',
  'height',
  'letter-spacing',
  'line-height',
  'list-style-type',
  'margin',
  'margin-bottom',
  'margin-left',
  'margin-right',
  'margin-top',
  'max-width',
  'min-width',
  'padding',
  'padding-bottom',
  'padding-left',
  'padding-right',
  'padding-top',
  'text-align',
  'text-decoration',
  'text-indent',
  'text-transform',
  'vertical-align',
  'white-space',
  'width',
  'word-break',
];
const ALLOWED_STYLES = { '*': Object.fromEntries(CSS_PROPERTIES.map((p) => [p, [CSS_VALUE]])) };

/** `data:` image types shown inline; anything else (SVG above all) is not an image here. */
const DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]+$/i;

/** An absolute http(s) URL in normal form, or null. */
function webUrl(value: string): string | null {
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Sanitizes an HTML body. `cid` gives the `data:` URL of an image part of the same message by its
 * Content-ID, or null.
 */
export function safeHtml(
  input: string,
  cid: (id: string) => string | null = () => null,
): SafeBody & { remoteUrls: string[] } {
  const truncated = input.length > MAX_HTML_INPUT;
  const remoteUrls: string[] = [];
  const html = sanitize(truncated ? input.slice(0, MAX_HTML_INPUT) : input, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: ALLOWED_ATTRIBUTES,
    allowedStyles: ALLOWED_STYLES,
    nonTextTags: DROPPED_WITH_CONTENT,
    disallowedTagsMode: 'discard',
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src'],
    allowProtocolRelative: false,
    parseStyleAttributes: true,
    enforceHtmlBoundary: false,
    transformTags: {
      a: (tagName, attribs) => {
        const href = attribs['href'] ?? '';
        const kept = /^mailto:/i.test(href.trim()) ? href.trim() : webUrl(href);
        const out: Record<string, string> = { ...attribs, target: '_blank', rel: 'noopener noreferrer' };
        if (kept) out['href'] = kept;
        else delete out['href'];
        return { tagName, attribs: out };
      },
      img: (tagName, attribs) => {
        const src = (attribs['src'] ?? '').trim();
        const out: Record<string, string> = { ...attribs };
        delete out['src'];
        delete out['data-remote-src'];
        if (/^cid:/i.test(src)) {
          let id = src.slice(4);
          try {
            id = decodeURIComponent(id);
          } catch {}
          const data = cid(id);
          if (data) out['src'] = data;
        } else if (DATA_IMAGE.test(src)) out['src'] = src;
        else {
          const remote = webUrl(src);
          if (remote) {
            out['data-remote-src'] = remote;
            remoteUrls.push(remote);
          }
        }
        return { tagName, attribs: out };
      },
    },
  });
  return { html, remoteImages: remoteUrls.length, truncated, remoteUrls };
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Links in plain text: http(s) URLs and e-mail addresses. */
const LINK = /\bhttps?:\/\/[^\s<>"'`]+|\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b/g;

/**
 * A plain-text body as HTML: everything escaped, line breaks kept, and links made only for
 * http(s) URLs (checked by parsing) and e-mail addresses (WB-02).
 */
export function textToHtml(input: string): SafeBody {
  const truncated = input.length > MAX_HTML_INPUT;
  const text = truncated ? input.slice(0, MAX_HTML_INPUT) : input;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(LINK)) {
    let found = m[0];
    // Trailing punctuation ends a sentence, not a URL.
    const trail = /[.,;:!?)\]}]+$/.exec(found);
    if (trail && found.includes('://')) found = found.slice(0, -trail[0].length);
    const href = found.includes('://') ? webUrl(found) : `mailto:${found}`;
    out += escapeHtml(text.slice(last, m.index));
    out += href
      ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${escapeHtml(found)}</a>`
      : escapeHtml(found);
    last = m.index + found.length;
  }
  out += escapeHtml(text.slice(last));
  return {
    html: `<div style="white-space: pre-wrap">${out}</div>`,
    remoteImages: 0,
    truncated,
  };
}
