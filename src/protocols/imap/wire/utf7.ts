/**
 * @module Modified UTF-7 for mailbox names (RFC 3501 §5.1.3), used with IMAP4rev1 clients that
 * have not enabled UTF8=ACCEPT or IMAP4rev2.
 */

/** Encodes a Unicode mailbox name in modified UTF-7. */
export function encodeMutf7(name: string): string {
  let out = '';
  let pending = '';
  const flush = (): void => {
    if (!pending) return;
    const utf16 = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) utf16.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = '';
  };
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else pending += ch;
  }
  flush();
  return out;
}

/** Decodes a modified UTF-7 mailbox name, or returns null when it is not valid. */
export function decodeMutf7(text: string): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e) return null;
    if (ch !== '&') {
      out += ch;
      i++;
      continue;
    }
    const end = text.indexOf('-', i);
    if (end < 0) return null;
    if (end === i + 1) {
      out += '&';
      i += 2;
      continue;
    }
    const b64 = text.slice(i + 1, end).replace(/,/g, '/');
    if (!/^[A-Za-z0-9+/]+$/.test(b64)) return null;
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length % 2 !== 0) return null;
    for (let j = 0; j < bytes.length; j += 2) out += String.fromCharCode(bytes.readUInt16BE(j));
    i = end + 1;
  }
  return out;
}
