/**
 * @module Delivery of the outbound queue to other servers: finds where each recipient domain
 * receives mail (a configured route, else the smart host, else MX records with the domain's own
 * address as fallback, RFC 5321 §5.1), relays with the SMTP client, and records per recipient:
 * 2xx delivered, 4xx and network errors retried with exponential backoff, 5xx and expiry failed
 * with a delivery status notification (RFC 3464) to the sender.
 * Trust: routes and smart host come from configuration; MX answers come from DNS, and an MX
 * that resolves to a loopback, private or link-local address is not used (ATTACKS.md R16).
 */
import type { Logger } from '../core/log.ts';
import { publicAddress } from '../core/networks.ts';
import type { Resolver } from '../dns/resolver.ts';
import { type RelayOptions, type RelayResult, relay } from '../protocols/smtp/client/client.ts';
import type { AttemptResult, OutboundMessage, Store } from '../store/types.ts';
import { bounceMessage } from './dsn.ts';

/** Where mail for a domain goes: host and port, tried in order. */
export interface Route {
  host: string;
  port: number;
}

/** Dependencies of the queue runner. */
export interface QueueRunnerDeps {
  store: Store;
  resolver: Resolver;
  /** Fixed routes by recipient domain (like Postfix's transport map). */
  routes: Map<string, Route>;
  /** A smart host for every other domain, with optional credentials. */
  smartHost: (Route & { auth: { user: string; pass: string } | null }) | null;
  /** Port of MX hosts (25 on the internet). */
  mxPort: number;
  /** Whether MX hosts may have private or loopback addresses (an internal network). */
  allowPrivate: boolean;
  hostname: string;
  clock: { now(): number };
  log: Logger;
  /** Files a delivery status notification for `to` (the sender of a failed message). */
  notify(to: string, raw: Buffer): Promise<void>;
  /** Age after which a sender is told once that delivery is delayed; 0: never. */
  delayNoticeMs: number;
  /** How often the queue is looked at, in milliseconds. */
  intervalMs: number;
  timeoutMs: number;
}

/** Delay before attempt n+1 after n attempts: 1, 2, 4 … minutes, at most 4 hours. */
export function backoffMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.min(attempts, 20), 4 * 3_600_000);
}

/** Starts the runner; `stop` waits for the attempt in progress. */
export function startQueueRunner(deps: QueueRunnerDeps): { kick(): void; stop(): Promise<void> } {
  const { store, log } = deps;
  let running: Promise<void> | null = null;
  let stopped = false;

  async function hostsFor(
    domain: string,
  ): Promise<(Route & { auth?: { user: string; pass: string } | null; tls: boolean; name: string })[]> {
    const fixed = deps.routes.get(domain);
    if (fixed) return [{ ...fixed, tls: false, name: fixed.host }];
    if (deps.smartHost) return [{ ...deps.smartHost, tls: true, name: deps.smartHost.host }];
    const mx = (await deps.resolver.mx(domain)).sort((a, b) => a.priority - b.priority);
    // RFC 7505: a single "." MX means the domain accepts no mail.
    if (mx.length === 1 && (mx[0]!.exchange === '' || mx[0]!.exchange === '.')) return [];
    const names = mx.length > 0 ? mx.map((m) => m.exchange) : [domain];
    const out: (Route & { tls: boolean; name: string })[] = [];
    for (const name of names.slice(0, 10))
      for (const ip of (await deps.resolver.addresses(name)).slice(0, 4))
        if (deps.allowPrivate || publicAddress(ip))
          out.push({ host: ip, port: deps.mxPort, tls: false, name: name.replace(/\.$/, '') });
    return out;
  }

  async function attempt(m: OutboundMessage): Promise<void> {
    const now = deps.clock.now();
    const raw = await store.blobs.read(m.blobHash);
    const byDomain = new Map<string, string[]>();
    for (const r of m.recipients) {
      const domain = r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase();
      byDomain.set(domain, [...(byDomain.get(domain) ?? []), r.address]);
    }
    const results: AttemptResult[] = [];
    const attempts = new Map(m.recipients.map((r) => [r.address, r.attempts]));
    const later = (address: string, error: string): AttemptResult => {
      const next = now + backoffMs(attempts.get(address) ?? 0);
      return next > m.expiresAt
        ? { address, outcome: 'failed', error: `gave up: ${error}`, nextAttemptAt: now }
        : { address, outcome: 'deferred', error, nextAttemptAt: next };
    };
    for (const [domain, to] of byDomain) {
      let hosts: Awaited<ReturnType<typeof hostsFor>> = [];
      try {
        hosts = await hostsFor(domain);
      } catch (err) {
        for (const a of to) results.push(later(a, `DNS: ${(err as Error).message}`));
        continue;
      }
      if (hosts.length === 0) {
        for (const a of to)
          results.push({
            address: a,
            outcome: 'failed',
            error: `no mail server for ${domain}`,
            nextAttemptAt: now,
          });
        continue;
      }
      let done: RelayResult | null = null;
      let lastError = 'no server reachable';
      let permanent = false;
      for (const h of hosts) {
        const options: RelayOptions = {
          host: h.host,
          port: h.port,
          servername: h.name,
          helo: deps.hostname,
          requireTls: h.tls,
          auth: h.auth ?? null,
          timeoutMs: deps.timeoutMs,
        };
        try {
          done = await relay(options, { from: m.sender, to }, raw);
          break;
        } catch (err) {
          const e = err as Error & { permanent?: boolean };
          lastError = `${h.host}:${h.port}: ${e.message}`;
          if (e.permanent) {
            permanent = true;
            break;
          }
        }
      }
      if (!done) {
        for (const a of to)
          results.push(
            permanent
              ? { address: a, outcome: 'failed', error: lastError, nextAttemptAt: now }
              : later(a, lastError),
          );
        continue;
      }
      for (const r of done.recipients) {
        const text = `${r.reply.code} ${r.reply.lines.join(' ')}`.slice(0, 500);
        if (r.reply.code >= 200 && r.reply.code < 300)
          results.push({ address: r.address, outcome: 'delivered', error: null, nextAttemptAt: now });
        else if (r.reply.code >= 500)
          results.push({ address: r.address, outcome: 'failed', error: text, nextAttemptAt: now });
        else results.push(later(r.address, text));
      }
    }
    await store.recordAttempt(m.id, results);
    const failed = results.filter((r) => r.outcome === 'failed');
    log.info(
      {
        queue: m.id,
        delivered: results.filter((r) => r.outcome === 'delivered').length,
        failed: failed.length,
        deferred: results.length - failed.length - results.filter((r) => r.outcome === 'delivered').length,
      },
      'outbound attempt',
    );
    // RFC 3464: a report to the sender; never one for a report (empty sender), so no loops.
    if (m.sender === '') return;
    if (failed.length > 0)
      await deps.notify(
        m.sender,
        bounceMessage({ hostname: deps.hostname, sender: m.sender, failed, original: raw, now }),
      );
    const waiting = results.filter((r) => r.outcome === 'deferred');
    if (
      waiting.length > 0 &&
      deps.delayNoticeMs > 0 &&
      now - m.createdAt >= deps.delayNoticeMs &&
      (await store.markDelayNotified(m.id))
    )
      await deps.notify(
        m.sender,
        bounceMessage({
          hostname: deps.hostname,
          sender: m.sender,
          failed: waiting,
          original: raw,
          now,
          retryUntil: m.expiresAt,
        }),
      );
  }

  async function pass(): Promise<void> {
    for (;;) {
      if (stopped) return;
      const due = await store.dueOutbound(deps.clock.now(), 20);
      if (due.length === 0) return;
      for (const m of due) {
        try {
          await attempt(m);
        } catch (err) {
          log.error({ queue: m.id, err }, 'outbound attempt failed');
          await store.recordAttempt(
            m.id,
            m.recipients.map((r) => ({
              address: r.address,
              outcome: 'deferred',
              error: 'local error',
              nextAttemptAt: deps.clock.now() + backoffMs(r.attempts),
            })),
          );
        }
      }
    }
  }

  const kick = (): void => {
    if (running || stopped) return;
    running = pass()
      .catch((err: unknown) => log.error({ err }, 'queue pass failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(kick, deps.intervalMs);
  timer.unref();
  kick();
  return {
    kick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
