/**
 * @module The egress guard (ATTACKS.md R16, WB-08): an outbound HTTP(S) GET to an address taken
 * from content (a remote image of a message) that can reach the public internet and nothing else.
 * The name is resolved once, every address it resolves to is checked, and the connection goes to
 * the checked address (so a second answer cannot rebind it to an inside one); loopback, private,
 * link-local, CGNAT, documentation, multicast and reserved ranges are refused, IPv4-mapped,
 * NAT64 and 6to4 IPv6 forms included (the list is `networks.ts`'s). Redirects are followed by hand, each through the same
 * checks; the body is capped in size and the whole exchange in time; no cookie, referrer or
 * credential is ever sent.
 * Trust: the URL is attacker-controlled. Only the networks the administrator lists in
 * `allowNetworks` (an intranet image host) are let through besides public addresses.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { inNetworks, parseNetworks, publicAddress } from './networks.ts';
import { fail, ok, type Result } from './result.ts';

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

export function createEgress(options: EgressOptions = {}) {
  const allowed = parseNetworks(options.allowNetworks ?? []);
  const lookup =
    options.lookup ??
    ((name: string) =>
      dnsLookup(name, { all: true, verbatim: true }) as Promise<{ address: string; family: number }[]>);

  /** Whether an address may be connected to. */
  const permitted = (address: string): boolean => inNetworks(allowed, address) || publicAddress(address);

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
