/**
 * @module Sign-in throttling (ATTACKS.md AU-02, AU-04), shared by every way in: SMTP AUTH, IMAP
 * LOGIN/AUTHENTICATE, JMAP Basic and bearer tokens, web sign-in and re-authentication. Failures
 * are counted per user name (whether or not the account exists, so the answer reveals nothing)
 * and per source address over a sliding window. Past a few free failures every attempt of that
 * name or source waits, twice as long per further failure up to a ceiling, and attempts of one
 * source or name queue behind each other, so parallel connections buy nothing. The wait comes
 * before any password lookup. A source with many failures is refused outright until its
 * failures age out of the window. Counters live in this process.
 */
import type { Clock } from '../core/clock.ts';
import { fail, ok, type Result } from '../core/result.ts';
import type { Origin } from './principal.ts';

/** How hard sign-in failures are punished. */
export interface ThrottleSettings {
  /** Failures are counted over this window. */
  windowMs: number;
  /** Failures of one name or source within the window that cost nothing. */
  freeFailures: number;
  /** The wait after the first failure beyond the free ones; each further failure doubles it. */
  baseDelayMs: number;
  /** The longest wait. */
  maxDelayMs: number;
  /** Failures from one source within the window after which it is refused until they age. */
  blockSourceAfter: number;
}

/** The defaults of the `[limits]` configuration section. */
export const DEFAULT_THROTTLE: ThrottleSettings = {
  windowMs: 15 * 60_000,
  freeFailures: 5,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  blockSourceAfter: 100,
};

/** Attempts of one name or source that may wait at once; more are refused. */
const MAX_WAITING = 20;
/** Counters kept before expired ones are swept. */
const SWEEP_AT = 50_000;

interface Counter {
  /** Failure times, oldest first. */
  failures: number[];
  /** When the last queued attempt of this key may proceed. */
  nextAt: number;
  waiting: number;
}

/** Why an attempt was refused without being checked. */
export type ThrottleRefusal = 'throttled';

/** Creates the throttle. `sleep` is injected so tests can run it on a fixed clock. */
export function createThrottle(deps: {
  clock: Clock;
  settings: ThrottleSettings;
  sleep?: (ms: number) => Promise<void>;
}) {
  const { clock, settings } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const counters = new Map<string, Counter>();

  const counter = (key: string, now: number): Counter => {
    let c = counters.get(key);
    if (!c) {
      if (counters.size >= SWEEP_AT) sweep(now);
      c = { failures: [], nextAt: 0, waiting: 0 };
      counters.set(key, c);
    }
    while (c.failures.length > 0 && c.failures[0]! <= now - settings.windowMs) c.failures.shift();
    return c;
  };
  const sweep = (now: number): void => {
    for (const [key, c] of counters)
      if (c.waiting === 0 && c.nextAt <= now && (c.failures.at(-1) ?? 0) <= now - settings.windowMs)
        counters.delete(key);
  };
  const delayFor = (failures: number): number =>
    failures <= settings.freeFailures
      ? 0
      : Math.min(
          settings.maxDelayMs,
          settings.baseDelayMs * 2 ** Math.min(30, failures - settings.freeFailures - 1),
        );
  const keys = (origin: Origin, username: string): string[] => [
    `source:${origin.remote}`,
    `name:${username.trim().toLowerCase().slice(0, 320)}`,
  ];

  return {
    /**
     * Waits as long as the failures of this source and name demand, or refuses the attempt.
     * Call before looking anything up; report the outcome with `record`.
     */
    async gate(origin: Origin, username: string): Promise<Result<void, ThrottleRefusal>> {
      const now = clock.now();
      const [sourceKey, nameKey] = keys(origin, username);
      const source = counter(sourceKey!, now);
      const name = counter(nameKey!, now);
      if (source.failures.length >= settings.blockSourceAfter) return fail('throttled');
      let at = now;
      const queued: Counter[] = [];
      for (const c of [source, name]) {
        const delay = delayFor(c.failures.length);
        if (delay === 0) continue;
        if (c.waiting >= MAX_WAITING) return fail('throttled');
        c.nextAt = Math.max(now, c.nextAt) + delay;
        at = Math.max(at, c.nextAt);
        queued.push(c);
      }
      if (at === now) return ok(undefined);
      for (const c of queued) c.waiting++;
      try {
        await sleep(at - now);
      } finally {
        for (const c of queued) c.waiting--;
      }
      return ok(undefined);
    },

    /** Counts a failed attempt, or forgets the name's failures after a success. */
    record(origin: Origin, username: string, good: boolean): void {
      const now = clock.now();
      const [sourceKey, nameKey] = keys(origin, username);
      if (good) {
        const name = counters.get(nameKey!);
        if (name) name.failures = [];
        return;
      }
      counter(sourceKey!, now).failures.push(now);
      counter(nameKey!, now).failures.push(now);
    },
  };
}

/** The throttle as the services use it. */
export type Throttle = ReturnType<typeof createThrottle>;
