/**
 * @module The audit path: every sign-in, failed sign-in and credential change is reported here,
 * by the services (so no protocol can skip it), as one structured record: what happened, its
 * outcome, who (account, credential, session) and from where (protocol, remote address).
 * Records never hold secrets, codes or tokens. Each record goes to the process log and to the
 * store's hash-chained audit log (ATTACKS.md §3), written in batches off the request path; a
 * failing write is retried, never dropped, and reported as `audit.degraded`.
 * The administrator reads the log through the audit service (search, verify, export), and every
 * read is itself recorded.
 */
import { type ChainBreak, verifyChain } from '../core/audit-chain.ts';
import type { Clock } from '../core/clock.ts';
import type { ManifestDiff } from '../core/integrity.ts';
import type { Logger } from '../core/log.ts';
import { fail, ok, type Result } from '../core/result.ts';
import type { AuditEntry, AuditInput, Store } from '../store/types.ts';
import { type Ctx, isIssued, type Origin } from './principal.ts';
import type { Webhook } from './webhook.ts';

/** One audit record. */
export interface AuditEvent {
  /** Dotted action name, e.g. `auth.signin`, `credential.totp.remove`. */
  action: string;
  outcome: 'ok' | 'failed' | 'refused';
  /** Where the request came from (a Ctx is an Origin too). */
  origin: Origin;
  /** The account acted on, when known. */
  account?: number | null;
  /** The credential used or changed (app password id, session id), never the secret. */
  credential?: string | null;
  /** Small facts (method, counts, reasons); never secrets or mail content. */
  detail?: Record<string, string | number | boolean | null>;
}

/** Records an audit event. */
export type Audit = (event: AuditEvent) => void;

/** Events buffered before a write is forced. */
const BATCH = 500;
/** Longest wait before buffered events are written. */
const FLUSH_MS = 50;

/** The audit path: the log line at once, the chained record in the next batch. */
export function createAuditSink(deps: {
  store: Store;
  log: Logger;
  clock: Clock;
  /** Told once each time writing starts failing, with the records waiting (for an alert). */
  onDegraded?: (waiting: number) => void;
}) {
  const { store, log, clock } = deps;
  let pending: AuditInput[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> | null = null;
  let degraded = false;

  const write = async (): Promise<void> => {
    timer = null;
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      try {
        await store.appendAudit(batch);
        if (degraded) {
          degraded = false;
          pending.unshift(
            input('audit.recovered', 'ok', { protocol: 'cli', remote: 'local', sessionId: 'audit' }, {}),
          );
        }
      } catch (err) {
        // Never dropped: the batch goes back in front and is tried again.
        pending = [...batch, ...pending];
        if (!degraded) {
          degraded = true;
          log.error({ err, waiting: pending.length }, 'audit.degraded: the audit log cannot be written');
          deps.onDegraded?.(pending.length);
          pending.push(
            input(
              'audit.degraded',
              'failed',
              { protocol: 'cli', remote: 'local', sessionId: 'audit' },
              { waiting: pending.length },
            ),
          );
        }
        timer ??= setTimeout(schedule, 1000).unref();
        return;
      }
    }
  };
  const schedule = (): void => {
    writing ??= write().finally(() => {
      writing = null;
    });
  };
  /** Client names are the client's own words: control characters go, the length is bounded. */
  const printable = (text: string): string => text.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 100);
  const input = (
    action: string,
    outcome: AuditEvent['outcome'],
    origin: Origin,
    detail: Record<string, string | number | boolean | null>,
    account: number | null = null,
    credential: string | null = null,
  ): AuditInput => ({
    at: clock.now(),
    accountId: account,
    action,
    fields: {
      outcome,
      protocol: origin.protocol,
      remote: origin.remote,
      session: origin.sessionId,
      ...(origin.listener ? { listener: origin.listener } : {}),
      ...(origin.tls !== undefined ? { tls: origin.tls } : {}),
      ...(origin.client ? { client: printable(origin.client) } : {}),
      account,
      credential,
      ...(Object.keys(detail).length > 0 ? { detail } : {}),
    },
  });

  const record: Audit = (e) => {
    log.info(
      {
        audit: true,
        action: e.action,
        outcome: e.outcome,
        protocol: e.origin.protocol,
        remote: e.origin.remote,
        session: e.origin.sessionId,
        account: e.account ?? null,
        credential: e.credential ?? null,
        ...(e.detail ? { detail: e.detail } : {}),
      },
      `audit ${e.action} ${e.outcome}`,
    );
    pending.push(
      input(e.action, e.outcome, e.origin, e.detail ?? {}, e.account ?? null, e.credential ?? null),
    );
    if (pending.length >= BATCH) schedule();
    else timer ??= setTimeout(schedule, FLUSH_MS).unref();
  };

  return {
    record,
    /** Writes everything buffered (before the store closes). */
    async flush(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = null;
      await writing;
      await write();
    },
  };
}

/** The result of checking the audit chain. */
export interface AuditVerification {
  /** Records checked. */
  records: number;
  start: { seq: number; hash: string };
  head: { seq: number; hash: string };
  /** The first record that does not fit, or a checkpoint that does not match; null when sound. */
  problem: ChainBreak | null;
}

/** Records read per round when verifying or exporting. */
const PAGE = 5000;

/** The administrator's view of the audit log. */
export function createAuditService(deps: { store: Store; audit: Audit; webhook?: Webhook }) {
  const { store, audit } = deps;
  const admin = (
    ctx: Ctx,
    action: string,
    detail: Record<string, string | number | boolean | null>,
  ): boolean => {
    const allowed = isIssued(ctx.principal) && ctx.principal.kind === 'admin';
    audit({ action: `audit.${action}`, outcome: allowed ? 'ok' : 'refused', origin: ctx, detail });
    return allowed;
  };
  return {
    /** Records in order, filtered; reading is recorded. */
    async search(
      ctx: Ctx,
      filter: { accountId?: number; actionPrefix?: string; since?: number; afterSeq?: number; limit: number },
    ): Promise<Result<AuditEntry[], 'forbidden'>> {
      if (!admin(ctx, 'read', { account: filter.accountId ?? null, action: filter.actionPrefix ?? null }))
        return fail('forbidden');
      return ok(await store.readAudit(filter));
    },

    /**
     * Recomputes the whole chain. With `checkpoint` (a seq and hash kept elsewhere), also checks
     * that the record at that seq still has that hash, which shows truncation and rewriting.
     */
    async verify(
      ctx: Ctx,
      checkpoint: { seq: number; hash: string } | null,
    ): Promise<Result<AuditVerification, 'forbidden'>> {
      if (!admin(ctx, 'verify', { checkpoint: checkpoint ? checkpoint.seq : null })) return fail('forbidden');
      const { start, head } = await store.auditBounds();
      let last = start;
      let records = 0;
      let problem: ChainBreak | null = null;
      let checkpointSeen = checkpoint === null || checkpoint.seq === start.seq;
      if (checkpoint && checkpoint.seq === start.seq && checkpoint.hash !== start.hash)
        problem = { seq: checkpoint.seq, reason: 'the checkpoint does not match where the chain starts' };
      if (checkpoint && checkpoint.seq < start.seq) checkpointSeen = true;
      // Up to the head read above: records appended meanwhile (this very check is one) are for
      // the next verification.
      while (!problem && last.seq < head.seq) {
        const page = (await store.readAudit({ afterSeq: last.seq, limit: PAGE })).filter(
          (e) => e.seq <= head.seq,
        );
        if (page.length === 0) break;
        const r = verifyChain(page, last.seq, last.hash);
        records += page.length;
        if (checkpoint && !checkpointSeen) {
          const at = page.find((e) => e.seq === checkpoint.seq);
          if (at) {
            checkpointSeen = true;
            if (at.hash !== checkpoint.hash)
              problem = { seq: at.seq, reason: 'the record differs from the checkpoint kept elsewhere' };
          }
        }
        problem ??= r.break;
        last = r.last;
      }
      if (!problem && last.seq !== head.seq)
        problem = { seq: last.seq + 1, reason: 'the chain stops before its newest record' };
      if (!problem && checkpoint && !checkpointSeen)
        problem = {
          seq: checkpoint.seq,
          reason: 'records up to the checkpoint are missing (the log was truncated)',
        };
      return ok({ records, start, head, problem });
    },

    /** Every record from `afterSeq` on, page by page, as stored (text and hash). */
    async *export(ctx: Ctx, afterSeq = 0): AsyncGenerator<AuditEntry> {
      if (!admin(ctx, 'export', { after: afterSeq })) return;
      let after = afterSeq;
      for (;;) {
        const page = await store.readAudit({ afterSeq: after, limit: PAGE });
        if (page.length === 0) return;
        yield* page;
        after = page[page.length - 1]!.seq;
      }
    },

    /** The newest record's seq and hash: a checkpoint to keep off this machine. */
    async checkpoint(ctx: Ctx): Promise<Result<{ seq: number; hash: string }, 'forbidden'>> {
      if (!admin(ctx, 'checkpoint', {})) return fail('forbidden');
      return ok((await store.auditBounds()).head);
    },

    /**
     * Takes a checkpoint to keep off this machine: logged, recorded, and sent to the webhook
     * when one is configured (the server runs this periodically; `audit verify --checkpoint`
     * then shows a log cut short or rewritten before it).
     */
    async anchor(ctx: Ctx): Promise<Result<{ seq: number; hash: string }, 'forbidden'>> {
      if (!admin(ctx, 'anchor', {})) return fail('forbidden');
      const head = (await store.auditBounds()).head;
      await deps.webhook?.(
        { kind: 'audit.checkpoint', at: new Date().toISOString(), checkpoint: `${head.seq}:${head.hash}` },
        `checkpoint ${head.seq}`,
      );
      return ok(head);
    },

    /**
     * Records the state of the server's own code (ATTACKS.md LG-05): its manifest digest, and
     * what differs from the manifest it is checked against (at start, the previous start's; while
     * running, the start's). A difference is a `system.integrity` failure, which raises an alert.
     */
    integrity(
      ctx: Ctx,
      phase: 'start' | 'running',
      digest: string,
      diff: ManifestDiff | null,
    ): Result<void, 'forbidden'> {
      if (!isIssued(ctx.principal) || ctx.principal.kind !== 'admin') return fail('forbidden');
      const changed = diff !== null && diff.added.length + diff.changed.length + diff.removed.length > 0;
      const list = (paths: string[]) => (paths.length > 10 ? [...paths.slice(0, 10), '…'] : paths).join(' ');
      audit({
        action: 'system.integrity',
        outcome: changed ? 'failed' : 'ok',
        origin: ctx,
        detail: {
          phase,
          digest,
          ...(diff && changed
            ? { added: list(diff.added), changed: list(diff.changed), removed: list(diff.removed) }
            : {}),
        },
      });
      return ok(undefined);
    },

    /** Removes records older than the retention period; the removal is itself recorded. */
    async prune(ctx: Ctx, before: number): Promise<Result<{ removed: number }, 'forbidden'>> {
      if (!isIssued(ctx.principal) || ctx.principal.kind !== 'admin') return fail('forbidden');
      const r = await store.pruneAudit(before);
      if (r.removed > 0)
        audit({
          action: 'audit.prune',
          outcome: 'ok',
          origin: ctx,
          detail: {
            removed: r.removed,
            startSeq: r.start.seq,
            startHash: r.start.hash,
            before: new Date(before).toISOString(),
          },
        });
      return ok({ removed: r.removed });
    },
  };
}

/** The audit service's interface. */
export type AuditService = ReturnType<typeof createAuditService>;
