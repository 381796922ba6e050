/**
 * @module Remote images of a message, fetched by the server when the reader allows them
 * (ATTACKS.md WB-08): the sender's server sees this server, never the reader's address or
 * browser, and the webmail's pages load no image from anywhere but here. Only an image the
 * message itself refers to is fetched, for the account that holds the message, through the
 * egress guard (public addresses only, size and time capped), and only bytes that are a PNG,
 * GIF, JPEG or WebP image by their own signature come back, whatever type the sender claimed.
 * Each fetch is audited with the host asked. An account's fetches are limited per hour (the
 * server must not become anyone's request amplifier), and images fetched lately are kept a few
 * minutes, so reopening a message asks the sender's server nothing again.
 * Trust: the URL is client input bound to attacker-controlled mail; it selects nothing inside.
 */
import type { Clock } from '../core/clock.ts';
import type { Egress, EgressError } from '../core/egress.ts';
import { hourlyCounts } from '../core/hourly.ts';
import { Lru } from '../core/lru.ts';
import { fail, ok, type Result } from '../core/result.ts';
import type { MimePart } from '../mail/mime.ts';
import { safeHtml } from '../mail/sanitize.ts';
import { decodePartBody, partText } from '../mail/summary.ts';
import type { Audit } from './audit.ts';
import type { MailService } from './mail.ts';
import { type Ctx, ownAccount } from './principal.ts';

/** Largest remote image fetched. */
export const MAX_REMOTE_IMAGE = 5 * 1024 * 1024;
/** Longest a fetch may take, redirects included. */
const TIMEOUT_MS = 10_000;
const ACCEPT = 'image/png,image/gif,image/jpeg,image/webp';

/** Fetches one account may make per hour, by default. */
export const DEFAULT_IMAGE_FETCHES_PER_HOUR = 600;
/** How long, and up to what size, a fetched image is kept for its account. */
const KEEP_MS = 10 * 60_000;
const KEEP_MAX_BYTES = 256 * 1024;
const KEPT = 128;
/** Messages whose remote image addresses are known (a message's bytes never change). */
const KNOWN_MESSAGES = 256;

export type ImageError =
  | 'forbidden'
  | 'not-found'
  | 'not-in-message'
  | 'blocked'
  | 'failed'
  | 'not-image'
  | 'limited';

/** The image type its first bytes prove, or null. */
export function imageType(b: Buffer): string | null {
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (
    b.length >= 12 &&
    b.subarray(0, 4).toString('latin1') === 'RIFF' &&
    b.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'image/webp';
  return null;
}

/** The remote image addresses of every HTML part of a message, as the sanitizer leaves them. */
function remoteImagesOf(raw: Buffer, structure: MimePart): Set<string> {
  const urls = new Set<string>();
  const walk = (part: MimePart): void => {
    if (part.parts) for (const sub of part.parts) walk(sub);
    else if (`${part.type}/${part.subtype}`.toLowerCase() === 'text/html')
      for (const u of safeHtml(partText(decodePartBody(raw, part), part)).remoteUrls) urls.add(u);
  };
  walk(structure);
  return urls;
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
};

export function createRemoteImages(deps: {
  mail: MailService;
  egress: Egress;
  audit: Audit;
  clock: Clock;
  fetchesPerHour: number;
}) {
  const { mail, egress, audit, clock, fetchesPerHour } = deps;
  const fetches = hourlyCounts<number>(clock);
  const kept = new Lru<string, { type: string; bytes: Buffer; at: number }>(KEPT);
  /** Each message's image addresses, so the images of one message opened are read and
   * sanitized once, not once per image (nor counted as that many reads of the message). */
  const known = new Lru<string, Set<string>>(KNOWN_MESSAGES);
  /** Takes one fetch of the account's hourly allowance; false when none is left. */
  const allowance = (accountId: number): boolean => {
    if (fetches.count(accountId) >= fetchesPerHour) return false;
    fetches.add(accountId);
    return true;
  };
  return {
    /** Fetches the remote image `url` that message `messageId` of the caller's account shows. */
    async fetch(
      ctx: Ctx,
      messageId: number,
      url: string,
    ): Promise<Result<{ type: string; bytes: Buffer }, ImageError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const views = await mail.getMessages(ctx, [messageId]);
      const view = views.ok ? views.value[0] : undefined;
      if (!view) return fail('not-found');
      const messageKey = `${accountId} ${messageId}`;
      let urls = known.get(messageKey);
      if (!urls) {
        const raw = await mail.readRawOf(ctx, view);
        if (!raw.ok) return fail('not-found');
        urls = remoteImagesOf(raw.value, view.structure);
        known.set(messageKey, urls);
      }
      const record = (outcome: 'ok' | 'refused' | 'failed', detail: Record<string, string | number>) =>
        audit({
          action: 'mail.image.fetch',
          outcome,
          origin: ctx,
          account: accountId,
          detail: { message: messageId, host: hostOf(url), ...detail },
        });
      if (!urls.has(url)) {
        record('refused', { reason: 'not-in-message' });
        return fail('not-in-message');
      }
      const key = `${accountId} ${url}`;
      const hit = kept.get(key);
      if (hit && hit.at > clock.now() - KEEP_MS) {
        record('ok', { bytes: hit.bytes.length, kept: 1 });
        return ok({ type: hit.type, bytes: hit.bytes });
      }
      if (!allowance(accountId)) {
        record('refused', { reason: 'limited' });
        return fail('limited');
      }
      const got = await egress.get(url, {
        maxBytes: MAX_REMOTE_IMAGE,
        timeoutMs: TIMEOUT_MS,
        accept: ACCEPT,
      });
      if (!got.ok) {
        record(got.error === 'blocked' ? 'refused' : 'failed', { reason: got.error satisfies EgressError });
        return fail(got.error === 'blocked' || got.error === 'bad-url' ? 'blocked' : 'failed');
      }
      const type = imageType(got.value.body);
      if (!type) {
        record('refused', { reason: 'not-image' });
        return fail('not-image');
      }
      record('ok', { bytes: got.value.body.length });
      if (got.value.body.length <= KEEP_MAX_BYTES)
        kept.set(key, { type, bytes: got.value.body, at: clock.now() });
      return ok({ type, bytes: got.value.body });
    },
  };
}

export type RemoteImages = ReturnType<typeof createRemoteImages>;
