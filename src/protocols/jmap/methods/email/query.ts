/**
 * @module Email/query (RFC 8621 §4.4, RFC 8620 §5.5): filter conditions inMailbox,
 * inMailboxOtherThan, text (full-text index), hasKeyword, notKeyword, before, after, minSize,
 * maxSize, combined with AND/OR/NOT operators; sort by receivedAt, sentAt or size; position and
 * limit; collapseThreads. Unknown conditions or sort properties are refused (unsupportedFilter,
 * unsupportedSort), never ignored.
 * Trust: the filter is client input; its depth and size are bounded.
 */
import { fail, ok, type Result } from '../../../../core/result.ts';
import type { Method, MethodContext } from '../../core/api.ts';
import { CAP_MAIL } from '../../core/request.ts';
import { accountState, emailId, loadAccount, type Placement } from '../account.ts';
import { idNumber, unsigned } from '../args.ts';

/** Most results one query returns; a larger limit is lowered to it (RFC 8620 §5.5). */
const MAX_LIMIT = 1000;
/** Deepest filter operator nesting accepted. */
const MAX_FILTER_DEPTH = 10;
/** Most hits the full-text index returns for one `text` condition. */
const MAX_TEXT_HITS = 10_000;

interface Candidate {
  id: number;
  placement: Placement;
  receivedAt: number;
  sentAt: number;
  size: number;
  threadId: number;
}

type Test = (c: Candidate) => boolean;

const CONDITIONS = new Set([
  'inMailbox',
  'inMailboxOtherThan',
  'text',
  'hasKeyword',
  'notKeyword',
  'before',
  'after',
  'minSize',
  'maxSize',
]);

/** Compiles a filter into a test; text conditions are looked up in the index first. */
async function compile(mc: MethodContext, filter: unknown, depth: number): Promise<Result<Test, string>> {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter))
    return fail('invalidArguments', 'a filter must be an object');
  if (depth > MAX_FILTER_DEPTH) return fail('unsupportedFilter', 'filter nested too deeply');
  const f = filter as Record<string, unknown>;
  if ('operator' in f) {
    const op = f['operator'];
    const conditions = f['conditions'];
    if (!['AND', 'OR', 'NOT'].includes(op as string) || !Array.isArray(conditions) || conditions.length > 100)
      return fail('invalidArguments', 'an operator needs AND, OR or NOT and a list of conditions');
    const tests: Test[] = [];
    for (const c of conditions) {
      const t = await compile(mc, c, depth + 1);
      if (!t.ok) return t;
      tests.push(t.value);
    }
    if (op === 'AND') return ok((c) => tests.every((t) => t(c)));
    if (op === 'OR') return ok((c) => tests.some((t) => t(c)));
    return ok((c) => !tests.some((t) => t(c)));
  }
  const tests: Test[] = [];
  for (const [key, value] of Object.entries(f)) {
    if (!CONDITIONS.has(key)) return fail('unsupportedFilter', `filter condition ${key} is not supported`);
    const str = typeof value === 'string' ? value : null;
    const num = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
    const date =
      str !== null && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(str) ? Date.parse(str) : null;
    switch (key) {
      case 'inMailbox': {
        const id = str === null ? null : idNumber(str, 'm');
        if (id === null) return fail('invalidArguments', 'inMailbox must be a mailbox id');
        tests.push((c) => c.placement.mailboxIds.has(id));
        break;
      }
      case 'inMailboxOtherThan': {
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
          return fail('invalidArguments', 'inMailboxOtherThan must be a list of mailbox ids');
        const ids = new Set(value.map((v) => idNumber(v as string, 'm')));
        tests.push((c) => [...c.placement.mailboxIds].some((m) => !ids.has(m)));
        break;
      }
      case 'text': {
        if (str === null) return fail('invalidArguments', 'text must be a string');
        const hits = await mc.services.mail.search(mc.ctx, str, MAX_TEXT_HITS);
        if (!hits.ok) return fail('forbidden');
        const set = new Set(hits.value);
        tests.push((c) => set.has(c.id));
        break;
      }
      case 'hasKeyword':
      case 'notKeyword': {
        if (str === null || !/^[\x21-\x7e]{1,255}$/.test(str) || /[(){\]%*"\\]/.test(str))
          return fail('invalidArguments', `${key} must be a keyword`);
        const k = str.toLowerCase();
        tests.push(
          key === 'hasKeyword' ? (c) => c.placement.keywords[k] === true : (c) => !c.placement.keywords[k],
        );
        break;
      }
      case 'before':
      case 'after': {
        if (date === null || Number.isNaN(date)) return fail('invalidArguments', `${key} must be a UTCDate`);
        tests.push(key === 'before' ? (c) => c.receivedAt < date : (c) => c.receivedAt >= date);
        break;
      }
      default: {
        if (num === null) return fail('invalidArguments', `${key} must be an unsigned integer`);
        tests.push(key === 'minSize' ? (c) => c.size >= num : (c) => c.size < num);
      }
    }
  }
  return ok((c) => tests.every((t) => t(c)));
}

const SORTABLE = new Set(['receivedAt', 'sentAt', 'size']);

export const emailQuery: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const position = unsigned(args, 'position', 0);
    if (!position.ok) return position;
    const limit = unsigned(args, 'limit', MAX_LIMIT);
    if (!limit.ok) return limit;
    if (args['anchor'] !== undefined && args['anchor'] !== null)
      return fail('unsupportedFilter', 'anchor is not supported; use position');
    const sort = (args['sort'] ?? [{ property: 'receivedAt', isAscending: false }]) as unknown;
    if (!Array.isArray(sort) || sort.length > 5) return fail('invalidArguments', 'sort must be a short list');
    const comparators: { property: keyof Candidate; ascending: boolean }[] = [];
    for (const s of sort) {
      const property = (s as Record<string, unknown>)?.['property'];
      if (typeof property !== 'string' || !SORTABLE.has(property))
        return fail('unsupportedSort', `cannot sort by ${String(property)}`);
      comparators.push({
        property: property as keyof Candidate,
        ascending: (s as Record<string, unknown>)['isAscending'] !== false,
      });
    }
    const state = await accountState(mc);
    if (!state.ok) return state;
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const test =
      args['filter'] === undefined || args['filter'] === null ? null : await compile(mc, args['filter'], 0);
    if (test && !test.ok) return test;
    const views = await mc.services.mail.getMessages(mc.ctx, [...account.value.placement.keys()]);
    if (!views.ok) return fail('forbidden');
    let candidates: Candidate[] = views.value.map((v) => ({
      id: v.id,
      placement: account.value.placement.get(v.id)!,
      receivedAt: v.receivedAt,
      sentAt: v.sentAt ?? v.receivedAt,
      size: v.size,
      threadId: v.threadId,
    }));
    if (test) candidates = candidates.filter(test.value);
    candidates.sort((a, b) => {
      for (const c of comparators) {
        const d = (a[c.property] as number) - (b[c.property] as number);
        if (d !== 0) return c.ascending ? d : -d;
      }
      return b.id - a.id;
    });
    if (args['collapseThreads'] === true) {
      const seen = new Set<number>();
      candidates = candidates.filter((c) => !seen.has(c.threadId) && seen.add(c.threadId));
    }
    const total = candidates.length;
    const ids = candidates
      .slice(position.value, position.value + Math.min(limit.value, MAX_LIMIT))
      .map((c) => emailId(c.id));
    return ok({
      accountId: mc.accountId,
      queryState: state.value,
      canCalculateChanges: false,
      position: position.value,
      ids,
      ...(args['calculateTotal'] === true ? { total } : {}),
      ...(limit.value > MAX_LIMIT ? { limit: MAX_LIMIT } : {}),
    });
  },
};
