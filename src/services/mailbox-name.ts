/**
 * @module Mailbox names: logical strings with "/" as the hierarchy separator, never paths
 * (ATTACKS.md R6, IM-07). INBOX is case-insensitive (RFC 9051 §5.1).
 */
import { MAILBOX_MAX_DEPTH, MAILBOX_NAME_MAX_BYTES } from '../core/limits.ts';

/** The hierarchy separator. */
export const SEPARATOR = '/';

/** Canonical form of a mailbox name (INBOX in upper case), or a reason it is refused. */
export function checkMailboxName(input: string): { ok: true; name: string } | { ok: false; reason: string } {
  const name = input.normalize('NFC');
  if (name.length === 0) return { ok: false, reason: 'empty mailbox name' };
  if (Buffer.byteLength(name) > MAILBOX_NAME_MAX_BYTES) return { ok: false, reason: 'mailbox name too long' };
  if (/[\u0000-\u001f\u007f*%]/.test(name))
    return { ok: false, reason: 'control characters or wildcards in mailbox name' };
  const parts = name.split(SEPARATOR);
  if (parts.some((p) => p.length === 0)) return { ok: false, reason: 'empty level in mailbox name' };
  if (parts.some((p) => p === '.' || p === '..'))
    return { ok: false, reason: 'invalid level in mailbox name' };
  if (parts.length > MAILBOX_MAX_DEPTH) return { ok: false, reason: 'mailbox hierarchy too deep' };
  if (parts[0]!.toUpperCase() === 'INBOX') parts[0] = 'INBOX';
  return { ok: true, name: parts.join(SEPARATOR) };
}
