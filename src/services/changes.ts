/**
 * @module Change notifications: after a write commits, services announce the account's new
 * modseq; IMAP IDLE and JMAP push sessions that watch the account look up what changed in the
 * change log. Listeners get no data, only "something changed up to modseq N". Where the store
 * is shared by several nodes it also announces commits made elsewhere (Store.watchChanges); an
 * announcement that is not newer than the last one an account's listeners had is dropped, so a
 * change heard both ways is told once.
 */
import type { Store } from '../store/types.ts';
import type { Ctx } from './principal.ts';
import { isIssued } from './principal.ts';

type Listener = (modseq: number) => void;

/** Creates the change hub: `publish` stays inside services, `watch` is for protocols. */
export function createChanges(store?: Pick<Store, 'watchChanges'>) {
  const listeners = new Map<number, Set<Listener>>();
  const told = new Map<number, number>();
  const publish = (accountId: number, modseq: number): void => {
    const set = listeners.get(accountId);
    if (!set) return;
    if (modseq <= (told.get(accountId) ?? 0)) return;
    told.set(accountId, modseq);
    for (const l of set) {
      try {
        l(modseq);
      } catch {
        // A failing listener must not stop the others or the writer.
      }
    }
  };
  // Other nodes are heard from once someone here watches.
  let hearing = false;
  return {
    /** Announces a committed change (services only). */
    publish,
    /** Calls `listener` after each change to the caller's own account; returns an unsubscriber. */
    watch(ctx: Ctx, listener: Listener): (() => void) | null {
      if (!isIssued(ctx.principal) || ctx.principal.kind !== 'account') return null;
      const id = ctx.principal.accountId;
      if (!hearing) {
        hearing = true;
        store?.watchChanges?.(publish);
      }
      let set = listeners.get(id);
      if (!set) {
        set = new Set();
        listeners.set(id, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) {
          listeners.delete(id);
          told.delete(id);
        }
      };
    },
  };
}

/** The change hub. */
export type Changes = ReturnType<typeof createChanges>;
