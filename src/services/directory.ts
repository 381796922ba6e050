/**
 * @module Directory service: domains, accounts, aliases and credential checks.
 * Administration needs the local administrator principal; a user may change only their own
 * password. Authentication compares in constant time and verifies a dummy hash for unknown users,
 * so replies do not reveal which accounts exist (ATTACKS.md AU-03).
 */

import { appPasswordHash, newAppPassword, newToken, parseToken } from '../auth/app-password.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/password.ts';
import type { Clock } from '../core/clock.ts';
import { randomId } from '../core/ids.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { canonicalAddress, canonicalDomain } from '../mail/address.ts';
import {
  type Account,
  type Alias,
  APP_SCOPES,
  type AppPassword,
  type AppScope,
  type Domain,
  type InvitationPolicy,
  type SpecialUse,
  type Store,
} from '../store/types.ts';
import type { Audit } from './audit.ts';
import {
  type Ctx,
  freshlyAuthenticated,
  isIssued,
  issue,
  type Origin,
  type Protocol,
  proofOf,
} from './principal.ts';
import type { Throttle, ThrottleRefusal } from './throttle.ts';

/** Mailboxes every new account gets, with their special-use attributes (RFC 6154). */
export const DEFAULT_MAILBOXES: { name: string; specialUse: SpecialUse }[] = [
  { name: 'INBOX', specialUse: '\\Inbox' },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

/** App passwords one account may hold. */
const MAX_APP_PASSWORDS = 50;
/** Forwarding addresses one account may have. */
const MAX_FORWARD_TARGETS = 10;

/** The app password scope that covers a protocol; null: app passwords do not sign in there. */
const SCOPE_OF: Partial<Record<Protocol, AppScope>> = {
  imap: 'imap',
  submission: 'smtp',
  jmap: 'jmap',
  dav: 'dav',
};

/** An app password as its owner and the administrator see it (without the hash). */
export type AppPasswordInfo = Omit<AppPassword, 'secretHash'>;

/** Expected failures of directory calls. */
export type DirectoryError =
  | 'forbidden'
  | 'invalid'
  | 'exists'
  | 'not-found'
  | 'no-domain'
  | 'in-use'
  /** The account must enter its password again first (fresh authentication). */
  | 'stale';

/** Outcome of resolving an envelope recipient. */
export type RecipientError = 'invalid' | 'relay-denied' | 'unknown-user' | 'over-quota' | 'storage-low';

/** Dependencies of the directory service. */
export interface DirectoryDeps {
  store: Store;
  clock: Clock;
  audit: Audit;
  throttle: Throttle;
  /** Whether accounts may forward their mail to addresses outside the local domains. */
  externalForwarding: boolean;
}

function isAdmin(ctx: Ctx): boolean {
  return isIssued(ctx.principal) && ctx.principal.kind === 'admin';
}

/** Creates the directory service. */
export function createDirectory({ store, clock, audit, throttle, externalForwarding }: DirectoryDeps) {
  const admin = (ctx: Ctx, action: string): boolean => {
    const allowed = isAdmin(ctx);
    audit({
      action: `admin.${action}`,
      outcome: allowed ? 'ok' : 'refused',
      origin: ctx,
      detail: { admin: ctx.principal.kind === 'admin' ? ctx.principal.name : null },
    });
    return allowed;
  };

  async function accountOf(address: string): Promise<Account | null> {
    const c = canonicalAddress(address);
    return c.ok ? store.getAccountByAddress(c.address) : null;
  }

  /** The account of `address` when the caller is its owner or the administrator. */
  async function ownerOrAdmin(
    ctx: Ctx,
    address: string,
    action: string | null,
  ): Promise<Result<Account, DirectoryError>> {
    if (!isIssued(ctx.principal)) return fail('forbidden');
    const account = await accountOf(address);
    const own = ctx.principal.kind === 'account' && account?.id === ctx.principal.accountId;
    if (!own && !(action ? admin(ctx, action) : isAdmin(ctx))) return fail('forbidden');
    return account ? ok(account) : fail('not-found');
  }

  /** Records a sign-in the throttle refused before any check, and passes the refusal on. */
  function refused<E>(origin: Origin, method: string, refusal: E): E {
    audit({
      action: 'auth.login',
      outcome: 'refused',
      origin,
      account: null,
      detail: { method, reason: 'throttled' },
    });
    return refusal;
  }

  /** Accounts a canonical local address resolves to: account, alias, subaddress base, catch-all. */
  async function resolveLocal(local: string, domain: string): Promise<number[]> {
    const exact = await store.getAccountByAddress(`${local}@${domain}`);
    if (exact) return [exact.id];
    const aliased = await store.aliasTargets(`${local}@${domain}`);
    if (aliased.length > 0) return aliased;
    const plus = local.indexOf('+');
    if (plus > 0) {
      const base = local.slice(0, plus);
      const baseAccount = await store.getAccountByAddress(`${base}@${domain}`);
      if (baseAccount) return [baseAccount.id];
      const baseAliased = await store.aliasTargets(`${base}@${domain}`);
      if (baseAliased.length > 0) return baseAliased;
    }
    return store.aliasTargets(`@${domain}`);
  }

  return {
    async addDomain(ctx: Ctx, name: string): Promise<Result<string, DirectoryError>> {
      if (!admin(ctx, 'domain.add')) return fail('forbidden');
      const domain = canonicalDomain(name);
      if (!domain) return fail('invalid', `${JSON.stringify(name)} is not a valid domain name`);
      return (await store.createDomain(domain, clock.now())) === 'ok' ? ok(domain) : fail('exists');
    },

    async listDomains(ctx: Ctx): Promise<Result<Domain[], DirectoryError>> {
      if (!isAdmin(ctx)) return fail('forbidden');
      return ok(await store.listDomains());
    },

    async removeDomain(ctx: Ctx, name: string): Promise<Result<void, DirectoryError>> {
      if (!admin(ctx, 'domain.remove')) return fail('forbidden');
      const domain = canonicalDomain(name);
      if (!domain) return fail('invalid', `${JSON.stringify(name)} is not a valid domain name`);
      const r = await store.deleteDomain(domain);
      if (r === 'in-use') return fail('in-use', `${domain} still has users or aliases`);
      return r === 'ok' ? ok(undefined) : fail('not-found');
    },

    async addUser(
      ctx: Ctx,
      address: string,
      password: string,
      options: { displayName?: string; quotaBytes?: number } = {},
    ): Promise<Result<Account, DirectoryError>> {
      if (!admin(ctx, 'user.add')) return fail('forbidden');
      const c = canonicalAddress(address);
      if (!c.ok) return fail('invalid', `${JSON.stringify(address)}: ${c.reason}`);
      if (c.local.includes('+')) return fail('invalid', '"+" is reserved for subaddresses (user+tag@domain)');
      const problem = passwordProblem(password);
      if (problem) return fail('invalid', problem);
      if (await store.aliasTargets(c.address).then((t) => t.length > 0)) {
        return fail('exists', `${c.address} is an alias`);
      }
      const created = await store.createAccount({
        address: c.address,
        domain: c.domain,
        displayName: options.displayName ?? '',
        passwordHash: await hashPassword(password),
        quotaBytes: options.quotaBytes ?? 0,
        mailboxes: DEFAULT_MAILBOXES,
        now: clock.now(),
      });
      if (created === 'exists') return fail('exists');
      if (created === 'no-domain') return fail('no-domain', `domain ${c.domain} is not served here`);
      return ok(created);
    },

    async listUsers(ctx: Ctx, domain?: string): Promise<Result<Account[], DirectoryError>> {
      if (!isAdmin(ctx)) return fail('forbidden');
      if (domain === undefined) return ok(await store.listAccounts());
      const d = canonicalDomain(domain);
      return d
        ? ok(await store.listAccounts(d))
        : fail('invalid', `${JSON.stringify(domain)} is not a valid domain name`);
    },

    async removeUser(ctx: Ctx, address: string): Promise<Result<void, DirectoryError>> {
      if (!admin(ctx, 'user.remove')) return fail('forbidden');
      const account = await accountOf(address);
      if (!account) return fail('not-found');
      return (await store.deleteAccount(account.id)) === 'ok' ? ok(undefined) : fail('not-found');
    },

    /** Sets a password: the administrator for anyone, a user for their own account. */
    async setPassword(ctx: Ctx, address: string, password: string): Promise<Result<void, DirectoryError>> {
      const account = await accountOf(address);
      const self =
        isIssued(ctx.principal) &&
        ctx.principal.kind === 'account' &&
        ctx.principal.accountId === account?.id;
      if (!self && !admin(ctx, 'user.passwd')) return fail('forbidden');
      if (!account) return fail('not-found');
      if (self && !freshlyAuthenticated(ctx, clock.now())) return fail('stale');
      const problem = passwordProblem(password);
      if (problem) return fail('invalid', problem);
      await store.setPassword(account.id, await hashPassword(password), clock.now());
      // Every browser session ends, except the one the owner changed it from.
      const proof = self ? proofOf(ctx.principal) : undefined;
      const ended = await store.removeWebSessions(
        account.id,
        proof?.method === 'session' ? proof.credential : null,
      );
      audit({
        action: 'credential.password.change',
        outcome: 'ok',
        origin: ctx,
        account: account.id,
        detail: { by: self ? 'owner' : 'admin', sessionsEnded: ended },
      });
      return ok(undefined);
    },

    /**
     * Removes an account's second factor and ends its browser sessions (the administrator, for
     * a user who lost both the authenticator and the recovery codes).
     */
    async resetSecondFactor(ctx: Ctx, address: string): Promise<Result<void, DirectoryError>> {
      if (!admin(ctx, 'user.second-factor.reset')) return fail('forbidden');
      const account = await accountOf(address);
      if (!account) return fail('not-found');
      if ((await store.removeTotp(account.id)) !== 'ok')
        return fail('not-found', `${address} has no second factor`);
      const ended = await store.removeWebSessions(account.id, null);
      audit({
        action: 'credential.totp.remove',
        outcome: 'ok',
        origin: ctx,
        account: account.id,
        detail: { by: 'admin', sessionsEnded: ended },
      });
      return ok(undefined);
    },

    /** Sets an account's storage quota in bytes; 0 means unlimited. */
    async setQuota(ctx: Ctx, address: string, bytes: number): Promise<Result<void, DirectoryError>> {
      if (!admin(ctx, 'user.quota')) return fail('forbidden');
      if (!Number.isSafeInteger(bytes) || bytes < 0)
        return fail('invalid', 'quota must be a whole number of bytes');
      const account = await accountOf(address);
      if (!account) return fail('not-found');
      await store.setQuota(account.id, bytes);
      return ok(undefined);
    },

    /** What invitation mail may do to the account's calendar; its owner or the administrator sets it. */
    async setInvitationPolicy(
      ctx: Ctx,
      address: string,
      policy: InvitationPolicy,
    ): Promise<Result<void, DirectoryError>> {
      if (!['auto', 'authenticated', 'off'].includes(policy))
        return fail('invalid', 'the policy is auto, authenticated or off');
      const account = await ownerOrAdmin(ctx, address, 'user.invitations');
      if (!account.ok) return account;
      await store.setInvitationPolicy(account.value.id, policy);
      audit({
        action: 'calendar.policy',
        outcome: 'ok',
        origin: ctx,
        account: account.value.id,
        detail: { policy },
      });
      return ok(undefined);
    },

    async addAlias(ctx: Ctx, source: string, target: string): Promise<Result<string, DirectoryError>> {
      if (!admin(ctx, 'alias.add')) return fail('forbidden');
      let canonicalSource: string;
      if (source.startsWith('@')) {
        const d = canonicalDomain(source.slice(1));
        if (!d) return fail('invalid', `${JSON.stringify(source)} is not a valid catch-all (@domain)`);
        canonicalSource = `@${d}`;
      } else {
        const c = canonicalAddress(source);
        if (!c.ok) return fail('invalid', `${JSON.stringify(source)}: ${c.reason}`);
        if (await store.getAccountByAddress(c.address)) return fail('exists', `${c.address} is a user`);
        canonicalSource = c.address;
      }
      const account = await accountOf(target);
      if (!account) return fail('not-found', `no user ${target}`);
      const r = await store.addAlias(canonicalSource, account.id, clock.now());
      if (r === 'no-domain') return fail('no-domain', `domain of ${canonicalSource} is not served here`);
      return r === 'ok' ? ok(canonicalSource) : fail('exists');
    },

    async listAliases(ctx: Ctx, domain?: string): Promise<Result<Alias[], DirectoryError>> {
      if (!isAdmin(ctx)) return fail('forbidden');
      if (domain === undefined) return ok(await store.listAliases());
      const d = canonicalDomain(domain);
      return d
        ? ok(await store.listAliases(d))
        : fail('invalid', `${JSON.stringify(domain)} is not a valid domain name`);
    },

    async removeAlias(ctx: Ctx, source: string, target?: string): Promise<Result<void, DirectoryError>> {
      if (!admin(ctx, 'alias.remove')) return fail('forbidden');
      const src = source.startsWith('@')
        ? `@${canonicalDomain(source.slice(1)) ?? ''}`
        : canonicalAddress(source);
      const key = typeof src === 'string' ? src : src.ok ? src.address : null;
      if (!key || key === '@') return fail('invalid', `${JSON.stringify(source)} is not an alias`);
      let accountId: number | null = null;
      if (target !== undefined) {
        const account = await accountOf(target);
        if (!account) return fail('not-found', `no user ${target}`);
        accountId = account.id;
      }
      return (await store.removeAlias(key, accountId)) === 'ok' ? ok(undefined) : fail('not-found');
    },

    /**
     * Checks a user name and password: an app password whose scopes cover the protocol of
     * `origin` and that has not expired, or the account password when the account has no second
     * factor (with one, only web sign-in accepts the password, together with a code). Unknown
     * names and wrong passwords give the same answer after the same work.
     */
    async authenticate(
      origin: Origin,
      username: string,
      password: string,
    ): Promise<Result<Ctx, 'invalid' | ThrottleRefusal>> {
      const gate = await throttle.gate(origin, username);
      if (!gate.ok) return refused(origin, 'password', gate);
      const c = canonicalAddress(username);
      const account = c.ok ? await store.getAccountByAddress(c.address) : null;
      const appHash = account ? appPasswordHash(password) : null;
      const app = account && appHash ? await store.findAppPassword(account.id, appHash) : null;
      let good = false;
      let reason = 'wrong';
      if (app?.kind === 'app') {
        const scope = SCOPE_OF[origin.protocol];
        const inScope = scope !== undefined && app.scopes.includes(scope);
        good = inScope && (app.expiresAt ?? Infinity) > clock.now();
        if (!good) reason = inScope ? 'expired' : 'scope';
        if (good) await store.touchAppPassword(app.accountId, app.id, clock.now());
      } else {
        const credential = account ? await store.getPassword(account.id) : null;
        good = await verifyPassword(credential?.secret ?? null, password);
        if (good && account && (await store.getTotp(account.id))?.confirmed) {
          good = false;
          reason = 'second-factor';
        }
      }
      const method = app?.kind === 'app' ? ('app-password' as const) : ('password' as const);
      const credential = app?.kind === 'app' ? `app:${app.id}` : null;
      throttle.record(origin, username, good && account !== null);
      if (!good || !account) {
        audit({
          action: 'auth.login',
          outcome: 'failed',
          origin,
          account: account?.id ?? null,
          credential,
          detail: { method, reason },
        });
        return fail('invalid');
      }
      audit({
        action: 'auth.login',
        outcome: 'ok',
        origin,
        account: account.id,
        credential,
        detail: { method },
      });
      const principal = issue(
        { kind: 'account' as const, accountId: account.id, address: account.address },
        { method, at: clock.now(), credential },
      );
      return ok(Object.freeze({ principal, ...origin }));
    },

    /**
     * Checks a bearer token (an API client's credential): it must be a token of its account, in
     * scope for the protocol, and not expired.
     */
    async authenticateToken(
      origin: Origin,
      token: string,
    ): Promise<Result<Ctx, 'invalid' | ThrottleRefusal>> {
      const parsed = parseToken(token);
      // Tokens are counted under their account number (a token's name), never a shared key.
      const name = `#token:${parsed?.accountId ?? '?'}`;
      const gate = await throttle.gate(origin, name);
      if (!gate.ok) return refused(origin, 'token', gate);
      const found = parsed ? await store.findAppPassword(parsed.accountId, parsed.hash) : null;
      const scope = SCOPE_OF[origin.protocol];
      const account = found ? await store.getAccount(found.accountId) : null;
      const good =
        found?.kind === 'token' &&
        account !== null &&
        scope !== undefined &&
        found.scopes.includes(scope) &&
        (found.expiresAt ?? Infinity) > clock.now();
      throttle.record(origin, name, good);
      if (!good || !found || !account) {
        audit({
          action: 'auth.login',
          outcome: 'failed',
          origin,
          account: found?.accountId ?? null,
          credential: found ? `token:${found.id}` : null,
          detail: { method: 'token' },
        });
        return fail('invalid');
      }
      await store.touchAppPassword(found.accountId, found.id, clock.now());
      const credential = `token:${found.id}`;
      audit({
        action: 'auth.login',
        outcome: 'ok',
        origin,
        account: account.id,
        credential,
        detail: { method: 'token' },
      });
      const principal = issue(
        { kind: 'account' as const, accountId: account.id, address: account.address },
        { method: 'token', at: clock.now(), credential },
      );
      return ok(Object.freeze({ principal, ...origin }));
    },

    /**
     * Creates an app password (or, with `kind: 'token'`, a bearer token) for `address` (the
     * administrator, or the account itself). The secret is returned once and never again.
     */
    async addAppPassword(
      ctx: Ctx,
      address: string,
      options: { label: string; scopes: string[]; expiresAt: number | null; kind?: 'app' | 'token' },
    ): Promise<Result<AppPasswordInfo & { password: string }, DirectoryError>> {
      const account = await ownerOrAdmin(ctx, address, 'app-password.add');
      if (!account.ok) return account;
      if (!freshlyAuthenticated(ctx, clock.now())) return fail('stale');
      const label = options.label.trim();
      if (label.length === 0 || label.length > 100 || /[\x00-\x1f\x7f]/.test(label))
        return fail('invalid', 'the label must be 1 to 100 printable characters');
      const scopes = [...new Set(options.scopes)];
      if (scopes.length === 0 || !scopes.every((x) => (APP_SCOPES as readonly string[]).includes(x)))
        return fail('invalid', `scopes must be some of ${APP_SCOPES.join(', ')}`);
      if (options.expiresAt !== null && options.expiresAt <= clock.now())
        return fail('invalid', 'the expiry must be in the future');
      if ((await store.listAppPasswords(account.value.id)).length >= MAX_APP_PASSWORDS)
        return fail('invalid', `an account may hold at most ${MAX_APP_PASSWORDS} app passwords`);
      const kind = options.kind ?? 'app';
      const password = kind === 'app' ? newAppPassword() : newToken(account.value.id);
      const record: AppPassword = {
        accountId: account.value.id,
        id: randomId(6),
        kind,
        label,
        scopes: scopes as AppScope[],
        secretHash: kind === 'app' ? appPasswordHash(password)! : parseToken(password)!.hash,
        createdAt: clock.now(),
        expiresAt: options.expiresAt,
        lastUsedAt: null,
      };
      if ((await store.addAppPassword(record)) !== 'ok') return fail('not-found');
      audit({
        action: `credential.${kind === 'app' ? 'app-password' : 'token'}.add`,
        outcome: 'ok',
        origin: ctx,
        account: record.accountId,
        credential: `${kind}:${record.id}`,
        detail: { scopes: scopes.join(' '), expires: record.expiresAt },
      });
      const { secretHash: _, ...info } = record;
      return ok({ ...info, password });
    },

    /** Where `address` forwards its mail (the owner or the administrator may ask). */
    async getForwarding(
      ctx: Ctx,
      address: string,
    ): Promise<Result<{ targets: string[]; keepCopy: boolean } | null, DirectoryError>> {
      const account = await ownerOrAdmin(ctx, address, null);
      if (!account.ok) return account;
      const f = await store.getForwarding(account.value.id);
      return ok(f ? { targets: f.targets, keepCopy: f.keepCopy } : null);
    },

    /**
     * Forwards every message delivered to `address` to `targets` (local or remote), keeping a
     * copy or not; null turns forwarding off. A forward is a way to keep reading someone's mail
     * (ATTACKS.md LG-03): the owner needs fresh authentication, and every change is audited,
     * alerted and mailed to the owner.
     */
    async setForwarding(
      ctx: Ctx,
      address: string,
      forwarding: { targets: string[]; keepCopy: boolean } | null,
    ): Promise<Result<void, DirectoryError>> {
      const account = await ownerOrAdmin(ctx, address, 'forward.set');
      if (!account.ok) return account;
      if (!freshlyAuthenticated(ctx, clock.now())) return fail('stale');
      const targets: string[] = [];
      for (const t of forwarding?.targets ?? []) {
        const c = typeof t === 'string' ? canonicalAddress(t) : null;
        if (!c?.ok) return fail('invalid', `${JSON.stringify(t)} is not a mail address`);
        if (c.address === account.value.address)
          return fail('invalid', 'an account cannot forward to itself');
        if (!targets.includes(c.address)) targets.push(c.address);
      }
      if (targets.length > MAX_FORWARD_TARGETS)
        return fail('invalid', `at most ${MAX_FORWARD_TARGETS} forwarding addresses`);
      const external: string[] = [];
      for (const t of targets)
        if (!(await store.getDomain(t.slice(t.lastIndexOf('@') + 1)))) external.push(t);
      // The administrator may keep mail inside the organisation (ATTACKS.md SV-06).
      if (external.length > 0 && !externalForwarding) {
        audit({
          action: 'mail.forward.set',
          outcome: 'refused',
          origin: ctx,
          account: account.value.id,
          detail: { external: external.join(' '), reason: 'policy' },
        });
        return fail('forbidden', 'forwarding to other domains is not allowed here');
      }
      const on = forwarding !== null && targets.length > 0;
      const r = await store.setForwarding(
        account.value.id,
        on ? { targets, keepCopy: forwarding.keepCopy, updatedAt: clock.now() } : null,
      );
      if (r !== 'ok') return fail('not-found');
      audit({
        action: on ? 'mail.forward.set' : 'mail.forward.remove',
        outcome: 'ok',
        origin: ctx,
        account: account.value.id,
        detail: on
          ? { targets: targets.join(' '), external: external.join(' '), keepCopy: forwarding.keepCopy }
          : {},
      });
      return ok(undefined);
    },

    async listAppPasswords(ctx: Ctx, address: string): Promise<Result<AppPasswordInfo[], DirectoryError>> {
      const account = await ownerOrAdmin(ctx, address, null);
      if (!account.ok) return account;
      return ok((await store.listAppPasswords(account.value.id)).map(({ secretHash: _, ...info }) => info));
    },

    async removeAppPassword(ctx: Ctx, address: string, id: string): Promise<Result<void, DirectoryError>> {
      const account = await ownerOrAdmin(ctx, address, 'app-password.remove');
      if (!account.ok) return account;
      if ((await store.removeAppPassword(account.value.id, id)) !== 'ok') return fail('not-found');
      audit({
        action: 'credential.app-password.remove',
        outcome: 'ok',
        origin: ctx,
        account: account.value.id,
        credential: id,
      });
      return ok(undefined);
    },

    /** True when the caller's account may use `address` as a sender: its own address or an
     * alias that names it (a catch-all gives no right to send as every address of a domain). */
    async mayUseAddress(ctx: Ctx, address: string): Promise<boolean> {
      if (!isIssued(ctx.principal) || ctx.principal.kind !== 'account') return false;
      const c = canonicalAddress(address);
      if (!c.ok) return false;
      if (c.address === ctx.principal.address) return true;
      const accountId = ctx.principal.accountId;
      return (await store.listAliases(c.domain)).some(
        (a) => a.source === c.address && a.accountId === accountId,
      );
    },

    /** Resolves an envelope recipient to local accounts. Allowed for every issued principal:
     * deciding whether mail is accepted is not a read of anyone's data. */
    async resolveRecipient(ctx: Ctx, address: string): Promise<Result<number[], RecipientError>> {
      if (!isIssued(ctx.principal)) return fail('invalid');
      const c = canonicalAddress(address);
      if (!c.ok) return fail('invalid', c.reason);
      if (!(await store.getDomain(c.domain))) return fail('relay-denied');
      const accounts = [...new Set(await resolveLocal(c.local, c.domain))];
      if (accounts.length === 0) return fail('unknown-user');
      // A full mailbox refuses mail for now (4xx), so the sender retries (RFC 3463 4.2.2).
      for (const id of accounts) {
        const a = await store.getAccount(id);
        if (a && a.quotaBytes > 0 && a.usedBytes >= a.quotaBytes) return fail('over-quota');
      }
      return ok(accounts);
    },
  };
}

/** The directory service's interface. */
export type Directory = ReturnType<typeof createDirectory>;
