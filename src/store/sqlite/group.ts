/**
 * @module Group commit for the writer thread: several callers' writes (deliveries, flag changes,
 * expunges, copies) in one transaction, so one fsync covers them all (DESIGN.md §3). Each request
 * runs in its own savepoint: one that fails is undone alone and reported to its caller only.
 */
import type Database from 'better-sqlite3';
import type { Delivered, NewDelivery } from '../types.ts';
import { createFiler } from './deliver.ts';
import { type MailboxWrites, mailboxWrites } from './mailboxes.ts';

/** A request to the writer: one caller's delivery batch or one mailbox write. */
export type WriteRequest =
  | { id: number; op: 'deliver'; args: [NewDelivery[]] }
  | {
      [K in keyof MailboxWrites]: { id: number; op: K; args: Parameters<MailboxWrites[K]> };
    }[keyof MailboxWrites];

/** The writer's answer to one request. */
export type WriteResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string };

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Returns the function that commits a list of requests together. */
export function createGroupWriter(db: Database.Database): (requests: WriteRequest[]) => WriteResponse[] {
  const fileOne = createFiler(db);
  const fileBatch = db.transaction((batch: NewDelivery[]): Delivered[] => batch.map(fileOne));
  const writes = mailboxWrites(db);
  const apply = (r: WriteRequest): unknown => {
    switch (r.op) {
      case 'deliver':
        return fileBatch(r.args[0]);
      case 'updateFlags':
        return writes.updateFlags(...r.args);
      case 'expunge':
        return writes.expunge(...r.args);
      case 'copyEntries':
        return writes.copyEntries(...r.args);
    }
  };
  return (requests) => {
    const out: WriteResponse[] = [];
    try {
      db.transaction(() => {
        for (const r of requests) {
          try {
            out.push({ id: r.id, ok: true, value: apply(r) });
          } catch (err) {
            out.push({ id: r.id, ok: false, error: message(err) });
          }
        }
      }).immediate();
    } catch (err) {
      return requests.map((r) => ({ id: r.id, ok: false, error: message(err) }));
    }
    return out;
  };
}
