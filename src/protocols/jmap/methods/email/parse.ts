/**
 * @module Email/parse (RFC 8621 §4.9): reads uploaded messages (or attached ones, by blob id)
 * as Email objects without storing them, e.g. to show a forwarded message/rfc822 attachment.
 * Trust: the bytes are untrusted and go through the same bounded parser as delivery.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Envelope, MimePart } from '../../../../mail/mime.ts';
import { summarize } from '../../../../mail/summary.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL, CORE_LIMITS } from '../../core/request.ts';
import { getProperties, pick, stringList } from '../args.ts';
import { readBlob } from '../blob.ts';
import { BODY_PROPERTIES, bodyProperties, bodyValueOptions } from './body.ts';
import { addresses, msgIds, utcDate } from './get.ts';

const PROPERTIES = [
  'blobId',
  'size',
  'messageId',
  'inReplyTo',
  'references',
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
const DEFAULTS = PROPERTIES.filter((p) => p !== 'bodyStructure' && p !== 'safeBody');

export const emailParse: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const blobIds = stringList(args, 'blobIds');
    if (!blobIds.ok) return blobIds;
    if (!blobIds.value) return fail('invalidArguments', 'blobIds is required');
    if (blobIds.value.length > CORE_LIMITS.maxObjectsInGet) return fail('requestTooLarge');
    const props = getProperties(args, PROPERTIES, DEFAULTS);
    if (!props.ok) return props;
    props.value.delete('id');
    const bodyOptions = bodyValueOptions(args);
    if (!bodyOptions.ok) return bodyOptions;
    const options = bodyOptions.value;
    const parsed: Record<string, unknown> = {};
    const notParsable: string[] = [];
    const notFound: string[] = [];
    for (const blobId of blobIds.value) {
      // Uploads and attached parts; a whole stored message is an Email already.
      const bytes = /^(u|b\d+\.)/.test(blobId) ? await readBlob(mc, blobId) : null;
      if (!bytes) {
        notFound.push(blobId);
        continue;
      }
      const s = summarize(bytes);
      const e = JSON.parse(s.envelope) as Envelope;
      if (!e.from && !e.subject && !e.date && !e.messageId) {
        notParsable.push(blobId);
        continue;
      }
      parsed[blobId] = pick(
        {
          blobId,
          size: bytes.length,
          messageId: msgIds(e.messageId),
          inReplyTo: msgIds(e.inReplyTo),
          references: s.references.length > 0 ? s.references : null,
          sender: addresses(e.sender),
          from: addresses(e.from),
          to: addresses(e.to),
          cc: addresses(e.cc),
          bcc: addresses(e.bcc),
          replyTo: addresses(e.replyTo),
          subject: s.subject || null,
          sentAt: s.sentAt === null ? null : utcDate(s.sentAt),
          hasAttachment: s.hasAttachment,
          preview: s.preview,
          ...bodyProperties(blobId, bytes, JSON.parse(s.structure) as MimePart, props.value, options),
        },
        props.value,
      );
    }
    return ok({
      accountId: mc.accountId,
      parsed: Object.keys(parsed).length > 0 ? parsed : null,
      notParsable: notParsable.length > 0 ? notParsable : null,
      notFound: notFound.length > 0 ? notFound : null,
    });
  },
};
