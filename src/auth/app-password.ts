/**
 * @module App passwords: long random secrets shown once, for one client each. Stored as SHA-256:
 * with 100 random bits a fast hash is as strong as a slow one, and a login finds the credential
 * by its hash instead of trying each in turn.
 * Trust: the typed password is untrusted input; only its normal form is hashed.
 */
import { createHash, randomInt } from 'node:crypto';

/** Letters and digits that cannot be mistaken for one another (no l, o, 0, 1): 32 symbols. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const LENGTH = 20;

/** A new app password, as shown to the user: five groups of four (100 random bits). */
export function newAppPassword(): string {
  let out = '';
  for (let i = 0; i < LENGTH; i++) out += (i > 0 && i % 4 === 0 ? '-' : '') + ALPHABET[randomInt(32)];
  return out;
}

/** The SHA-256 of a typed password when it has the form of an app password (dashes, spaces and
 * case ignored), else null. */
export function appPasswordHash(typed: string): string | null {
  const normal = typed.toLowerCase().replace(/[-\s]/g, '');
  if (normal.length !== LENGTH || ![...normal].every((c) => ALPHABET.includes(c))) return null;
  return createHash('sha256').update(normal).digest('hex');
}

/** Kinds of tokens: `ptk` bearer tokens of API clients, `pcs` browser session cookies. */
export type TokenKind = 'ptk' | 'pcs';

/** A new token for an account: `<kind>_<account id>_<32 symbols>` (160 random bits). The
 * account id lets the token be found per account, as every credential lookup is. */
export function newToken(accountId: number, kind: TokenKind = 'ptk'): string {
  let secret = '';
  for (let i = 0; i < 32; i++) secret += ALPHABET[randomInt(32)];
  return `${kind}_${accountId}_${secret}`;
}

/** The account id and SHA-256 of a presented token of that kind, or null when it is not one. */
export function parseToken(
  token: string,
  kind: TokenKind = 'ptk',
): { accountId: number; hash: string } | null {
  const m = /^([a-z]{3})_([1-9]\d{0,14})_([a-z2-9]{32})$/.exec(token);
  if (!m || m[1] !== kind || ![...m[3]!].every((c) => ALPHABET.includes(c))) return null;
  return { accountId: Number(m[2]), hash: createHash('sha256').update(token).digest('hex') };
}
