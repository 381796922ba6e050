/**
 * @module Email/get (RFC 8621 §4.2): ids, mailboxes, keywords, size, dates, addresses, subject,
 * Message-ID, In-Reply-To, preview and hasAttachment from the caches made at delivery, and the
 * body properties (bodyStructure, textBody, htmlBody, attachments, bodyValues) from the cached
 * MIME structure; message bytes are read only when body values are asked for.
 * Trust: ids are client input; messages of other accounts are "not found" (the services check).
 */
import { fail, ok } from '../../../../core/result.ts';
import type { HeaderAddress } from '../../../../mail/address.ts';
import { decodeWords, findBodyStart } from '../../../../mail/header.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL } from '../../core/request.ts';
import { accountState, emailId, loadAccount, mailboxId, threadId } from '../account.ts';
import { getIds, getProperties, idNumber, pick } from '../args.ts';
import { BODY_PROPERTIES, bodyProperties, bodyValueOptions } from './body.ts';
import { headerSpec, headerValue, rawFields } from './headers.ts';

const PROPERTIES = [
  'id',
  'blobId',
  'threadId',
  'mailboxIds',
  'keywords',
  'size',
  'receivedAt',
  'messageId',
  'inReplyTo',
  'references',
  'headers',
  'sender',
  'from',
  'to',
  'cc',
  'bcc',
  'replyTo',
  'subject',
  'sentAt',
  'hasAttachment',
  'preview',
  ...BODY_PROPERTIES,
] as const;

/** Properties returned when the client names none (RFC 8621 §4.2). */
const DEFAULTS = PROPERTIES.filter(
  (p) => p !== 'bodyStructure' && p !== 'headers' && p !== 'references' && p !== 'safeBody',
);

/** Most emails one call may fetch without ids (a client must page with Email/query). */
const MAX_ALL = 500;

export const utcDate = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** JMAP EmailAddress objects of a header's addresses (group markers are dropped). */
export function addresses(list: HeaderAddress[] | null): { name: string | null; email: string }[] | null {
  if (!list) return null;
  const out: { name: string | null; email: string }[] = [];
  for (const a of list)
    if (a.kind === 'mailbox')
      out.push({
        name: a.name ? decodeWords(a.name) : null,
        email: a.local !== null && a.domain !== null ? `${a.local}@${a.domain}` : (a.local ?? ''),
      });
  return out;
}

/** The ids of a Message-ID style header, without angle brackets. */
export const msgIds = (value: string | null): string[] | null =>
  value ? (value.match(/<([^<>\s]+)>/g)?.map((s) => s.slice(1, -1)) ?? null) : null;

export const emailGet: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const ids = getIds(args);
    if (!ids.ok) return ids;
    const props = getProperties(args, PROPERTIES, DEFAULTS, (p) => headerSpec(p) !== null);
    if (!props.ok) return props;
    const headerSpecs = [...props.value].flatMap((p) => {
      const spec = headerSpec(p);
      return spec ? [[p, spec] as const] : [];
    });
    const needHeaders = headerSpecs.length > 0 || props.value.has('headers') || props.value.has('references');
    const bodyOptions = bodyValueOptions(args);
    if (!bodyOptions.ok) return bodyOptions;
    const options = bodyOptions.value;
    const needBody = BODY_PROPERTIES.some((b) => props.value.has(b));
    const needRaw =
      props.value.has('safeBody') ||
      (props.value.has('bodyValues') && (options.fetchText || options.fetchHtml || options.fetchAll));
    const state = await accountState(mc);
    if (!state.ok) return state;
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const { placement } = account.value;
    let wanted = ids.value;
    if (wanted === null) {
      if (placement.size > MAX_ALL) return fail('requestTooLarge', `more than ${MAX_ALL} emails: ask by id`);
      wanted = [...placement.keys()].map(emailId);
    }
    const numbers = new Map<string, number>();
    for (const id of wanted) {
      const n = idNumber(id, 'e');
      if (n !== null && placement.has(n)) numbers.set(id, n);
    }
    const views = await mc.services.mail.getMessages(mc.ctx, [...new Set(numbers.values())]);
    if (!views.ok) return fail('forbidden');
    const byId = new Map(views.value.map((v) => [v.id, v]));
    const blocks = needHeaders ? await mc.services.mail.readHeaders(mc.ctx, [...byId.keys()]) : null;
    const list: Record<string, unknown>[] = [];
    const notFound: string[] = [];
    for (const id of wanted) {
      const v = byId.get(numbers.get(id) ?? -1);
      const p = v ? placement.get(v.id) : undefined;
      if (!v || !p) {
        notFound.push(id);
        continue;
      }
      const e = v.envelope;
      const extra: Record<string, unknown> = {};
      if (needHeaders) {
        let block: Buffer | undefined = blocks?.ok ? blocks.value.get(v.id) : undefined;
        if (!block) {
          // Blocks too large to keep are read from the message itself.
          const raw = await mc.services.mail.readRawOf(mc.ctx, v);
          if (raw.ok) block = raw.value.subarray(0, findBodyStart(raw.value, 0, raw.value.length));
        }
        const fields = block ? rawFields(block) : [];
        if (props.value.has('headers')) extra['headers'] = fields;
        extra['references'] = headerValue(fields, { name: 'references', form: 'MessageIds', all: false });
        for (const [p, spec] of headerSpecs) extra[p] = headerValue(fields, spec);
      }
      let body: Record<string, unknown> = {};
      if (needBody) {
        const raw = needRaw ? await mc.services.mail.readRawOf(mc.ctx, v) : null;
        body = bodyProperties(`b${v.id}`, raw?.ok ? raw.value : null, v.structure, props.value, options);
      }
      list.push(
        pick(
          {
            id,
            blobId: `b${v.id}`,
            threadId: threadId(v.threadId),
            mailboxIds: Object.fromEntries([...p.mailboxIds].map((m) => [mailboxId(m), true])),
            keywords: p.keywords,
            size: v.size,
            receivedAt: utcDate(v.receivedAt),
            messageId: msgIds(e.messageId),
            inReplyTo: msgIds(e.inReplyTo),
            sender: addresses(e.sender),
            from: addresses(e.from),
            to: addresses(e.to),
            cc: addresses(e.cc),
            bcc: addresses(e.bcc),
            replyTo: addresses(e.replyTo),
            subject: v.subject || null,
            sentAt: v.sentAt === null ? null : utcDate(v.sentAt),
            hasAttachment: v.hasAttachment,
            preview: v.preview,
            ...body,
            ...extra,
          },
          props.value,
        ),
      );
    }
    return ok({ accountId: mc.accountId, state: state.value, list, notFound });
  },
};
