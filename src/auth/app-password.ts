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
