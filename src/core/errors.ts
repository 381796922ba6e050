/**
 * @module Errors shared by every layer.
 * `UsageError` is a mistake by the person at the keyboard (bad argument, bad config) and is shown
 * as one line; anything else that escapes is a bug and is logged with its stack.
 */

/** A user-facing error: printed as one line, never with a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Text of any thrown value, for one-line reports. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
