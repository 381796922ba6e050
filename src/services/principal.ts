/**
 * @module Principals and access contexts (DESIGN.md §1, ATTACKS.md R2/R3).
 * A principal can only be issued by the services layer: after a credential check (accounts), for
 * anonymous network peers (which may do nothing but deliver mail to local recipients), or by the
 * local administrator module that only the CLI can import. Services refuse any principal they did
 * not issue, so a protocol cannot forge a more powerful identity by building an object.
 */

/** Network protocols and local tools that call services. */
export type Protocol = 'smtp' | 'submission' | 'imap' | 'jmap' | 'dav' | 'web' | 'cli';

/** Who is asking. */
export type Principal =
  | { readonly kind: 'account'; readonly accountId: number; readonly address: string }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'admin'; readonly name: string };

/** The access context every service call takes. */
export interface Ctx {
  readonly principal: Principal;
  readonly protocol: Protocol;
  /** Remote address of the client, or "local" for the CLI. */
  readonly remote: string;
  /** Identifies the connection or session, for logs and the audit trail. */
  readonly sessionId: string;
}

/** Where a request comes from, before anyone is authenticated. */
export interface Origin {
  protocol: Protocol;
  remote: string;
  sessionId: string;
}

const issued = new WeakSet<Principal>();

/** Issues a principal. Internal to services/: not exported from services/index.ts. */
export function issue<P extends Principal>(principal: P): P {
  Object.freeze(principal);
  issued.add(principal);
  return principal;
}

/** True when the principal was issued by this process's services layer. */
export function isIssued(principal: Principal): boolean {
  return issued.has(principal);
}

/** A context for an unauthenticated network peer. */
export function anonymousContext(origin: Origin): Ctx {
  return Object.freeze({ principal: issue({ kind: 'anonymous' as const }), ...origin });
}
