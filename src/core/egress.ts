/**
 * @module The egress guard (ATTACKS.md R16, WB-08): an outbound HTTP(S) GET to an address taken
 * from content (a remote image of a message) that can reach the public internet and nothing else.
 * The name is resolved once, every address it resolves to is checked, and the connection goes to
 * the checked address (so a second answer cannot rebind it to an inside one); loopback, private,
 * link-local, CGNAT, documentation, multicast and reserved ranges are refused, IPv4-mapped,
 * NAT64 and 6to4 IPv6 forms included. Redirects are followed by hand, each through the same
 * checks; the body is capped in size and the whole exchange in time; no cookie, referrer or
 * credential is ever sent.
 * Trust: the URL is attacker-controlled. Only the networks the administrator lists in
 * `allowNetworks` (an intranet image host) are let through besides public addresses.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { fail, ok, type Result } from './result.ts';

/** Ranges never reached: IANA special-purpose registries, plus the IPv6 forms that embed IPv4. */
const BLOCKED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
const BLOCKED_V6 = [
  '::/128',
  '::1/128',
  '::ffff:0:0/96',
  '::/96',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
];

/** Why a fetch did not happen or did not succeed. */
export type EgressError = 'bad-url' | 'blocked' | 'failed' | 'too-big' | 'timeout' | 'status';

export interface EgressResponse {
  /** The final URL, after redirects. */
  url: string;
  status: number;
  /** The media type (without parameters), lower case; empty when none was given. */
  type: string;
  body: Buffer;
}

export interface EgressOptions {
  /** Networks let through although they are not public (CIDR, e.g. `10.1.2.0/24`). */
  allowNetworks?: string[];
  /** Name resolution (tests give their own). */
  lookup?: (name: string) => Promise<{ address: string; family: number }[]>;
}

export interface GetLimits {
  maxBytes: number;
  timeoutMs: number;
  /** The Accept header. */
  accept: string;
}

const MAX_REDIRECTS = 3;

/** Networks by family: a BlockList holding IPv6 rules also matches IPv4 addresses against them
 * (as if mapped), so each family gets a list of its own. */
interface Networks {
  v4: BlockList;
  v6: BlockList;
}

function networks(cidrs: string[]): Networks {
  const out = { v4: new BlockList(), v6: new BlockList() };
  for (const c of cidrs) {
    const [net = '', bits = ''] = c.split('/');
    const family = isIP(net);
    if (family === 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128))
      throw new Error(`not a network: ${c}`);
    if (family === 4) out.v4.addSubnet(net, Number(bits), 'ipv4');
    else out.v6.addSubnet(net, Number(bits), 'ipv6');
  }
  return out;
}

const inside = (list: Networks, address: string): boolean =>
  isIP(address) === 6 ? list.v6.check(address, 'ipv6') : list.v4.check(address, 'ipv4');

const BLOCKED = networks([...BLOCKED_V4, ...BLOCKED_V6]);

/** Checks a configured network list; returns the first bad entry, or null. */
export function badNetwork(cidrs: string[]): string | null {
  for (const c of cidrs)
    try {
      networks([c]);
    } catch {
      return c;
    }
  return null;
}

export function createEgress(options: EgressOptions = {}) {
  const allowed = networks(options.allowNetworks ?? []);
  const lookup =
    options.lookup ??
    ((name: string) =>
      dnsLookup(name, { all: true, verbatim: true }) as Promise<{ address: string; family: number }[]>);

  /** Whether an address may be connected to. */
  const permitted = (address: string): boolean =>
    isIP(address) !== 0 && (inside(allowed, address) || !inside(BLOCKED, address));

  /** One request to a checked address; resolves with the response or an error. */
  const once = (
    url: URL,
    address: string,
    limits: GetLimits,
    signal: AbortSignal,
  ): Promise<Result<{ res: IncomingMessage }, EgressError>> => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = send(
        {
          host: address,
          family: isIP(address),
          port: url.port || (url.protocol === 'https:' ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          // The certificate is checked against the name, the connection made to the address.
          servername: isIP(url.hostname.replace(/^\[|\]$/g, '')) ? undefined : url.hostname,
          headers: { host: url.host, accept: limits.accept, 'user-agent': 'Portcullis image proxy' },
          agent: false,
          signal,
        },
        (res) => resolve(ok({ res })),
      );
      req.on('error', () => resolve(fail(signal.aborted ? 'timeout' : 'failed')));
      req.end();
    });
  };

  /** Reads a body up to `max` bytes. */
  const read = (
    res: IncomingMessage,
    max: number,
    signal: AbortSignal,
  ): Promise<Result<Buffer, EgressError>> =>
    new Promise((resolve) => {
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > max) {
        res.destroy();
        return resolve(fail('too-big'));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > max) {
          res.destroy();
          resolve(fail('too-big'));
        } else chunks.push(d);
      });
      res.on('end', () => resolve(ok(Buffer.concat(chunks))));
      res.on('error', () => resolve(fail(signal.aborted ? 'timeout' : 'failed')));
      res.on('close', () => resolve(fail(signal.aborted ? 'timeout' : 'failed')));
    });

  return {
    /** Whether an address (IPv4 or IPv6 literal) would be connected to. */
    permitted,
    /** GETs `input`, following up to three redirects, within the limits. */
    async get(input: string, limits: GetLimits): Promise<Result<EgressResponse, EgressError>> {
      const signal = AbortSignal.timeout(limits.timeoutMs);
      let url: URL;
      try {
        url = new URL(input);
      } catch {
        return fail('bad-url');
      }
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password)
          return fail('bad-url');
        const host = url.hostname.replace(/^\[|\]$/g, '');
        let addresses: { address: string; family: number }[];
        if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
        else {
          try {
            addresses = await lookup(host);
          } catch {
            return fail('failed');
          }
        }
        // Every answer must be allowed, so the one connected to is too.
        if (addresses.length === 0 || !addresses.every((a) => permitted(a.address))) return fail('blocked');
        if (signal.aborted) return fail('timeout');
        const sent = await once(url, addresses[0]!.address, limits, signal);
        if (!sent.ok) return sent;
        const { res } = sent.value;
        const status = res.statusCode ?? 0;
        if ([301, 302, 303, 307, 308].includes(status)) {
          res.resume();
          const next = res.headers.location;
          if (!next) return fail('status');
          try {
            url = new URL(next, url);
          } catch {
            return fail('bad-url');
          }
          continue;
        }
        if (status !== 200) {
          res.resume();
          return fail('status');
        }
        const body = await read(res, limits.maxBytes, signal);
        if (!body.ok) return body;
        const type = String(res.headers['content-type'] ?? '')
          .split(';', 1)[0]!
          .trim()
          .toLowerCase();
        return ok({ url: url.href, status, type, body: body.value });
      }
      return fail('status');
    },
  };
}

/** The guard as its users hold it. */
export type Egress = ReturnType<typeof createEgress>;
