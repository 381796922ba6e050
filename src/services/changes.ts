/**
 * @module Change notifications: after a write commits, services announce the account's new
 * modseq; IMAP IDLE (and later JMAP push and DAV) sessions that watch the account look up what
 * changed in the change log. Listeners get no data, only "something changed up to modseq N".
 */
import type { Ctx } from './principal.ts';
import { isIssued } from './principal.ts';

type Listener = (modseq: number) => void;

/** Creates the change hub: `publish` stays inside services, `watch` is for protocols. */
export function createChanges() {
  const listeners = new Map<number, Set<Listener>>();
  return {
    /** Announces a committed change (services only). */
    publish(accountId: number, modseq: number): void {
      for (const l of listeners.get(accountId) ?? []) {
        try {
          l(modseq);
        } catch {
          // A failing listener must not stop the others or the writer.
        }
      }
    },
    /** Calls `listener` after each change to the caller's own account; returns an unsubscriber. */
    watch(ctx: Ctx, listener: Listener): (() => void) | null {
      if (!isIssued(ctx.principal) || ctx.principal.kind !== 'account') return null;
      const id = ctx.principal.accountId;
      let set = listeners.get(id);
      if (!set) {
        set = new Set();
        listeners.set(id, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(id);
      };
    },
  };
}

/** The change hub. */
export type Changes = ReturnType<typeof createChanges>;
