/**
 * @module The shape of an IMAP command handler (STYLE.md R1): the states it is valid in and what
 * it does. The dispatcher in session.ts checks the state before calling `run`.
 */
import type { Session } from '../session.ts';
import type { Frame } from '../wire/reader.ts';
import type { Args } from '../wire/tokens.ts';

/** Session states (RFC 9051 §3). */
export type State = Session['state'];

/** One command. */
export interface ImapCommand {
  states: State[];
  run(session: Session, tag: string, args: Args, frame: Frame): Promise<void>;
}

export const ANY: State[] = ['not-authenticated', 'authenticated', 'selected'];
export const AUTHED: State[] = ['authenticated', 'selected'];
export const SELECTED: State[] = ['selected'];
export const NOT_AUTHED: State[] = ['not-authenticated'];
