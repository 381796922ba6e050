/**
 * @module DKIM keys of the local domains: the administrator creates, lists and removes them;
 * submission signs every outgoing message with the keys of its author's domain.
 * Trust: key management needs the administrator context; private keys never leave this module
 * except as signatures.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { canonicalDomain } from '../mail/address.ts';
import { dkimRecord, dkimSignatures, generateDkimKey } from '../mail/auth.ts';
import type { DkimKey, Store } from '../store/types.ts';
import { type Ctx, isIssued } from './principal.ts';

/** Expected failures of key management. */
export type DkimError = 'forbidden' | 'invalid' | 'no-domain' | 'exists' | 'not-found';

/** A key as the administrator sees it: where to publish it and what. */
export interface PublishedKey {
  domain: string;
  selector: string;
  algorithm: DkimKey['algorithm'];
  createdAt: number;
  /** DNS name of the TXT record. */
  name: string;
  /** Value of the TXT record. */
  record: string;
}

const published = (k: DkimKey): PublishedKey => ({
  domain: k.domain,
  selector: k.selector,
  algorithm: k.algorithm,
  createdAt: k.createdAt,
  name: `${k.selector}._domainkey.${k.domain}`,
  record: dkimRecord(k.privateKey, k.algorithm),
});

/** Creates the DKIM service. */
export function createDkim({ store, clock, log }: { store: Store; clock: Clock; log: Logger }) {
  const admin = (ctx: Ctx, action: string): boolean => {
    const allowed = isIssued(ctx.principal) && ctx.principal.kind === 'admin';
    if (allowed)
      log.info({ admin: ctx.principal.kind === 'admin' ? ctx.principal.name : '', action }, 'dkim');
    else log.warn({ session: ctx.sessionId, action }, 'dkim action refused');
    return allowed;
  };
  const domainOf = (name: string): Result<string, DkimError> => {
    const d = canonicalDomain(name);
    return d ? ok(d) : fail('invalid', `${JSON.stringify(name)} is not a valid domain name`);
  };

  return {
    /**
     * New Ed25519 and RSA-2048 keys for a domain (RFC 8463 §1: sign with both until every
     * verifier knows Ed25519). Selectors carry the date, so a rotation adds keys beside the old.
     */
    async generate(ctx: Ctx, name: string): Promise<Result<PublishedKey[], DkimError>> {
      if (!admin(ctx, `dkim generate ${name}`)) return fail('forbidden');
      const d = domainOf(name);
      if (!d.ok) return d;
      const now = clock.now();
      const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '');
      const out: PublishedKey[] = [];
      for (const algorithm of ['ed25519', 'rsa'] as const) {
        const key: DkimKey = {
          domain: d.value,
          selector: `pc${day}${algorithm === 'ed25519' ? 'e' : 'r'}`,
          algorithm,
          privateKey: generateDkimKey(algorithm),
          createdAt: now,
        };
        const r = await store.addDkimKey(key);
        if (r === 'no-domain') return fail('no-domain');
        if (r === 'exists')
          return fail(
            'exists',
            `${d.value} already has a key with selector ${key.selector}; remove it first`,
          );
        out.push(published(key));
      }
      return ok(out);
    },

    async list(ctx: Ctx, name?: string): Promise<Result<PublishedKey[], DkimError>> {
      if (!admin(ctx, 'dkim list')) return fail('forbidden');
      if (name === undefined) return ok((await store.listDkimKeys()).map(published));
      const d = domainOf(name);
      if (!d.ok) return d;
      return ok((await store.listDkimKeys(d.value)).map(published));
    },

    async remove(ctx: Ctx, name: string, selector: string): Promise<Result<void, DkimError>> {
      if (!admin(ctx, `dkim delete ${name} ${selector}`)) return fail('forbidden');
      const d = domainOf(name);
      if (!d.ok) return d;
      return (await store.removeDkimKey(d.value, selector)) === 'ok' ? ok(undefined) : fail('not-found');
    },

    /**
     * DKIM-Signature fields for a message whose author is in `domain`; empty when the domain
     * has no keys. Called by submission after its own checks.
     */
    async sign(message: Buffer, domain: string): Promise<string> {
      const keys = await store.listDkimKeys(domain);
      return dkimSignatures(message, keys, clock.now());
    },
  };
}

/** The DKIM service's interface. */
export type DkimService = ReturnType<typeof createDkim>;
