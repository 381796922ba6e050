/**
 * @module The audit path: every sign-in, failed sign-in and credential change is reported here,
 * by the services (so no protocol can skip it), as one structured record: what happened, its
 * outcome, who (account, credential, session) and from where (protocol, remote address).
 * Records never hold secrets, codes or tokens. The sink is the process log (records carry
 * `audit: true`); the tamper-evident store of ATTACKS.md §3 replaces the sink, not the callers.
 */
import type { Logger } from '../core/log.ts';
import type { Origin } from './principal.ts';

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

/** The audit path writing to a logger. */
export function logAudit(log: Logger): Audit {
  return (e) =>
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
}
