/**
 * @module The /changes methods (RFC 8620 §5.2) for Email and Mailbox, read from the per-account
 * change log that also feeds IMAP CONDSTORE: a state string is a modseq. An object changed since
 * the old state is `created` if it did not exist then, `destroyed` if it is gone now, otherwise
 * `updated`; one that came and went in between is not reported. maxChanges is honoured by
 * stopping at a modseq boundary and returning that intermediate state with hasMoreChanges.
 * Trust: sinceState and maxChanges are client input; a state we cannot read, or one from the
 * future, gets cannotCalculateChanges.
 */
import { fail, ok, type Result } from '../../../core/result.ts';
import type { MethodContext } from '../core/api.ts';
import { accountState } from './account.ts';
import { unsigned } from './args.ts';

/** Change-log rows read per round. */
const PAGE = 5000;
/** Largest maxChanges honoured (a larger one is lowered). */
const MAX_CHANGES = 5000;

/** Ids changed since a state, classified, with the state they bring the client to. */
export interface Delta {
  oldState: string;
  newState: string;
  hasMoreChanges: boolean;
  created: number[];
  updated: number[];
  destroyed: number[];
  /** Mailboxes whose counts changed because their emails did (Mailbox/changes). */
  countsOnly: Set<number>;
}

/**
 * Collects the changes of `type` after `sinceState`. For Mailbox, mailboxes whose emails changed
 * count as updated too (their counts moved). `exists` says whether an object exists now.
 */
export async function delta(
  mc: MethodContext,
  args: Record<string, unknown>,
  type: 'Email' | 'Mailbox' | 'Thread' | 'Identity' | 'EmailSubmission',
  exists: (id: number) => boolean,
): Promise<Result<Delta, string>> {
  const since = args['sinceState'];
  if (typeof since !== 'string') return fail('invalidArguments', 'sinceState must be a string');
  const max = unsigned(args, 'maxChanges', MAX_CHANGES);
  if (!max.ok) return max;
  if (max.value === 0) return fail('invalidArguments', 'maxChanges must be positive');
  const limit = Math.min(max.value, MAX_CHANGES);
  const current = await accountState(mc);
  if (!current.ok) return current;
  if (!/^(0|[1-9]\d{0,15})$/.test(since) || Number(since) > Number(current.value))
    return fail('cannotCalculateChanges', 'unknown state');
  const order: number[] = [];
  const touched = new Set<number>();
  const direct = new Set<number>();
  let cursor = Number(since);
  let reached = Number(since);
  let more = false;
  for (;;) {
    const rows = await mc.services.mail.changesSince(mc.ctx, cursor, PAGE);
    if (!rows.ok) return fail('forbidden');
    if (rows.value.length === 0) break;
    // Whole modseqs only: a page may end in the middle of one.
    const full =
      rows.value.length === PAGE
        ? rows.value.filter((r) => r.modseq < rows.value.at(-1)!.modseq)
        : rows.value;
    if (full.length === 0) return fail('cannotCalculateChanges', 'too many changes in one transaction');
    let stop = false;
    for (let i = 0; i < full.length; ) {
      const modseq = full[i]!.modseq;
      const group: number[] = [];
      const start = i;
      for (; i < full.length && full[i]!.modseq === modseq; i++) {
        const r = full[i]!;
        if (r.type === type) group.push(r.objectId);
        else if (type === 'Mailbox' && r.type === 'Email' && r.mailboxId !== null) group.push(-r.mailboxId);
      }
      // A delivery also logs its mailbox as updated: with an email change in the same mailbox
      // and transaction, that is a change of counts, not of the mailbox itself.
      if (type === 'Mailbox')
        for (const r of full.slice(start, i))
          if (r.type === 'Mailbox' && r.op === 'update' && group.includes(-r.objectId))
            group.splice(group.indexOf(r.objectId), 1, -r.objectId);
      const fresh = new Set(group.map(Math.abs).filter((id) => !touched.has(id)));
      if (touched.size + fresh.size > limit && touched.size > 0) {
        stop = true;
        more = true;
        break;
      }
      for (const g of group) {
        const id = Math.abs(g);
        if (!touched.has(id)) order.push(id);
        touched.add(id);
        if (g > 0) direct.add(id);
      }
      reached = modseq;
    }
    if (stop || rows.value.length < PAGE) break;
    cursor = reached;
  }
  if (!more) reached = Number(current.value);
  const before = await mc.services.mail.existedAt(mc.ctx, type, order, Number(since));
  if (!before.ok) return fail('forbidden');
  const created: number[] = [];
  const updated: number[] = [];
  const destroyed: number[] = [];
  for (const id of order) {
    const was = before.value.has(id);
    const is = exists(id);
    if (is && !was) created.push(id);
    else if (is) updated.push(id);
    else if (was) destroyed.push(id);
  }
  const countsOnly = new Set(updated.filter((id) => !direct.has(id)));
  return ok({
    oldState: since,
    newState: String(reached),
    hasMoreChanges: more,
    created,
    updated,
    destroyed,
    countsOnly,
  });
}

/** The /changes response (RFC 8620 §5.2) for a delta, with ids in their JMAP form. */
export function changesResponse(
  mc: MethodContext,
  d: Delta,
  toId: (id: number) => string,
): Record<string, unknown> {
  return {
    accountId: mc.accountId,
    oldState: d.oldState,
    newState: d.newState,
    hasMoreChanges: d.hasMoreChanges,
    created: d.created.map(toId),
    updated: d.updated.map(toId),
    destroyed: d.destroyed.map(toId),
  };
}
