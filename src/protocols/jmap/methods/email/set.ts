/**
 * @module Email/set (RFC 8621 §4.6) for updates and destruction: `keywords` (whole, or one
 * keyword by patch path), `mailboxIds` (whole, or one mailbox by patch path), and destroy. The
 * changes are made with the same service calls IMAP uses (flag stores, copies, expunges), so both
 * protocols see one state and one change log. A message gets its new mailboxes before it leaves
 * the old ones, so it is never without one. Creating an email (a draft) composes a message from
 * addresses, subject, one text and/or HTML body and attachments (uploaded blobs, parts of stored
 * messages, or whole messages as message/rfc822), and stores it like IMAP APPEND.
 * Trust: every id, patch path and value is client input; counts are bounded by maxObjectsInSet.
 */
import { randomId } from '../../../../core/ids.ts';
import { fail, ok } from '../../../../core/result.ts';
import { type Address, type Attachment, composeMessage } from '../../../../mail/compose.ts';
import type { Method, MethodContext } from '../../core/api.ts';
import { CAP_MAIL, CORE_LIMITS, isObject } from '../../core/request.ts';
import { accountState, emailId, flagsOf, loadAccount, type Placement, threadId } from '../account.ts';
import { createdId, idNumber, setResponse, stateMismatch } from '../args.ts';
import { readBlob } from '../blob.ts';

type SetError = { type: string; description?: string };

const KEYWORD = /^[\x21-\x7e]{1,255}$/;
const validKeyword = (k: string): boolean => KEYWORD.test(k) && !/[(){\]%*"\\]/.test(k);

/** The keywords and mailboxes a patch asks for, or the reason it is invalid. */
function target(
  patch: Record<string, unknown>,
  p: Placement,
): { keywords: Record<string, true>; mailboxIds: Set<number> } | SetError {
  const keywords = { ...p.keywords };
  const mailboxIds = new Set(p.mailboxIds);
  for (const [path, value] of Object.entries(patch)) {
    if (path === 'keywords') {
      if (!isObject(value) || !Object.entries(value).every(([k, v]) => v === true && validKeyword(k)))
        return { type: 'invalidProperties', description: 'keywords must map keywords to true' };
      for (const k of Object.keys(keywords)) delete keywords[k];
      for (const k of Object.keys(value)) keywords[k.toLowerCase()] = true;
    } else if (path.startsWith('keywords/')) {
      const k = path.slice(9).toLowerCase();
      if (!validKeyword(k) || (value !== true && value !== null))
        return { type: 'invalidProperties', description: `bad patch ${path}` };
      if (value === true) keywords[k] = true;
      else delete keywords[k];
    } else if (path === 'mailboxIds') {
      if (!isObject(value) || !Object.values(value).every((v) => v === true))
        return { type: 'invalidProperties', description: 'mailboxIds must map mailbox ids to true' };
      mailboxIds.clear();
      for (const id of Object.keys(value)) {
        const n = idNumber(id, 'm');
        if (n === null) return { type: 'invalidProperties', description: `no mailbox ${id}` };
        mailboxIds.add(n);
      }
    } else if (path.startsWith('mailboxIds/')) {
      const n = idNumber(path.slice(11), 'm');
      if (n === null || (value !== true && value !== null))
        return { type: 'invalidProperties', description: `bad patch ${path}` };
      if (value === true) mailboxIds.add(n);
      else mailboxIds.delete(n);
    } else return { type: 'invalidProperties', description: `${path} cannot be changed` };
  }
  if (mailboxIds.size === 0)
    return { type: 'invalidProperties', description: 'an email must be in a mailbox' };
  return { keywords, mailboxIds };
}

/** Removes a message from one mailbox: \Deleted on its entry there, then expunge that UID. */
async function removeFrom(mc: MethodContext, mailboxId: number, uid: number): Promise<boolean> {
  const marked = await mc.services.mail.storeFlags(mc.ctx, mailboxId, [uid], 'add', ['\\Deleted']);
  if (!marked.ok) return false;
  return (await mc.services.mail.expunge(mc.ctx, mailboxId, [uid])).ok;
}

export const emailSet: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const update = args['update'] ?? {};
    const destroy = args['destroy'] ?? [];
    const create = args['create'] ?? {};
    if (!isObject(update) || !Array.isArray(destroy) || !isObject(create))
      return fail('invalidArguments', 'create and update are objects, destroy is a list');
    const count = Object.keys(update).length + destroy.length + Object.keys(create).length;
    if (count > CORE_LIMITS.maxObjectsInSet)
      return fail('requestTooLarge', `at most ${CORE_LIMITS.maxObjectsInSet} objects in one /set`);
    const oldState = await accountState(mc);
    if (!oldState.ok) return oldState;
    if (stateMismatch(args, oldState.value)) return fail('stateMismatch');
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const { placement, mailboxes } = account.value;
    const exists = new Set(mailboxes.map((m) => m.id));

    const created: Record<string, Record<string, unknown>> = {};
    const notCreated: Record<string, SetError> = {};
    for (const [key, value] of Object.entries(create)) {
      const r = await createEmail(mc, value, exists);
      if ('type' in r) notCreated[key] = r as SetError;
      else {
        created[key] = r;
        mc.createdIds.set(key, r['id'] as string);
      }
    }

    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    for (const [given, patch] of Object.entries(update)) {
      // `#key` names an email created earlier in this request.
      const id = createdId(mc, given);
      const n = idNumber(id, 'e');
      const p = n === null ? undefined : placement.get(n);
      if (!p) {
        notUpdated[id] = { type: 'notFound' };
        continue;
      }
      if (!isObject(patch)) {
        notUpdated[id] = { type: 'invalidPatch' };
        continue;
      }
      const t = target(patch, p);
      if ('type' in t) {
        notUpdated[id] = t;
        continue;
      }
      const missing = [...t.mailboxIds].find((m) => !exists.has(m));
      if (missing !== undefined) {
        notUpdated[id] = { type: 'invalidProperties', description: `no mailbox m${missing}` };
        continue;
      }
      let good = true;
      const [source] = [...p.entries];
      for (const m of t.mailboxIds)
        if (!p.mailboxIds.has(m) && source)
          good &&= (await mc.services.mail.copy(mc.ctx, source[0], [source[1].uid], m, false)).ok;
      for (const [m, e] of p.entries) if (!t.mailboxIds.has(m)) good &&= await removeFrom(mc, m, e.uid);
      if (JSON.stringify(Object.keys(t.keywords).sort()) !== JSON.stringify(Object.keys(p.keywords).sort())) {
        const flags = flagsOf(t.keywords);
        // Every copy gets the keywords; a \Deleted set over IMAP is kept.
        const after = await loadAccount(mc);
        const now = after.ok ? after.value.placement.get(n!) : undefined;
        for (const [m, e] of now?.entries ?? [])
          good &&= (
            await mc.services.mail.storeFlags(mc.ctx, m, [e.uid], 'set', [
              ...flags,
              ...e.flags.filter((f) => f === '\\Deleted'),
            ])
          ).ok;
      }
      if (good) updated[id] = null;
      else notUpdated[id] = { type: 'serverFail' };
    }

    const destroyed: string[] = [];
    const notDestroyed: Record<string, SetError> = {};
    for (const given of destroy) {
      const id = typeof given === 'string' ? createdId(mc, given) : given;
      const n = typeof id === 'string' ? idNumber(id, 'e') : null;
      const p = n === null ? undefined : placement.get(n);
      if (!p) {
        notDestroyed[String(id)] = { type: 'notFound' };
        continue;
      }
      let good = true;
      for (const [m, e] of p.entries) good &&= await removeFrom(mc, m, e.uid);
      if (good) destroyed.push(id as string);
      else notDestroyed[id as string] = { type: 'serverFail' };
    }
    const newState = await accountState(mc);
    return ok(
      setResponse(mc, oldState.value, newState.ok ? newState.value : oldState.value, {
        created,
        updated,
        destroyed,
        notCreated,
        notUpdated,
        notDestroyed,
      }),
    );
  },
};

const CREATE_PROPERTIES = new Set([
  'mailboxIds',
  'keywords',
  'from',
  'to',
  'cc',
  'bcc',
  'replyTo',
  'subject',
  'inReplyTo',
  'references',
  'bodyValues',
  'textBody',
  'htmlBody',
  'attachments',
]);

/** Attachments one new email may carry. */
const MAX_ATTACHMENTS = 100;

/** The attachments of a new email, read from their blobs; a SetError when one is wrong. */
async function attachmentsOf(mc: MethodContext, v: unknown): Promise<Attachment[] | SetError> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_ATTACHMENTS)
    return {
      type: 'invalidProperties',
      description: `attachments must be a list of at most ${MAX_ATTACHMENTS}`,
    };
  const out: Attachment[] = [];
  let total = 0;
  for (const a of v) {
    if (!isObject(a) || typeof a['blobId'] !== 'string')
      return { type: 'invalidProperties', description: 'each attachment needs a blobId' };
    const type = typeof a['type'] === 'string' ? a['type'].toLowerCase() : 'application/octet-stream';
    const name = a['name'] ?? null;
    const cid = a['cid'] ?? null;
    const disposition = a['disposition'] ?? 'attachment';
    if (
      !/^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/.test(type) ||
      (name !== null && (typeof name !== 'string' || name.length > 255 || /[\x00-\x1f\x7f]/.test(name))) ||
      (cid !== null && (typeof cid !== 'string' || !/^[^\s<>]{1,250}$/.test(cid))) ||
      (disposition !== 'attachment' && disposition !== 'inline')
    )
      return {
        type: 'invalidProperties',
        description: 'attachment type, name, cid or disposition is not valid',
      };
    const bytes = await readBlob(mc, a['blobId']);
    if (!bytes) return { type: 'blobNotFound', description: `no blob ${a['blobId']}` };
    total += bytes.length;
    if (total > CORE_LIMITS.maxSizeUpload)
      return { type: 'tooLarge', description: 'the attachments are larger than maxSizeAttachmentsPerEmail' };
    out.push({ content: bytes, type, name, cid, inline: disposition === 'inline' });
  }
  return out;
}

/** A list of EmailAddress objects, or null when malformed. */
function addressList(v: unknown): Address[] | null {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > 1000) return null;
  const out: Address[] = [];
  for (const a of v) {
    if (!isObject(a) || typeof a['email'] !== 'string' || !/^[^\s@<>",]+@[^\s@<>",]+$/.test(a['email']))
      return null;
    const name = a['name'];
    if (name !== undefined && name !== null && (typeof name !== 'string' || /[\r\n]/.test(name))) return null;
    out.push({ name: (name as string | null | undefined) ?? null, email: a['email'] });
  }
  return out;
}

/** The text of the one body part of `kind`, which points into bodyValues; null when absent. */
function bodyText(
  obj: Record<string, unknown>,
  kind: 'textBody' | 'htmlBody',
  type: string,
): string | null | SetError {
  const parts = obj[kind];
  if (parts === undefined || parts === null) return null;
  const values = obj['bodyValues'];
  const part = Array.isArray(parts) && parts.length === 1 ? parts[0] : null;
  if (!isObject(part) || !isObject(values))
    return { type: 'invalidProperties', description: `${kind} must be one part with a value in bodyValues` };
  const partId = part['partId'];
  const value = typeof partId === 'string' ? values[partId] : undefined;
  if ((part['type'] ?? type) !== type || !isObject(value) || typeof value['value'] !== 'string')
    return { type: 'invalidProperties', description: `${kind} must be ${type} with a value in bodyValues` };
  return value['value'];
}

/** Message ids of inReplyTo or references (without angle brackets), or null when malformed. */
function idList(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) &&
    v.length <= 100 &&
    v.every((x) => typeof x === 'string' && /^[^\s<>]{1,250}$/.test(x))
    ? (v as string[])
    : null;
}

/** Creates one email from a JMAP Email object: composed, stored in its first mailbox with its
 * keywords, and copied to the others. */
async function createEmail(
  mc: MethodContext,
  value: unknown,
  mailboxes: Set<number>,
): Promise<Record<string, unknown> | SetError> {
  if (!isObject(value)) return { type: 'invalidProperties', description: 'an email must be an object' };
  const unknown = Object.keys(value).find((k) => !CREATE_PROPERTIES.has(k));
  if (unknown) return { type: 'invalidProperties', description: `${unknown} cannot be set when creating` };
  const placed = target(
    { mailboxIds: value['mailboxIds'], keywords: value['keywords'] ?? {} },
    { mailboxIds: new Set(), entries: new Map(), keywords: {} },
  );
  if ('type' in placed) return placed;
  const boxes = [...placed.mailboxIds];
  if (boxes.some((m) => !mailboxes.has(m)))
    return { type: 'invalidProperties', description: 'no such mailbox' };
  const [from, to, cc, bcc, replyTo] = ['from', 'to', 'cc', 'bcc', 'replyTo'].map((k) =>
    addressList(value[k]),
  );
  if (!from || !to || !cc || !bcc || !replyTo || from.length > 1)
    return { type: 'invalidProperties', description: 'addresses must be EmailAddress lists (one From)' };
  const subject = value['subject'] ?? '';
  if (typeof subject !== 'string' || subject.length > 2000)
    return { type: 'invalidProperties', description: 'subject must be a string' };
  const inReplyTo = idList(value['inReplyTo']);
  const references = idList(value['references']);
  if (!inReplyTo || !references)
    return { type: 'invalidProperties', description: 'bad inReplyTo or references' };
  const text = bodyText(value, 'textBody', 'text/plain');
  const html = bodyText(value, 'htmlBody', 'text/html');
  if (text !== null && typeof text === 'object') return text;
  if (html !== null && typeof html === 'object') return html;
  const attachments = await attachmentsOf(mc, value['attachments']);
  if ('type' in attachments) return attachments;
  const raw = await composeMessage({
    from,
    to,
    cc,
    bcc,
    replyTo,
    subject,
    text: text ?? (html === null ? '' : null),
    html,
    inReplyTo,
    references,
    attachments,
    messageId: `${randomId(16)}@${mc.hostname}`,
    date: Date.now(),
  });
  const first = boxes[0]!;
  const stored = await mc.services.mail.append(mc.ctx, first, raw, {
    flags: flagsOf(placed.keywords),
    receivedAt: null,
  });
  if (!stored.ok)
    return stored.error === 'too-big' || stored.error === 'over-quota' || stored.error === 'storage-low'
      ? { type: 'overQuota', description: stored.error }
      : { type: 'invalidProperties', description: stored.error };
  const entries = await mc.services.mail.listEntries(mc.ctx, first);
  const entry = entries.ok ? entries.value.find((e) => e.uid === stored.value.uid) : undefined;
  if (!entry) return { type: 'serverFail' };
  for (const m of boxes.slice(1)) await mc.services.mail.copy(mc.ctx, first, [entry.uid], m, false);
  const view = await mc.services.mail.getMessage(mc.ctx, entry.messageId);
  return {
    id: emailId(entry.messageId),
    blobId: `b${entry.messageId}`,
    threadId: threadId(view.ok ? view.value.threadId : entry.messageId),
    size: raw.length,
  };
}
