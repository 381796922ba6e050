/**
 * @module Web sign-in: browser sessions with an optional second factor (TOTP, RFC 6238, with
 * recovery codes), session listing and revocation, and fresh authentication for credential
 * changes. A session is a random cookie value bound to one account; the store keeps only its
 * hash. Every sign-in, failure, sign-out and second-factor change goes to the audit path.
 * Trust: user names, passwords, codes and cookie values are untrusted input; unknown accounts
 * and wrong passwords get the same answer after the same work (ATTACKS.md AU-03).
 */
import { newToken, parseToken } from '../auth/app-password.ts';
import { verifyPassword } from '../auth/password.ts';
import { newRecoveryCodes, newTotpSecret, recoveryCodeHash, totpStep, totpUri } from '../auth/totp.ts';
import type { Clock } from '../core/clock.ts';
import { randomId } from '../core/ids.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { canonicalAddress } from '../mail/address.ts';
import type { Account, Store, WebSession } from '../store/types.ts';
import type { Audit } from './audit.ts';
import { type Ctx, freshlyAuthenticated, isIssued, issue, type Origin, proofOf } from './principal.ts';
import type { Throttle, ThrottleRefusal } from './throttle.ts';

/** Expected failures of sign-in calls. */
export type SignInError =
  /** Wrong user name, password, code or session. */
  | 'invalid'
  /** The password was right; the account needs a TOTP or recovery code too. */
  | 'second-factor'
  /** The caller must enter the password again first (fresh authentication). */
  | 'stale'
  | 'forbidden'
  | 'not-found'
  | 'exists';

/** A session as its owner sees it. */
export interface SessionInfo {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  remote: string;
  userAgent: string;
  /** True for the session making the request. */
  current: boolean;
}

/** A resumed session: the context for the request and the token to check CSRF against. */
export interface ActiveSession {
  ctx: Ctx;
  csrf: string;
  expiresAt: number;
}

/** Settings of browser sessions. */
export interface SignInSettings {
  /** A session ends after this long without a request. */
  idleMs: number;
  /** A session ends this long after sign-in whatever its activity. */
  lifetimeMs: number;
  /** Issuer name shown by authenticator apps. */
  issuer: string;
}

/** Sessions one account may hold; signing in beyond this ends the oldest. */
const MAX_SESSIONS = 30;
/** Activity is written at most this often per session. */
const TOUCH_EVERY_MS = 60_000;

/** Creates the sign-in service. */
export function createSignIn(deps: {
  store: Store;
  clock: Clock;
  audit: Audit;
  throttle: Throttle;
  settings: SignInSettings;
}) {
  const { store, clock, audit, throttle, settings } = deps;

  /**
   * The throttle's wait, then `verify`; the outcome is counted (a missing second factor is
   * neither a failure nor a success).
   */
  async function check(
    origin: Origin,
    username: string,
    account: () => Promise<Account | null>,
    password: string,
    code: string | undefined,
  ): Promise<Result<{ account: Account; factor: string }, 'invalid' | 'second-factor' | ThrottleRefusal>> {
    const gate = await throttle.gate(origin, username);
    if (!gate.ok) return gate;
    const checked = await verify(origin, await account(), password, code);
    if (checked.ok || checked.error === 'invalid') throttle.record(origin, username, checked.ok);
    return checked;
  }

  const info = (s: WebSession, current: string | null): SessionInfo => ({
    id: s.id,
    createdAt: s.createdAt,
    lastSeenAt: s.lastSeenAt,
    expiresAt: s.expiresAt,
    remote: s.remote,
    userAgent: s.userAgent,
    current: s.id === current,
  });

  /** The account of the caller when it is an issued account principal. */
  const accountId = (ctx: Ctx): number | null =>
    isIssued(ctx.principal) && ctx.principal.kind === 'account' ? ctx.principal.accountId : null;

  const sessionOf = (ctx: Ctx): string | null => {
    const proof = proofOf(ctx.principal);
    return proof?.method === 'session' ? proof.credential : null;
  };

  /**
   * Checks a password and, when the account has a confirmed second factor, a TOTP code or a
   * recovery code. Returns the account, or why not.
   */
  async function verify(
    origin: Origin,
    account: Account | null,
    password: string,
    code: string | undefined,
  ): Promise<Result<{ account: Account; factor: string }, 'invalid' | 'second-factor'>> {
    const credential = account ? await store.getPassword(account.id) : null;
    if (!(await verifyPassword(credential?.secret ?? null, password)) || !account) return fail('invalid');
    const totp = await store.getTotp(account.id);
    if (!totp?.confirmed) return ok({ account, factor: 'password' });
    if (code === undefined || code === '') return fail('second-factor');
    const step = totpStep(totp.secret, code, clock.now());
    if (step !== null) {
      if (await store.useTotpStep(account.id, step)) return ok({ account, factor: 'totp' });
      audit({ action: 'auth.totp.replay', outcome: 'refused', origin, account: account.id });
      return fail('invalid');
    }
    const hash = recoveryCodeHash(code);
    if (hash && (await store.useRecoveryCode(account.id, hash))) {
      const left = await store.countRecoveryCodes(account.id);
      audit({
        action: 'auth.recovery-code.use',
        outcome: 'ok',
        origin,
        account: account.id,
        detail: { left },
      });
      return ok({ account, factor: 'recovery-code' });
    }
    return fail('invalid');
  }

  async function findAccount(username: string): Promise<Account | null> {
    const c = canonicalAddress(username);
    return c.ok ? store.getAccountByAddress(c.address) : null;
  }

  const issueFor = (account: Account, at: number, sessionId: string, origin: Origin): Ctx =>
    Object.freeze({
      principal: issue(
        { kind: 'account' as const, accountId: account.id, address: account.address },
        { method: 'session', at, credential: sessionId },
      ),
      ...origin,
    });

  return {
    /**
     * Signs in with a password and, when enrolled, a code. Always starts a new session with a
     * new random token (a token the browser already had is never reused: no session fixation).
     */
    async signIn(
      origin: Origin,
      userAgent: string,
      username: string,
      password: string,
      code?: string,
    ): Promise<
      Result<
        { token: string; csrf: string; expiresAt: number; ctx: Ctx },
        'invalid' | 'second-factor' | ThrottleRefusal
      >
    > {
      let account: Account | null = null;
      const checked = await check(
        origin,
        username,
        async () => {
          account = await findAccount(username);
          return account;
        },
        password,
        code,
      );
      if (!checked.ok) {
        audit({
          action: 'auth.signin',
          outcome: checked.error === 'throttled' ? 'refused' : 'failed',
          origin,
          account: (account as Account | null)?.id ?? null,
          detail: { method: 'web', reason: checked.error },
        });
        return checked;
      }
      const a = checked.value.account;
      const now = clock.now();
      // Expired sessions of every account go now (an indexed delete), so none lingers on disk.
      await store.purgeWebSessions(now);
      const existing = await store.listWebSessions(a.id, now);
      for (const old of existing.slice(0, Math.max(0, existing.length - MAX_SESSIONS + 1)))
        await store.removeWebSession(a.id, old.id);
      const token = newToken(a.id, 'pcs');
      const session: WebSession = {
        accountId: a.id,
        id: randomId(8),
        tokenHash: parseToken(token, 'pcs')!.hash,
        csrf: randomId(20),
        createdAt: now,
        authenticatedAt: now,
        lastSeenAt: now,
        expiresAt: Math.min(now + settings.idleMs, now + settings.lifetimeMs),
        remote: origin.remote.slice(0, 100),
        userAgent: userAgent.replace(/[\x00-\x1f\x7f]/g, '').slice(0, 200),
      };
      if ((await store.createWebSession(session)) !== 'ok') return fail('invalid');
      audit({
        action: 'auth.signin',
        outcome: 'ok',
        origin,
        account: a.id,
        credential: `session:${session.id}`,
        detail: { method: 'web', factor: checked.value.factor },
      });
      return ok({
        token,
        csrf: session.csrf,
        expiresAt: session.expiresAt,
        ctx: issueFor(a, now, session.id, origin),
      });
    },

    /** The session a cookie value names, if it is current; extends it on activity. */
    async resume(origin: Origin, token: string): Promise<Result<ActiveSession, 'invalid'>> {
      const parsed = parseToken(token, 'pcs');
      const now = clock.now();
      const session = parsed ? await store.findWebSession(parsed.accountId, parsed.hash, now) : null;
      const account = session ? await store.getAccount(session.accountId) : null;
      if (!session || !account) return fail('invalid');
      let expiresAt = session.expiresAt;
      if (now - session.lastSeenAt >= TOUCH_EVERY_MS) {
        expiresAt = Math.min(now + settings.idleMs, session.createdAt + settings.lifetimeMs);
        await store.touchWebSession(account.id, session.id, now, expiresAt);
      }
      return ok({
        ctx: issueFor(account, session.authenticatedAt, session.id, { ...origin, sessionId: session.id }),
        csrf: session.csrf,
        expiresAt,
      });
    },

    /** Ends the caller's own session. */
    async signOut(ctx: Ctx): Promise<Result<void, SignInError>> {
      const id = accountId(ctx);
      const session = sessionOf(ctx);
      if (id === null || session === null) return fail('forbidden');
      await store.removeWebSession(id, session);
      audit({
        action: 'auth.signout',
        outcome: 'ok',
        origin: ctx,
        account: id,
        credential: `session:${session}`,
      });
      return ok(undefined);
    },

    async listSessions(ctx: Ctx): Promise<Result<SessionInfo[], SignInError>> {
      const id = accountId(ctx);
      if (id === null) return fail('forbidden');
      const current = sessionOf(ctx);
      return ok((await store.listWebSessions(id, clock.now())).map((s) => info(s, current)));
    },

    /** Ends one of the caller's sessions (another browser, a lost phone). */
    async revokeSession(ctx: Ctx, sessionId: string): Promise<Result<void, SignInError>> {
      const id = accountId(ctx);
      if (id === null) return fail('forbidden');
      if ((await store.removeWebSession(id, sessionId)) !== 'ok') return fail('not-found');
      audit({
        action: 'auth.session.revoke',
        outcome: 'ok',
        origin: ctx,
        account: id,
        credential: `session:${sessionId}`,
      });
      return ok(undefined);
    },

    /**
     * Fresh authentication: the password (and code) entered again. Returns a context that may
     * change credentials for the next few minutes; a browser session remembers the moment.
     */
    async reauthenticate(
      ctx: Ctx,
      password: string,
      code?: string,
    ): Promise<Result<Ctx, 'invalid' | 'second-factor' | 'forbidden' | ThrottleRefusal>> {
      const id = accountId(ctx);
      if (id === null || ctx.principal.kind !== 'account') return fail('forbidden');
      const checked = await check(ctx, ctx.principal.address, () => store.getAccount(id), password, code);
      audit({
        action: 'auth.reauthenticate',
        outcome: checked.ok ? 'ok' : checked.error === 'throttled' ? 'refused' : 'failed',
        origin: ctx,
        account: id,
        ...(checked.ok ? {} : { detail: { reason: checked.error } }),
      });
      if (!checked.ok) return checked;
      const now = clock.now();
      const session = sessionOf(ctx);
      if (session) await store.reauthenticateWebSession(id, session, now);
      const { principal: _, ...origin } = ctx;
      return ok(
        session
          ? issueFor(checked.value.account, now, session, origin)
          : Object.freeze({
              principal: issue(
                { kind: 'account' as const, accountId: id, address: checked.value.account.address },
                { method: 'password', at: now, credential: null },
              ),
              ...origin,
            }),
      );
    },

    /** Whether the caller's account has a second factor, and recovery codes left. */
    async totpStatus(ctx: Ctx): Promise<Result<{ enrolled: boolean; recoveryCodes: number }, SignInError>> {
      const id = accountId(ctx);
      if (id === null) return fail('forbidden');
      const totp = await store.getTotp(id);
      return ok({ enrolled: totp?.confirmed === true, recoveryCodes: await store.countRecoveryCodes(id) });
    },

    /** Starts TOTP enrolment (fresh authentication needed): a new secret and its URI. */
    async beginTotp(ctx: Ctx): Promise<Result<{ secret: string; uri: string }, SignInError>> {
      const id = accountId(ctx);
      if (id === null || ctx.principal.kind !== 'account') return fail('forbidden');
      if (!freshlyAuthenticated(ctx, clock.now())) return fail('stale');
      const secret = newTotpSecret();
      const r = await store.setPendingTotp(id, secret, clock.now());
      if (r === 'exists') return fail('exists', 'a second factor is already enrolled; remove it first');
      if (r !== 'ok') return fail('not-found');
      return ok({ secret, uri: totpUri(secret, ctx.principal.address, settings.issuer) });
    },

    /** Confirms enrolment with a first code; returns the recovery codes, shown this once. */
    async confirmTotp(ctx: Ctx, code: string): Promise<Result<{ recoveryCodes: string[] }, SignInError>> {
      const id = accountId(ctx);
      if (id === null) return fail('forbidden');
      if (!freshlyAuthenticated(ctx, clock.now())) return fail('stale');
      const pending = await store.getTotp(id);
      if (!pending || pending.confirmed) return fail('not-found', 'no enrolment in progress');
      const step = totpStep(pending.secret, code, clock.now());
      if (step === null) return fail('invalid', 'the code is not right for this secret');
      const codes = newRecoveryCodes();
      if (
        (await store.confirmTotp(
          id,
          step,
          codes.map((c) => recoveryCodeHash(c)!),
          clock.now(),
        )) !== 'ok'
      )
        return fail('not-found');
      audit({ action: 'credential.totp.add', outcome: 'ok', origin: ctx, account: id });
      return ok({ recoveryCodes: codes });
    },

    /** Removes the second factor (fresh authentication needed). */
    async removeTotp(ctx: Ctx): Promise<Result<void, SignInError>> {
      const id = accountId(ctx);
      if (id === null) return fail('forbidden');
      if (!freshlyAuthenticated(ctx, clock.now())) return fail('stale');
      if ((await store.removeTotp(id)) !== 'ok') return fail('not-found');
      audit({ action: 'credential.totp.remove', outcome: 'ok', origin: ctx, account: id });
      return ok(undefined);
    },
  };
}

/** The sign-in service's interface. */
export type SignInService = ReturnType<typeof createSignIn>;
