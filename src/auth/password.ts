/**
 * @module Password hashing with Argon2id (RFC 9106), and verification that takes the same time
 * whether or not the account exists (ATTACKS.md AU-03).
 * Trust: inputs are credentials from the network; they are passed as values, never concatenated
 * into any protocol or template (IM-08).
 */
import { hash, verify } from '@node-rs/argon2';

/** Argon2id parameters: OWASP's 19 MiB / 2 passes / 1 lane baseline. */
const PARAMS = { algorithm: 2 as const, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Longest password accepted, in bytes; longer input is refused before hashing. */
export const PASSWORD_MAX_BYTES = 1024;
/** Shortest password an administrator or user may set. */
export const PASSWORD_MIN_CHARS = 8;

let dummy: Promise<string> | null = null;

/** Hashes a password for storage (PHC string). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

/**
 * Checks `password` against a stored hash. With `stored === null` (unknown user) a dummy hash is
 * verified instead, so the reply takes as long as for a known user, and the result is false.
 */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (Buffer.byteLength(password) > PASSWORD_MAX_BYTES) return false;
  dummy ??= hashPassword('portcullis-dummy-password');
  const target = stored ?? (await dummy);
  let ok = false;
  try {
    ok = await verify(target, password);
  } catch {
    ok = false;
  }
  return ok && stored !== null;
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if ([...password].length < PASSWORD_MIN_CHARS)
    return `password must have at least ${PASSWORD_MIN_CHARS} characters`;
  if (Buffer.byteLength(password) > PASSWORD_MAX_BYTES)
    return `password must have at most ${PASSWORD_MAX_BYTES} bytes`;
  if (/[\0\r\n]/.test(password)) return 'password must not contain NUL or line breaks';
  return null;
}
