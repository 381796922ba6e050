/**
 * @module The Received trace header the server prepends to mail it accepts (RFC 5321 §4.4):
 * over SMTP, submission, or JMAP.
 * Client-supplied text (the HELO name) is reduced to safe characters so it can never add a line
 * or a field to the header.
 */
import { rfc5322Date } from './date.ts';

/** What the trace header records about one SMTP transaction. */
export interface TraceInfo {
  helo: string;
  remoteAddress: string;
  hostname: string;
  /** RFC 3848 / RFC 6531 protocol: ESMTP, ESMTPS, UTF8SMTP, UTF8SMTPS. */
  with: string;
  id: string;
  /** Single recipient, added as `for <…>` (omitted for several, to not disclose them). */
  recipient: string | null;
  tls: string | null;
  time: number;
}

/** Keeps only characters that are safe in a Received clause, at most 255 of them. */
export function traceToken(text: string): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '?').replace(/[()\\;]/g, '?');
  return clean.slice(0, 255) || 'unknown';
}

/** Formats the header, folded, ending in CRLF. */
export function formatReceived(t: TraceInfo): string {
  const lines = [
    `Received: from ${traceToken(t.helo)} ([${traceToken(t.remoteAddress)}])`,
    `\tby ${t.hostname} (Portcullis) with ${t.with} id ${t.id}`,
  ];
  if (t.tls) lines.push(`\t(${t.tls.split(' ').map(traceToken).join(' ')})`);
  if (t.recipient) lines.push(`\tfor <${traceToken(t.recipient)}>`);
  const last = lines.length - 1;
  lines[last] = `${lines[last]}; ${rfc5322Date(t.time)}`;
  return `${lines.join('\r\n')}\r\n`;
}
