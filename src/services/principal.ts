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
  /** The TLS version of the connection, or null without TLS (absent: not known). */
  tls?: string | null;
  /** What the client calls itself (IMAP ID name, HTTP User-Agent, SMTP EHLO name), if it said. */
  client?: string | null;
  /** The listener the connection came in on (`imaps`, `submission`…), when the protocol has
   * several; on HTTP, `tls` tells `http` from `https`. */
  listener?: string;
}

/** How the holder of an account principal proved who they are, and when. */
export interface AuthProof {
  /** `password`: the account password (with the second factor when enrolled) just now;
   * `session`: a browser session, whose password was last entered at `at`. */
  method: 'password' | 'app-password' | 'token' | 'session';
  /** When the password was entered (Unix ms). */
  at: number;
  /** The app password, token or browser session used; null for the account password. */
  credential: string | null;
}

const issued = new WeakSet<Principal>();
const proofs = new WeakMap<Principal, AuthProof>();

/** Issues a principal. Internal to services/: not exported from services/index.ts. */
export function issue<P extends Principal>(principal: P, proof?: AuthProof): P {
  Object.freeze(principal);
  issued.add(principal);
  if (proof) proofs.set(principal, Object.freeze({ ...proof }));
  return principal;
}

/** How an issued account principal was authenticated. Internal to services/. */
export function proofOf(principal: Principal): AuthProof | undefined {
  return proofs.get(principal);
}

/** True when the principal was issued by this process's services layer. */
export function isIssued(principal: Principal): boolean {
  return issued.has(principal);
}

/** The caller's own account id, or null when the caller is not an account. */
export function ownAccount(ctx: Ctx): number | null {
  return isIssued(ctx.principal) && ctx.principal.kind === 'account' ? ctx.principal.accountId : null;
}

/** A context for an unauthenticated network peer. */
export function anonymousContext(origin: Origin): Ctx {
  return Object.freeze({ principal: issue({ kind: 'anonymous' as const }), ...origin });
}

/** How long after entering the password an account may change its credentials. */
export const FRESH_AUTH_MS = 5 * 60_000;

/**
 * True when the caller may change credentials: the administrator, or an account that entered
 * its password (not an app password or token) within FRESH_AUTH_MS.
 */
export function freshlyAuthenticated(ctx: Ctx, now: number): boolean {
  if (!isIssued(ctx.principal)) return false;
  if (ctx.principal.kind === 'admin') return true;
  const proof = proofOf(ctx.principal);
  return (
    ctx.principal.kind === 'account' &&
    (proof?.method === 'password' || proof?.method === 'session') &&
    now - proof.at <= FRESH_AUTH_MS
  );
}
