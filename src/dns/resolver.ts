/**
 * @module DNS lookups the server makes: MX and addresses for outbound mail, and the TXT, MX, A,
 * AAAA and PTR records that SPF, DKIM, DMARC and ARC checks read. Behind an interface so that
 * tests inject their own answers; the real one asks the system's name servers or those the
 * configuration names (`dns.servers`), each query bounded in time.
 */
import { Resolver as DnsResolver } from 'node:dns/promises';
import { Lru } from '../core/lru.ts';

/** An MX record. */
export interface MxRecord {
  exchange: string;
  priority: number;
}

/** Record types a lookup may ask for. */
export type RecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR' | 'CNAME';

/** The lookups the server needs. */
export interface Resolver {
  /** MX records of a domain; empty when it has none (not an error). */
  mx(domain: string): Promise<MxRecord[]>;
  /** IPv4 and IPv6 addresses of a host. */
  addresses(host: string): Promise<string[]>;
  /**
   * Records of one type in the form `dns.promises.resolve` gives them (TXT: the strings of each
   * record). A name without such records rejects with code ENOTFOUND or ENODATA, as mail
   * authentication libraries expect.
   */
  resolve(name: string, type: RecordType): Promise<unknown[]>;
}

/** Milliseconds one query waits for an answer before a retry. */
const QUERY_TIMEOUT_MS = 3000;
/** How long answers (and "no such record") are reused. Node does not expose TTLs of every
 * record type, so a short fixed time stands in; a burst of mail from one domain then costs one
 * lookup per record, not one per message. */
const CACHE_MS = 60_000;
/** Most answers kept. */
const CACHE_ENTRIES = 10_000;

const missing = (err: unknown): boolean =>
  ['ENODATA', 'ENOTFOUND', 'NXDOMAIN'].includes((err as { code?: string }).code ?? '');

/**
 * A resolver asking `servers` (`IP` or `IP:PORT`, IPv6 in brackets with a port), or the
 * system's name servers when the list is empty.
 */
export function createResolver(servers: string[] = []): Resolver {
  const dns = new DnsResolver({ timeout: QUERY_TIMEOUT_MS, tries: 2 });
  const cache = new Lru<string, { answer: Promise<unknown[]>; until: number }>(CACHE_ENTRIES);
  if (servers.length > 0) dns.setServers(servers);
  return {
    async mx(domain) {
      try {
        return await dns.resolveMx(domain);
      } catch (err) {
        if (missing(err)) return [];
        throw err;
      }
    },
    async addresses(host) {
      const out: string[] = [];
      for (const family of ['resolve4', 'resolve6'] as const) {
        try {
          out.push(...(await dns[family](host)));
        } catch (err) {
          if (!missing(err)) throw err;
        }
      }
      return out;
    },
    resolve(name, type) {
      // Identical lookups in flight share one query; settled answers are reused for a while.
      const key = `${type} ${name.toLowerCase()}`;
      const hit = cache.get(key);
      if (hit && hit.until > Date.now()) return hit.answer;
      const answer = dns.resolve(name, type) as Promise<unknown[]>;
      const entry = { answer, until: Date.now() + QUERY_TIMEOUT_MS * 3 };
      cache.set(key, entry);
      answer.then(
        () => {
          entry.until = Date.now() + CACHE_MS;
        },
        (err: unknown) => {
          // Missing records are an answer; failures (timeouts, refusals) are asked again.
          if (missing(err)) entry.until = Date.now() + CACHE_MS;
          else cache.delete(key);
        },
      );
      return answer;
    },
  };
}
