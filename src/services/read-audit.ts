/**
 * @module Recording reads of mail (ATTACKS.md §3.2, LG-01): every read of message bytes through
 * the mail service is counted per account, credential or session, and minute, and written as one
 * `mail.read` audit record with the number of messages, reads and bytes and a digest of the
 * message ids. A whole mailbox downloaded over IMAP or JMAP thus costs a bounded number of
 * records, and none is skipped.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Audit } from './audit.ts';
import { type Ctx, proofOf } from './principal.ts';

interface Window {
  ctx: Ctx;
  account: number;
  minute: number;
  ids: Set<number>;
  reads: number;
  bytes: number;
}

/** Creates the read counter; `note` is called by the mail service on every read of bytes. */
export function createReadAudit(
  audit: Audit,
  clock: Clock,
  /** Told of every read at once (the detector). */
  onRead: (ctx: Ctx, account: number, messages: number, bytes: number) => void = () => {},
) {
  const open = new Map<string, Window>();
  const emit = (w: Window): void => {
    const ids = [...w.ids].sort((a, b) => a - b);
    audit({
      action: 'mail.read',
      outcome: 'ok',
      origin: w.ctx,
      account: w.account,
      credential: proofOf(w.ctx.principal)?.credential ?? null,
      detail: {
        messages: ids.length,
        reads: w.reads,
        bytes: w.bytes,
        ids: createHash('sha256').update(ids.join(',')).digest('hex'),
        minute: new Date(w.minute * 60_000).toISOString(),
      },
    });
  };
  /** Writes every window that has closed (all of them with `all`). */
  const close = (all: boolean): void => {
    const minute = Math.floor(clock.now() / 60_000);
    for (const [key, w] of open)
      if (all || w.minute < minute) {
        open.delete(key);
        emit(w);
      }
  };
  const timer = setInterval(() => close(false), 15_000).unref();
  return {
    note(ctx: Ctx, account: number, reads: { id: number; bytes: number }[]): void {
      if (reads.length === 0) return;
      const minute = Math.floor(clock.now() / 60_000);
      const who = proofOf(ctx.principal)?.credential ?? ctx.sessionId;
      const key = `${account}\u0000${ctx.protocol}\u0000${who}`;
      let w = open.get(key);
      if (w && w.minute !== minute) {
        open.delete(key);
        emit(w);
        w = undefined;
      }
      if (!w) {
        w = { ctx, account, minute, ids: new Set(), reads: 0, bytes: 0 };
        open.set(key, w);
      }
      for (const r of reads) {
        w.ids.add(r.id);
        w.bytes += r.bytes;
      }
      w.reads += reads.length;
      onRead(
        ctx,
        account,
        reads.length,
        reads.reduce((sum, r) => sum + r.bytes, 0),
      );
    },
    /** Writes every open window (at shutdown). */
    flush(): void {
      close(true);
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}

/** The read counter's interface. */
export type ReadAudit = ReturnType<typeof createReadAudit>;
