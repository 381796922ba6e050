/**
 * @module The IMAP protocol's user-visible failure: `tag NO [code] text` (STYLE.md R6). Syntax
 * errors are ImapSyntaxError (wire/tokens.ts) and become BAD; anything else is a bug.
 */

/** The client sees `NO [code] text`. */
export class ImapNo extends Error {
  constructor(
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** Failed logins before the server hangs up. */
export const MAX_AUTH_FAILURES = 3;
