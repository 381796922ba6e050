/**
 * @module Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps) and the
 * recovery codes that replace a lost authenticator. Recovery codes are random (80 bits) and
 * stored as SHA-256, like app passwords.
 * Trust: typed codes are untrusted; only their normal form is compared.
 */
import { createHash, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

const PERIOD_MS = 30_000;

const totp = (secret: string, label = '', issuer = 'Portcullis'): TOTP =>
  new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_MS / 1000,
    secret: Secret.fromBase32(secret),
  });

/** A new secret of 160 bits (the HMAC-SHA-1 block recommended by RFC 4226), in base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://` URI an authenticator app reads (usually from a QR code). */
export function totpUri(secret: string, account: string, issuer: string): string {
  return totp(secret, account, issuer).toString();
}

/**
 * The start (Unix ms) of the time step a code belongs to, when the code is right for the step
 * of `now` or the one before or after it (clock drift); null otherwise.
 */
export function totpStep(secret: string, typed: string, now: number): number | null {
  const code = typed.replace(/\s/g, '');
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secret).validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return null;
  return (Math.floor(now / PERIOD_MS) + delta) * PERIOD_MS;
}

/** The code for a moment (for tests and for showing the user what their app should display). */
export function totpCode(secret: string, now: number): string {
  return totp(secret).generate({ timestamp: now });
}

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Ten new recovery codes, as shown to the user once: `xxxx-xxxx-xxxx-xxxx` (80 bits each). */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: 10 }, () => {
    let out = '';
    for (let i = 0; i < 16; i++) out += (i > 0 && i % 4 === 0 ? '-' : '') + ALPHABET[randomInt(32)];
    return out;
  });
}

/** The SHA-256 of a typed recovery code (dashes, spaces and case ignored), or null when it does
 * not have the form of one. */
export function recoveryCodeHash(typed: string): string | null {
  const normal = typed.toLowerCase().replace(/[-\s]/g, '');
  if (normal.length !== 16 || ![...normal].every((c) => ALPHABET.includes(c))) return null;
  return createHash('sha256').update(`recovery:${normal}`).digest('hex');
}
