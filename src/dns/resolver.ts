/**
 * @module DNS lookups the server makes (MX and addresses for outbound mail; later SPF, DKIM and
 * DMARC records), behind an interface so that tests inject their own answers.
 */
import { promises as dns } from 'node:dns';

/** An MX record. */
export interface MxRecord {
  exchange: string;
  priority: number;
}

/** The lookups outbound delivery needs. */
export interface Resolver {
  /** MX records of a domain; empty when it has none (not an error). */
  mx(domain: string): Promise<MxRecord[]>;
  /** IPv4 and IPv6 addresses of a host. */
  addresses(host: string): Promise<string[]>;
}

const missing = (err: unknown): boolean =>
  ['ENODATA', 'ENOTFOUND', 'NXDOMAIN'].includes((err as { code?: string }).code ?? '');

/** The system resolver. */
export const systemResolver: Resolver = {
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
};
