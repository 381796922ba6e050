/**
 * @module Result values for outcomes a caller should expect (STYLE.md R5).
 * Services return `Result` for "not found", "exists", "forbidden" and the like, and throw only
 * when infrastructure breaks.
 */

/** Success or an expected failure, discriminated by `ok`. */
export type Result<T, E extends string> = { ok: true; value: T } | { ok: false; error: E; detail?: string };

/** Wraps a success. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Wraps an expected failure, with an optional human-readable detail. */
export function fail<E extends string>(error: E, detail?: string): { ok: false; error: E; detail?: string } {
  return detail === undefined ? { ok: false, error } : { ok: false, error, detail };
}
