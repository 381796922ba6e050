/**
 * @module Mail authentication on mailauth: DKIM signing of outgoing mail (RFC 6376, Ed25519 per
 * RFC 8463) and the checks made on mail arriving from other servers — SPF (RFC 7208), DKIM,
 * DMARC (RFC 7489) and ARC (RFC 8617) — summed up in an Authentication-Results header (RFC 8601)
 * and a disposition taken from the author domain's DMARC policy.
 * Trust: the message and the DNS answers are untrusted. DNS goes only through the injected
 * resolver; mailauth's lookup counts bound SPF (10 lookups, 2 void) and the whole check has a
 * time budget. A DKIM signature with `l=` that leaves part of the body unsigned counts as neutral,
 * never as a pass, so appended content cannot ride on it (ATTACKS.md SM-13); we never sign with
 * `l=`. BIMI is not evaluated (it would lead to fetching logos).
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { arc, dkimSign, dkimVerify, dmarc, spf } from 'mailauth';
import type { RecordType, Resolver } from '../dns/resolver.ts';

/** A key that signs mail of one domain. */
export interface SigningKey {
  domain: string;
  selector: string;
  algorithm: 'ed25519' | 'rsa';
  privateKey: string;
}

/** Milliseconds all checks of one message may take before they are reported as temperror. */
const CHECK_BUDGET_MS = 20_000;

/** A new private key (PKCS#8 PEM). */
export function generateDkimKey(algorithm: SigningKey['algorithm']): string {
  const { privateKey } =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * DKIM-Signature fields (CRLF-terminated) to put on top of `message`, one per key, relaxed
 * canonicalization, signing the whole body.
 */
export async function dkimSignatures(message: Buffer, keys: SigningKey[], now: number): Promise<string> {
  if (keys.length === 0) return '';
  // mailauth signs once per signatureData entry; the top-level key only satisfies its types.
  const r = await dkimSign(message, {
    signingDomain: keys[0]!.domain,
    selector: keys[0]!.selector,
    privateKey: keys[0]!.privateKey,
    canonicalization: 'relaxed/relaxed',
    signTime: new Date(now),
    signatureData: keys.map((k) => ({
      signingDomain: k.domain,
      selector: k.selector,
      privateKey: k.privateKey,
      algorithm: k.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
      canonicalization: 'relaxed/relaxed',
    })),
  });
  const errors = (r as { errors?: unknown[] }).errors ?? [];
  if (errors.length > 0) throw new Error(`DKIM signing failed: ${String(errors[0])}`);
  return r.signatures;
}

/** What the checks conclude for filing. */
export type Disposition = 'accept' | 'junk' | 'reject';

/** The outcome of the inbound checks. */
export interface InboundVerdict {
  /** Received-SPF and Authentication-Results fields, CRLF-terminated, to put on top. */
  headers: string;
  dkim: string[];
  spf: string;
  dmarc: string;
  /** DMARC policy that applied to a failure ('none' when DMARC passed or was absent). */
  policy: 'none' | 'quarantine' | 'reject';
  disposition: Disposition;
}

/** Where the message came from. */
export interface Connection {
  ip: string;
  helo: string;
  /** MAIL FROM, empty for the null sender. */
  sender: string;
  /** Our host name: the authserv-id of the results. */
  mta: string;
}

/**
 * Checks one message while it arrives: `write` its bytes (in order), then `finish` for the
 * verdict. `abort` stops the work when the message is refused anyway.
 */
export interface InboundCheck {
  write(chunk: Buffer): Promise<void>;
  finish(): Promise<InboundVerdict>;
  abort(): void;
}

const TYPES = new Set<string>(['A', 'AAAA', 'MX', 'TXT', 'PTR', 'CNAME']);

/** Starts the SPF/DKIM/DMARC/ARC checks of one inbound message. */
export function startInboundCheck(conn: Connection, resolver: Resolver): InboundCheck {
  const lookup = async (name: string, type: string): Promise<string[] | string[][]> => {
    if (!TYPES.has(type)) throw Object.assign(new Error(`unsupported type ${type}`), { code: 'ENOTFOUND' });
    return (await resolver.resolve(name, type as RecordType)) as string[] | string[][];
  };
  const input = new PassThrough();
  const verified = dkimVerify(input, { resolver: lookup, sender: conn.sender || undefined } as never);
  // An error surfaces in finish(); until then it must not be an unhandled rejection.
  verified.catch(() => {});
  let failed = false;
  const onError = (): void => {
    failed = true;
  };
  input.on('error', onError);

  async function evaluate(): Promise<InboundVerdict> {
    const dkimResult = await verified;
    const dkim = dkimResult.results.map((r) => {
      const under = Number(r.status.underSized ?? 0);
      if (r.status.result !== 'pass' || !(under > 0)) return r;
      const info = `dkim=neutral (${under} body bytes after l=) header.d=${r.signingDomain}${r.selector ? ` header.s=${r.selector}` : ''}`;
      return { ...r, status: { ...r.status, result: 'neutral' as const }, info };
    });
    const spfResult = await spf({
      ip: conn.ip,
      helo: conn.helo,
      mta: conn.mta,
      resolver: lookup,
      ...(conn.sender ? { sender: conn.sender } : {}),
    });
    const arcResult = dkimResult.arc ? await arc(dkimResult.arc as never, { resolver: lookup }) : null;
    const dmarcResult =
      dkimResult.headerFrom?.length > 0
        ? await dmarc({
            headerFrom: dkimResult.headerFrom,
            spfDomains: spfResult.status.result === 'pass' && spfResult.domain ? [spfResult.domain] : [],
            dkimDomains: dkim
              .filter((r) => r.status.result === 'pass')
              .map((r) => ({
                domain: r.signingDomain,
                ...(r.id ? { id: r.id } : {}),
                ...(r.status.aligned !== undefined ? { aligned: r.status.aligned } : {}),
              })),
            ...(arcResult ? { arcResult } : {}),
            resolver: lookup,
          })
        : false;
    const parts = [
      ...dkim.map((r) => r.info),
      spfResult.info,
      ...(arcResult?.info ? [arcResult.info] : []),
      ...(dmarcResult ? [dmarcResult.info] : []),
    ];
    const dmarcStatus = dmarcResult ? dmarcResult.status.result : 'none';
    const policy = dmarcStatus === 'fail' ? policyOf(dmarcResult ? dmarcResult.policy : '') : 'none';
    const fullPct = !dmarcResult || dmarcResult.pct === undefined || dmarcResult.pct >= 100;
    return {
      headers: `${spfResult.header}\r\nAuthentication-Results: ${conn.mta};\r\n ${parts.join(';\r\n ')}\r\n`,
      dkim: dkim.map((r) => r.status.result),
      spf: spfResult.status.result,
      dmarc: dmarcStatus,
      policy,
      disposition: policy === 'reject' && fullPct ? 'reject' : policy === 'none' ? 'accept' : 'junk',
    };
  }

  return {
    async write(chunk) {
      if (failed) return;
      if (!input.write(chunk))
        await Promise.race([
          once(input, 'drain'),
          verified.then(
            () => {},
            () => {},
          ),
        ]);
    },
    async finish() {
      input.end();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), CHECK_BUDGET_MS);
      });
      try {
        const v = await Promise.race([evaluate(), timeout]);
        if (v) return v;
        return unchecked(conn.mta, 'temperror', 'checks took too long');
      } catch (err) {
        return unchecked(conn.mta, 'temperror', (err as Error).message);
      } finally {
        clearTimeout(timer);
      }
    },
    abort() {
      input.destroy();
    },
  };
}

const policyOf = (p: string): InboundVerdict['policy'] =>
  p === 'reject' ? 'reject' : p === 'quarantine' ? 'quarantine' : 'none';

/** A verdict when the checks could not be completed: mail is filed normally. */
function unchecked(mta: string, result: string, why: string): InboundVerdict {
  const reason = why.replace(/[^\x20-\x7e]|[()\\]/g, ' ').slice(0, 100);
  return {
    headers: `Authentication-Results: ${mta}; dkim=${result} (${reason}); spf=${result}; dmarc=${result}\r\n`,
    dkim: [result],
    spf: result,
    dmarc: result,
    policy: 'none',
    disposition: 'accept',
  };
}

/** The DNS TXT record value publishing the public half of a private key. */
export function dkimRecord(privateKey: string, algorithm: SigningKey['algorithm']): string {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return algorithm === 'ed25519'
    ? // RFC 8463 §4.2: the record holds the bare 32-byte key, not its SubjectPublicKeyInfo.
      `v=DKIM1; k=ed25519; p=${spki.subarray(-32).toString('base64')}`
    : `v=DKIM1; k=rsa; p=${spki.toString('base64')}`;
}

/** Name given to Authentication-Results fields that arrive claiming to be ours. */
export const UNTRUSTED_RESULTS = 'X-Untrusted-Authentication-Results';

/**
 * The header block with every Authentication-Results field whose authserv-id is `ours` renamed,
 * so that only the results this server adds carry its name (RFC 8601 §5): a sender cannot
 * pre-write "dkim=pass" for us. `header` is the block up to and including its blank line.
 */
export function renameForgedResults(header: Buffer, ours: string): Buffer {
  const text = header.toString('latin1');
  const id = ours.toLowerCase();
  let changed = false;
  const out = text.replace(/^Authentication-Results[ \t]*:([^;]*)/gim, (field, value: string) => {
    // The authserv-id is the first token, possibly after comments and folding.
    const authserv =
      value
        .replace(/\([^)]*\)/g, ' ')
        .trim()
        .split(/\s+/)[0]
        ?.toLowerCase() ?? '';
    if (authserv !== id) return field;
    changed = true;
    return `${UNTRUSTED_RESULTS}:${value}`;
  });
  return changed ? Buffer.from(out, 'latin1') : header;
}
