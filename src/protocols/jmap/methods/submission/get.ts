/**
 * @module EmailSubmission/get, /changes and /query (RFC 8621 §7.1–7.4): the records of mail the
 * account sent over JMAP, with each recipient's delivery status as the outbound queue last saw
 * it (local recipients are delivered at once).
 * Trust: ids and filters are client input; records are read through the submission service.
 */
import { fail, ok, type Result } from '../../../../core/result.ts';
import type { SubmissionRecord } from '../../../../services/index.ts';
import type { Method, MethodContext } from '../../core/api.ts';
import { CAP_SUBMISSION, isObject } from '../../core/request.ts';
import { accountState, emailId, threadId } from '../account.ts';
import { getIds, getProperties, idNumber, pick, unsigned } from '../args.ts';
import { changesResponse, delta } from '../changes.ts';
import { utcDate } from '../email/get.ts';

export const submissionId = (id: number): string => `s${id}`;

const PROPERTIES = [
  'id',
  'identityId',
  'emailId',
  'threadId',
  'envelope',
  'sendAt',
  'undoStatus',
  'deliveryStatus',
  'dsnBlobIds',
  'mdnBlobIds',
] as const;

/** A record as a JMAP EmailSubmission object. */
function submissionObject(r: SubmissionRecord): Record<string, unknown> {
  return {
    id: submissionId(r.id),
    identityId: r.identityId,
    emailId: emailId(r.messageId),
    threadId: threadId(r.threadId),
    envelope: {
      mailFrom: { email: r.mailFrom, parameters: null },
      rcptTo: r.recipients.map((x) => ({ email: x.address, parameters: null })),
    },
    sendAt: utcDate(r.sendAt),
    undoStatus: 'final',
    deliveryStatus: Object.fromEntries(
      r.recipients.map((x) => [
        x.address,
        { smtpReply: x.smtpReply, delivered: x.delivered, displayed: 'unknown' },
      ]),
    ),
    dsnBlobIds: [],
    mdnBlobIds: [],
  };
}

async function records(mc: MethodContext, ids: number[] | null): Promise<Result<SubmissionRecord[], string>> {
  const r = await mc.services.submission.listSubmissions(mc.ctx, ids);
  return r.ok ? r : fail('forbidden');
}

export const emailSubmissionGet: Method = {
  capability: CAP_SUBMISSION,
  async run(mc, args) {
    const ids = getIds(args);
    if (!ids.ok) return ids;
    const props = getProperties(args, PROPERTIES, PROPERTIES);
    if (!props.ok) return props;
    const state = await accountState(mc);
    if (!state.ok) return state;
    const numbers = ids.value?.map((id) => idNumber(id, 's')).filter((n): n is number => n !== null) ?? null;
    const found = await records(mc, numbers);
    if (!found.ok) return found;
    const objects = new Map(found.value.map((r) => [submissionId(r.id), submissionObject(r)]));
    const wanted = ids.value ?? [...objects.keys()];
    return ok({
      accountId: mc.accountId,
      state: state.value,
      list: wanted.filter((id) => objects.has(id)).map((id) => pick(objects.get(id)!, props.value)),
      notFound: wanted.filter((id) => !objects.has(id)),
    });
  },
};

export const emailSubmissionChanges: Method = {
  capability: CAP_SUBMISSION,
  async run(mc, args) {
    const all = await records(mc, null);
    if (!all.ok) return all;
    const ids = new Set(all.value.map((r) => r.id));
    const d = await delta(mc, args, 'EmailSubmission', (id) => ids.has(id));
    if (!d.ok) return d;
    return ok(changesResponse(mc, d.value, submissionId));
  },
};

const FILTERS = new Set(['identityIds', 'emailIds', 'threadIds', 'undoStatus', 'before', 'after']);
const SORTS: Record<string, (r: SubmissionRecord) => number> = {
  emailId: (r) => r.messageId,
  threadId: (r) => r.threadId,
  sentAt: (r) => r.sendAt,
};

export const emailSubmissionQuery: Method = {
  capability: CAP_SUBMISSION,
  async run(mc, args) {
    const position = unsigned(args, 'position', 0);
    if (!position.ok) return position;
    const limit = unsigned(args, 'limit', 1000);
    if (!limit.ok) return limit;
    const filter = args['filter'] ?? {};
    if (!isObject(filter) || 'operator' in filter)
      return fail('unsupportedFilter', 'a filter is one condition object');
    const tests: ((r: SubmissionRecord) => boolean)[] = [];
    for (const [key, value] of Object.entries(filter)) {
      if (!FILTERS.has(key)) return fail('unsupportedFilter', `filter condition ${key} is not supported`);
      if (key === 'undoStatus') {
        tests.push(() => value === 'final');
      } else if (key === 'before' || key === 'after') {
        const t = typeof value === 'string' ? Date.parse(value) : Number.NaN;
        if (!Number.isFinite(t)) return fail('invalidArguments', `${key} must be a UTCDate`);
        tests.push(key === 'before' ? (r) => r.sendAt < t : (r) => r.sendAt >= t);
      } else {
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
          return fail('invalidArguments', `${key} must be a list of ids`);
        const set = new Set(value as string[]);
        const of =
          key === 'identityIds'
            ? (r: SubmissionRecord) => r.identityId
            : key === 'emailIds'
              ? (r: SubmissionRecord) => emailId(r.messageId)
              : (r: SubmissionRecord) => threadId(r.threadId);
        tests.push((r) => set.has(of(r)));
      }
    }
    const sort = (args['sort'] ?? [{ property: 'sentAt', isAscending: false }]) as unknown;
    if (!Array.isArray(sort) || sort.length > 3) return fail('invalidArguments', 'sort must be a short list');
    const comparators: { key: (r: SubmissionRecord) => number; ascending: boolean }[] = [];
    for (const s of sort) {
      const key = isObject(s) && typeof s['property'] === 'string' ? SORTS[s['property']] : undefined;
      if (!key) return fail('unsupportedSort', 'sort by emailId, threadId or sentAt');
      comparators.push({ key, ascending: (s as Record<string, unknown>)['isAscending'] !== false });
    }
    const state = await accountState(mc);
    if (!state.ok) return state;
    const all = await records(mc, null);
    if (!all.ok) return all;
    const results = all.value.filter((r) => tests.every((t) => t(r)));
    results.sort((a, b) => {
      for (const c of comparators) {
        const d = c.key(a) - c.key(b);
        if (d !== 0) return c.ascending ? d : -d;
      }
      return b.id - a.id;
    });
    return ok({
      accountId: mc.accountId,
      queryState: state.value,
      canCalculateChanges: false,
      position: position.value,
      ids: results
        .slice(position.value, position.value + Math.min(limit.value, 1000))
        .map((r) => submissionId(r.id)),
      ...(args['calculateTotal'] === true ? { total: results.length } : {}),
    });
  },
};
