/**
 * @module Server-generated identifiers. Ids are opaque, random and never derived from input.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** A random identifier of `bytes` bytes of entropy in lower-case base32 (RFC 4648 alphabet). */
export function randomId(bytes = 10): string {
  const buf = randomBytes(bytes);
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** A password for generated accounts (demo user): 20 characters of base32, about 100 bits. */
export function randomPassword(): string {
  return randomId(13).slice(0, 20);
}
