/**
 * @module The detector (ATTACKS.md §3.1): one place, fed by every audit record whatever the
 * protocol, that notices what an intrusion looks like while it happens — bursts of failed
 * sign-ins against one account or from one source, one source trying many accounts (password
 * spraying), a sign-in from a network the account never used, a whole mailbox being read, new
 * ways back in (app passwords, bearer tokens, a removed second factor) and administrator changes.
 * An alert goes to the process log, the audit log and the alert list (`portcullis alerts list`);
 * persistence alerts are also mailed to the account's owner. Counting windows live in this
 * process (nodes count separately until they share the store's counters).
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { fail, ok, type Result } from '../core/result.ts';
import type { Alert, Store } from '../store/types.ts';
import type { Audit, AuditEvent } from './audit.ts';
import { type Ctx, isIssued, proofOf } from './principal.ts';
import type { Webhook } from './webhook.ts';

/** When the detector speaks up. */
export interface AlertSettings {
  /** Counting window. */
  windowMs: number;
  /** Failed sign-ins of one account within the window. */
  failuresPerAccount: number;
  /** Failed sign-ins from one address within the window. */
  failuresPerSource: number;
  /** Distinct accounts one address fails on within the window (spraying). */
  sprayAccounts: number;
  /** Messages of one account read within the window. */
  massReadMessages: number;
  /** Bytes of one account's mail read within the window (a few large messages count too). */
  massReadBytes: number;
}

/** The defaults of the `[alerts]` configuration section. */
export const DEFAULT_ALERTS: AlertSettings = {
  windowMs: 10 * 60_000,
  failuresPerAccount: 10,
  failuresPerSource: 20,
  sprayAccounts: 5,
  massReadMessages: 1000,
  massReadBytes: 500 * 1024 * 1024,
};

/** A notice to an account owner: subject and text. */
export type NotifyOwner = (accountId: number, subject: string, text: string) => Promise<void>;

/** The network of an address: IPv4 /24, IPv6 /48, or the address itself. */
export function networkOf(remote: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/i.exec(remote);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (remote.includes(':')) {
    const [head = ''] = remote.split('::');
    const groups = head.split(':').filter(Boolean);
    return `${[...groups, '0', '0', '0'].slice(0, 3).join(':')}::/48`;
  }
  return remote;
}

/** A credential younger than this reading a whole mailbox is a new device's first sync. */
const NEW_CREDENTIAL_MS = 86_400_000;

const PERSISTENCE: Record<string, string> = {
  'credential.app-password.add': 'A new app password was created for your account',
  'credential.token.add': 'A new API token was created for your account',
  'credential.totp.remove': 'Two-step sign-in was turned off for your account',
  'mail.forward.set': 'Your mail is now forwarded to another address',
};

/** Creates the detector. `audit` records the alerts (it must not feed back into `observe`). */
export function createDetector(deps: {
  store: Store;
  clock: Clock;
  log: Logger;
  audit: Audit;
  settings: AlertSettings;
  /** Where every alert is also sent, when configured. */
  webhook?: Webhook;
}) {
  const { store, clock, log, audit, settings } = deps;
  let notifyOwner: NotifyOwner | null = null;
  /** Event times per counter key, oldest first. */
  const windows = new Map<string, { t: number; v: string | number }[]>();
  /** Messages and bytes read per account in its current window, and the most in any earlier one. */
  const baselines = new Map<
    number,
    { max: number; maxBytes: number; windowStart: number; total: number; bytes: number }
  >();
  /** Whether `credential` (app password, token or browser session) was made within a day. */
  const newCredential = async (account: number, credential: string | null, now: number): Promise<boolean> => {
    if (!credential) return false;
    const [kind, id] = credential.includes(':') ? credential.split(':', 2) : ['session', credential];
    const created =
      kind === 'session'
        ? (await store.listWebSessions(account, now)).find((s) => s.id === id)?.createdAt
        : (await store.listAppPasswords(account)).find((a) => a.id === id)?.createdAt;
    return created !== undefined && now - created < NEW_CREDENTIAL_MS;
  };
  /** Messages read per account within the window, per second (a whole-mailbox download is
   * told of message by message, so each read must cost O(1)), and their sum. */
  type Volume = { n: number; b: number };
  type Sliding = { slots: ({ t: number } & Volume)[]; sum: Volume };
  /** Messages and bytes read within the sliding window, per account and per session. */
  const reads = new Map<string, Sliding>();
  let swept = 0;
  const readWithin = (key: string, messages: number, bytes: number, now: number): Volume => {
    // Counters of sessions that read no more are dropped once per window.
    if (now - swept >= settings.windowMs) {
      swept = now;
      for (const [k, v] of reads) if ((v.slots.at(-1)?.t ?? 0) <= now - settings.windowMs) reads.delete(k);
    }
    const r = reads.get(key) ?? { slots: [], sum: { n: 0, b: 0 } };
    while (r.slots.length > 0 && r.slots[0]!.t <= now - settings.windowMs) {
      const old = r.slots.shift()!;
      r.sum.n -= old.n;
      r.sum.b -= old.b;
    }
    const second = now - (now % 1000);
    const last = r.slots.at(-1);
    if (last?.t === second) {
      last.n += messages;
      last.b += bytes;
    } else r.slots.push({ t: second, n: messages, b: bytes });
    r.sum.n += messages;
    r.sum.b += bytes;
    if (r.sum.n === 0) reads.delete(key);
    else reads.set(key, r);
    return { ...r.sum };
  };
  /** Alerts already raised per key, so one burst raises one alert per window. */
  const raised = new Map<string, number>();

  const count = (key: string, value: string | number): { t: number; v: string | number }[] => {
    const now = clock.now();
    const list = (windows.get(key) ?? []).filter((e) => e.t > now - settings.windowMs);
    list.push({ t: now, v: value });
    windows.set(key, list);
    return list;
  };
  const once = (key: string): boolean => {
    const now = clock.now();
    for (const [k, t] of raised) if (t <= now - settings.windowMs) raised.delete(k);
    if (raised.has(key)) return false;
    raised.set(key, now);
    return true;
  };

  const raise = async (
    e: AuditEvent,
    kind: string,
    severity: Alert['severity'],
    accountId: number | null,
    summary: string,
    detail: Alert['detail'],
  ): Promise<void> => {
    const alert = {
      at: clock.now(),
      kind,
      severity,
      accountId,
      summary,
      detail: { ...detail, remote: e.origin.remote, protocol: e.origin.protocol },
    };
    const id = await store.addAlert(alert);
    log.warn({ alert: id, kind, severity, account: accountId, ...alert.detail }, `alert: ${summary}`);
    audit({
      action: `alert.${kind}`,
      outcome: 'ok',
      origin: e.origin,
      account: accountId,
      detail: { alert: id, severity },
    });
    // The webhook and the owner's notice go out side by side: a slow receiver delays neither.
    const webhook = async (): Promise<void> => {
      if (!deps.webhook) return;
      const account = accountId === null ? null : ((await store.getAccount(accountId))?.address ?? null);
      await deps.webhook(
        {
          id,
          at: new Date(alert.at).toISOString(),
          kind,
          severity,
          account,
          summary,
          detail: alert.detail,
        },
        `alert ${id}`,
      );
    };
    const notice = async (): Promise<void> => {
      if (!PERSISTENCE[e.action] || accountId === null || !notifyOwner) return;
      await notifyOwner(
        accountId,
        PERSISTENCE[e.action]!,
        [
          `${PERSISTENCE[e.action]}.`,
          '',
          `When: ${new Date(alert.at).toISOString()}`,
          `From: ${e.origin.remote} (${e.origin.protocol})`,
          ...(e.detail?.['targets'] ? [`Forwarded to: ${String(e.detail['targets'])}`] : []),
          '',
          'If this was you, nothing needs doing. If it was not, change your password, undo the',
          'change in your settings and tell your administrator.',
        ].join('\n'),
      );
    };
    await Promise.all([webhook(), notice()]);
  };

  const check = async (e: AuditEvent): Promise<void> => {
    const account = e.account ?? null;
    const isAuth = e.action === 'auth.login' || e.action === 'auth.signin';
    if (isAuth && e.outcome === 'failed') {
      const source = e.origin.remote;
      if (account !== null) {
        const n = count(`fail:account:${account}`, 1).length;
        if (n >= settings.failuresPerAccount && once(`fail:account:${account}`))
          await raise(e, 'auth.burst.account', 'medium', account, `${n} failed sign-ins for one account`, {
            failures: n,
          });
      }
      const bySource = count(`fail:source:${source}`, account ?? -1);
      if (bySource.length >= settings.failuresPerSource && once(`fail:source:${source}`))
        await raise(
          e,
          'auth.burst.source',
          'medium',
          null,
          `${bySource.length} failed sign-ins from ${source}`,
          {
            failures: bySource.length,
          },
        );
      const accounts = new Set(bySource.map((x) => x.v).filter((v) => v !== -1)).size;
      if (accounts >= settings.sprayAccounts && once(`spray:${source}`))
        await raise(
          e,
          'auth.spray',
          'high',
          null,
          `password spraying: ${accounts} accounts tried from ${source}`,
          {
            accounts,
            failures: bySource.length,
          },
        );
    } else if (
      isAuth &&
      e.outcome === 'ok' &&
      account !== null &&
      !['local', 'unknown'].includes(e.origin.remote)
    ) {
      const network = networkOf(e.origin.remote);
      const seen = await store.noteNetwork(account, network, clock.now());
      if (seen.isNew && seen.hadAny)
        await raise(
          e,
          'auth.new-network',
          'medium',
          account,
          `sign-in from a network not seen before for this account`,
          {
            network,
            method: String(e.detail?.['method'] ?? ''),
          },
        );
    } else if (PERSISTENCE[e.action] && e.outcome === 'ok') {
      await raise(e, 'persistence', 'high', account, PERSISTENCE[e.action]!, {
        action: e.action,
        credential: e.credential ?? null,
        ...(e.detail?.['external'] ? { external: String(e.detail['external']) } : {}),
      });
    } else if (e.action === 'system.integrity' && e.outcome === 'failed') {
      const running = e.detail?.['phase'] === 'running';
      await raise(
        e,
        'integrity',
        running ? 'high' : 'medium',
        null,
        running
          ? 'files in the server code changed while it runs'
          : 'the server code differs from its last start (expected after an upgrade)',
        {
          added: String(e.detail?.['added'] ?? ''),
          changed: String(e.detail?.['changed'] ?? ''),
          removed: String(e.detail?.['removed'] ?? ''),
        },
      );
    } else if (e.action === 'audit.degraded') {
      await raise(
        e,
        'audit.degraded',
        'high',
        null,
        'the audit log cannot be written; records wait in memory',
        {
          waiting: Number(e.detail?.['waiting'] ?? 0),
        },
      );
    } else if (e.action.startsWith('admin.') && e.outcome === 'ok') {
      await raise(e, 'admin.change', 'low', account, `administrator action ${e.action.slice(6)}`, {
        action: e.action,
      });
    }
  };

  const running = new Set<Promise<void>>();
  return {
    /** Looks at one audit record (never throws: a detector failure must not fail the request). */
    observe(e: AuditEvent): void {
      const p = check(e)
        .catch((err: unknown) => log.error({ err, action: e.action }, 'alert detector failed'))
        .finally(() => running.delete(p));
      running.add(p);
    },
    /**
     * Counts messages read (told at every read, so a mass download is seen within seconds). An
     * account is alerted when its reads within the window pass the threshold and three times the
     * most it read in any earlier window (its baseline), once per window. A credential made
     * within the last day (a new phone's app password, a new browser session) is reported as a
     * new device's first full sync — still an alert, since a thief's download looks the same.
     */
    observeRead(ctx: Ctx, account: number, messages: number, bytes: number): void {
      const now = clock.now();
      const base = baselines.get(account) ?? { max: 0, maxBytes: 0, windowStart: now, total: 0, bytes: 0 };
      if (now - base.windowStart >= settings.windowMs) {
        base.max = Math.max(base.max, base.total);
        base.maxBytes = Math.max(base.maxBytes, base.bytes);
        base.windowStart = now;
        base.total = 0;
        base.bytes = 0;
      }
      base.total += messages;
      base.bytes += bytes;
      baselines.set(account, base);
      const all = readWithin(`${account}`, messages, bytes, now);
      // The session's own share, so the alert says whether one connection did it all.
      const mine = readWithin(`${account}\u0000${ctx.sessionId}`, messages, bytes, now);
      const total = all.n;
      const many = total >= settings.massReadMessages && total >= 3 * base.max;
      const large = all.b >= settings.massReadBytes && all.b >= 3 * base.maxBytes;
      if (!(many || large) || !once(`read:${account}`)) return;
      const credential = proofOf(ctx.principal)?.credential ?? null;
      const p = newCredential(account, credential, now)
        .then((fresh) =>
          raise(
            { action: 'mail.read', outcome: 'ok', origin: ctx, account },
            'mail.mass-read',
            'high',
            account,
            fresh
              ? `first full sync by a new device: ${total} messages read within minutes`
              : `${total} messages of one account read within minutes`,
            {
              messages: total,
              bytes: all.b,
              baseline: base.max,
              credential,
              session: ctx.sessionId,
              sessionMessages: mine.n,
              firstSync: fresh,
            },
          ),
        )
        .catch((err: unknown) => log.error({ err }, 'alert detector failed'))
        .finally(() => running.delete(p));
      running.add(p);
    },
    /** Waits for the checks in progress (at shutdown, before the audit log is flushed). */
    async settle(): Promise<void> {
      while (running.size > 0) await Promise.all([...running]);
    },
    /** Sets how owners are told about persistence alerts (wired once delivery exists). */
    setNotifier(fn: NotifyOwner): void {
      notifyOwner = fn;
    },
    /** Alerts from `since` on (administrator only; reading is recorded). */
    async list(ctx: Ctx, since: number, limit: number): Promise<Result<Alert[], 'forbidden'>> {
      const allowed = isIssued(ctx.principal) && ctx.principal.kind === 'admin';
      audit({ action: 'alerts.read', outcome: allowed ? 'ok' : 'refused', origin: ctx });
      if (!allowed) return fail('forbidden');
      return ok(await store.listAlerts(since, limit));
    },
  };
}

/** The detector's interface. */
export type Detector = ReturnType<typeof createDetector>;
