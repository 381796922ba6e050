/**
 * @module Connection admission shared by every listener of a process (ATTACKS.md AU-04, DS-01,
 * DS-03): caps on concurrent connections and on concurrent not-yet-authenticated connections
 * per client, and on new connections per client per minute. A client is one IPv4 address or one
 * IPv6 /64 (a single host usually holds a whole /64). Admission is decided at accept time from
 * counters in memory, so the accept loop never waits; refused clients get the protocol's
 * temporary-failure greeting. Networks listed as exempt (loopback by default, where a local
 * front end connects) are counted by nothing here.
 */
import { isIPv6 } from 'node:net';
import type { Clock } from './clock.ts';
import { inNetworks, parseNetworks } from './networks.ts';

/** Limits per client. */
export interface ConnectionLimits {
  /** Concurrent connections of one client over all listeners. */
  perClient: number;
  /** Concurrent connections of one client that have not authenticated (on listeners with login). */
  unauthenticatedPerClient: number;
  /** New connections of one client per minute. */
  perMinute: number;
  /** Networks (`ADDR/PREFIX` or `ADDR`) no limit applies to. */
  exempt: string[];
}

/** One admitted connection; call `release` when it closes (further calls are ignored). */
export interface Admission {
  /** The connection authenticated: it no longer counts as unauthenticated. */
  authenticated(): void;
  release(): void;
}

/** Why a connection was refused. */
export type Refusal = 'too-many' | 'too-many-unauthenticated' | 'too-fast';

interface ClientCount {
  open: number;
  unauthenticated: number;
  /** Times of recent connections, oldest first (at most `perMinute`). */
  recent: number[];
}

/** Clients tracked before quiet ones are swept. */
const SWEEP_AT = 10_000;

const NOTHING: Admission = { authenticated() {}, release() {} };

/** The client key of an address: IPv4 as is (mapped forms unwrapped), IPv6 as its /64. */
export function clientOf(remote: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remote);
  if (mapped) return mapped[1]!;
  if (!isIPv6(remote)) return remote;
  const [head = '', tail = ''] = remote.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = remote.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Creates the guard of one process. */
export function createConnectionGuard(limits: ConnectionLimits, clock: Clock) {
  const exempt = parseNetworks(limits.exempt);
  const clients = new Map<string, ClientCount>();
  let sweptAt = 0;
  /** Drops clients with nothing open and no connection in the last minute. */
  const sweep = (now: number): void => {
    sweptAt = now;
    for (const [key, c] of clients)
      if (c.open === 0 && (c.recent.at(-1) ?? 0) <= now - 60_000) clients.delete(key);
  };

  const isExempt = (remote: string): boolean => {
    const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remote);
    return inNetworks(exempt, mapped ? mapped[1]! : remote);
  };

  return {
    /**
     * Admits a new connection from `remote`, or says why not. `login`: the listener expects
     * the client to authenticate (IMAP, submission), so it counts as unauthenticated until then.
     */
    admit(remote: string, login: boolean): Admission | Refusal {
      if (isExempt(remote)) return NOTHING;
      const key = clientOf(remote);
      const now = clock.now();
      if (clients.size >= SWEEP_AT && now - sweptAt >= 1000) sweep(now);
      const c = clients.get(key) ?? { open: 0, unauthenticated: 0, recent: [] };
      while (c.recent.length > 0 && c.recent[0]! <= now - 60_000) c.recent.shift();
      let refusal: Refusal | null = null;
      if (c.open >= limits.perClient) refusal = 'too-many';
      else if (login && c.unauthenticated >= limits.unauthenticatedPerClient)
        refusal = 'too-many-unauthenticated';
      else if (c.recent.length >= limits.perMinute) refusal = 'too-fast';
      if (refusal) {
        if (c.open === 0 && c.recent.length === 0) clients.delete(key);
        return refusal;
      }
      c.open++;
      c.recent.push(now);
      if (login) c.unauthenticated++;
      clients.set(key, c);
      let pending = login;
      let open = true;
      return {
        authenticated() {
          if (!pending || !open) return;
          pending = false;
          c.unauthenticated--;
        },
        release() {
          if (!open) return;
          open = false;
          if (pending) c.unauthenticated--;
          pending = false;
          c.open--;
          // Counters of a quiet client are dropped; its recent times matter only for a minute.
          if (c.open === 0 && (c.recent.at(-1) ?? 0) <= clock.now() - 60_000) clients.delete(key);
        },
      };
    },

    /** Clients currently tracked (for tests: the map must not grow without bound). */
    get tracked(): number {
      return clients.size;
    },
  };
}

/** The guard as listeners receive it. */
export type ConnectionGuard = ReturnType<typeof createConnectionGuard>;
