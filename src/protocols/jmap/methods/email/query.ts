/**
 * @module Email/query (RFC 8621 §4.4, RFC 8620 §5.5): filter conditions inMailbox,
 * inMailboxOtherThan, text, subject and body (full-text index), from, to, cc, bcc (addresses and
 * names), hasKeyword, notKeyword, hasAttachment, before, after, minSize, maxSize, combined with
 * AND/OR/NOT operators; sort by receivedAt, sentAt or size; position or anchor, limit;
 * collapseThreads. Unknown conditions or sort properties are refused (unsupportedFilter,
 * unsupportedSort), never ignored. `runQuery` is shared with Email/queryChanges.
 * Trust: the filter is client input; its depth and size are bounded.
 */
import { fail, ok, type Result } from '../../../../core/result.ts';
import { decodeWords } from '../../../../mail/header.ts';
import type { MessageKey } from '../../../../services/index.ts';
import type { MessageView } from '../../../../services/mail.ts';
import type { Method, MethodContext } from '../../core/api.ts';
import { CAP_MAIL } from '../../core/request.ts';
import { accountState, emailId, loadAccount, type Placement } from '../account.ts';
import { idNumber, unsigned } from '../args.ts';

/** Most results one query returns; a larger limit is lowered to it (RFC 8620 §5.5). */
const MAX_LIMIT = 1000;
/** Deepest filter operator nesting accepted. */
const MAX_FILTER_DEPTH = 10;
/** Most operators and conditions in one filter, and most of them that search the full-text
 * index (each is one index lookup); a filter within these is cheap per message. */
const MAX_FILTER_NODES = 256;
const MAX_TEXT_CONDITIONS = 16;
/** Messages tested between two turns of the event loop, and the time one query may take to test
 * them all before it is given up with `serverUnavailable` (ATTACKS.md JM-05, DS-04). */
const FILTER_SLICE = 2000;
const FILTER_BUDGET_MS = 10_000;
/** Most hits the full-text index returns for one `text` condition. */
const MAX_TEXT_HITS = 10_000;

interface Candidate {
  id: number;
  placement: Placement;
  receivedAt: number;
  sentAt: number;
  size: number;
  threadId: number;
  /** The whole message, read only when a condition looks at its addresses or attachments. */
  view?: MessageView;
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
  'subject',
  'body',
  'from',
  'to',
  'cc',
  'bcc',
  'hasAttachment',
]);

/** The addresses of one header of a message as lower-case "name <address>" text. */
function addressText(v: MessageView, field: 'from' | 'to' | 'cc' | 'bcc'): string {
  return (v.envelope[field] ?? [])
    .map((a) =>
      a.kind === 'mailbox' ? `${a.name ? decodeWords(a.name) : ''} <${a.local ?? ''}@${a.domain ?? ''}>` : '',
    )
    .join(', ')
    .toLowerCase();
}

/** Compiles a filter into a test; text conditions are looked up in the index first. */
async function compile(
  mc: MethodContext,
  filter: unknown,
  depth: number,
  used: { nodes: number; texts: number; views: number },
): Promise<Result<Test, string>> {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter))
    return fail('invalidArguments', 'a filter must be an object');
  if (depth > MAX_FILTER_DEPTH) return fail('unsupportedFilter', 'filter nested too deeply');
  if (++used.nodes > MAX_FILTER_NODES)
    return fail('unsupportedFilter', `a filter has at most ${MAX_FILTER_NODES} operators and conditions`);
  const f = filter as Record<string, unknown>;
  if ('operator' in f) {
    const op = f['operator'];
    const conditions = f['conditions'];
    if (!['AND', 'OR', 'NOT'].includes(op as string) || !Array.isArray(conditions) || conditions.length > 100)
      return fail('invalidArguments', 'an operator needs AND, OR or NOT and a list of conditions');
    const tests: Test[] = [];
    for (const c of conditions) {
      const t = await compile(mc, c, depth + 1, used);
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
      case 'text':
      case 'subject':
      case 'body': {
        if (str === null) return fail('invalidArguments', `${key} must be a string`);
        if (++used.texts > MAX_TEXT_CONDITIONS)
          return fail(
            'unsupportedFilter',
            `a filter has at most ${MAX_TEXT_CONDITIONS} text, subject or body conditions`,
          );
        const field = key === 'text' ? null : key;
        const hits = await mc.services.mail.search(mc.ctx, str, MAX_TEXT_HITS, field);
        if (!hits.ok) return fail('forbidden');
        const set = new Set(hits.value);
        tests.push((c) => set.has(c.id));
        break;
      }
      case 'from':
      case 'to':
      case 'cc':
      case 'bcc': {
        if (str === null || str.length > 1000) return fail('invalidArguments', `${key} must be a string`);
        const needle = str.toLowerCase();
        used.views++;
        tests.push((c) => addressText(c.view!, key).includes(needle));
        break;
      }
      case 'hasAttachment': {
        if (typeof value !== 'boolean') return fail('invalidArguments', 'hasAttachment must be a boolean');
        used.views++;
        tests.push((c) => c.view!.hasAttachment === value);
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

/** The full, sorted result of a query: email ids in order and the state it reflects. */
export interface QueryResult {
  state: string;
  candidates: Candidate[];
}

const keyOf = (m: MessageKey) => ({
  id: m.id,
  receivedAt: m.receivedAt,
  sentAt: m.sentAt ?? m.receivedAt,
  size: m.size,
  threadId: m.threadId,
});

/** Results kept per account, at its latest state only: paging through a long list asks for the
 * same query again for each page. Results are never modified. */
const KEPT_PER_ACCOUNT = 4;
const KEPT_ACCOUNTS = 16;
const kept = new Map<number, { state: string; results: Map<string, QueryResult> }>();

/** Runs the filter, sort and collapseThreads of an Email/query or Email/queryChanges call; the
 * same query at the same state is answered from the results kept. */
export async function runQuery(
  mc: MethodContext,
  args: Record<string, unknown>,
): Promise<Result<QueryResult, string>> {
  const state = await accountState(mc);
  if (!state.ok || mc.ctx.principal.kind !== 'account') return fail('forbidden');
  const accountId = mc.ctx.principal.accountId;
  const key = JSON.stringify([
    args['filter'] ?? null,
    args['sort'] ?? null,
    args['collapseThreads'] === true,
  ]);
  let account = kept.get(accountId);
  const hit = account?.state === state.value ? account.results.get(key) : undefined;
  if (hit) return ok(hit);
  const result = await computeQuery(mc, args, state.value);
  if (!result.ok) return result;
  if (account?.state !== state.value) {
    kept.delete(accountId);
    account = { state: state.value, results: new Map() };
    kept.set(accountId, account);
    if (kept.size > KEPT_ACCOUNTS) kept.delete(kept.keys().next().value!);
  }
  account.results.set(key, result.value);
  if (account.results.size > KEPT_PER_ACCOUNT) account.results.delete(account.results.keys().next().value!);
  return result;
}

/** The query's result at `state`, read by the caller just before. */
async function computeQuery(
  mc: MethodContext,
  args: Record<string, unknown>,
  state: string,
): Promise<Result<QueryResult, string>> {
  const sort = (args['sort'] ?? [{ property: 'receivedAt', isAscending: false }]) as unknown;
  if (!Array.isArray(sort) || sort.length > 5) return fail('invalidArguments', 'sort must be a short list');
  const comparators: { property: 'receivedAt' | 'sentAt' | 'size'; ascending: boolean }[] = [];
  for (const s of sort) {
    const property = (s as Record<string, unknown>)?.['property'];
    if (typeof property !== 'string' || !SORTABLE.has(property))
      return fail('unsupportedSort', `cannot sort by ${String(property)}`);
    comparators.push({
      property: property as 'receivedAt' | 'sentAt' | 'size',
      ascending: (s as Record<string, unknown>)['isAscending'] !== false,
    });
  }
  const account = await loadAccount(mc);
  if (!account.ok) return account;
  const used = { nodes: 0, texts: 0, views: 0 };
  const test =
    args['filter'] === undefined || args['filter'] === null
      ? null
      : await compile(mc, args['filter'], 0, used);
  if (test && !test.ok) return test;
  const { placement } = account.value;
  let candidates: Candidate[];
  if (used.views > 0) {
    const views = await mc.services.mail.getMessages(mc.ctx, [...placement.keys()]);
    if (!views.ok) return fail('forbidden');
    candidates = views.value.map((v) => ({ ...keyOf(v), placement: placement.get(v.id)!, view: v }));
  } else {
    // Mailbox, keyword, date, size and text conditions and every sort need only the sort keys.
    const keys = await mc.services.mail.messageKeys(mc.ctx);
    if (!keys.ok) return fail('forbidden');
    candidates = [];
    for (const k of keys.value) {
      const p = placement.get(k.id);
      if (p) candidates.push({ ...keyOf(k), placement: p });
    }
  }
  if (test) {
    const kept: Candidate[] = [];
    const deadline = Date.now() + FILTER_BUDGET_MS;
    for (let i = 0; i < candidates.length; i += FILTER_SLICE) {
      if (i > 0) {
        await new Promise((r) => setImmediate(r));
        if (Date.now() > deadline)
          return fail('serverUnavailable', 'the query took longer than its time budget');
      }
      for (const c of candidates.slice(i, i + FILTER_SLICE)) if (test.value(c)) kept.push(c);
    }
    candidates = kept;
  }
  candidates.sort((a, b) => {
    for (const c of comparators) {
      const d = a[c.property] - b[c.property];
      if (d !== 0) return c.ascending ? d : -d;
    }
    return b.id - a.id;
  });
  if (args['collapseThreads'] === true) {
    const seen = new Set<number>();
    candidates = candidates.filter((c) => !seen.has(c.threadId) && seen.add(c.threadId));
  }
  return ok({ state, candidates });
}

export const emailQuery: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const position = unsigned(args, 'position', 0);
    if (!position.ok) return position;
    const limit = unsigned(args, 'limit', MAX_LIMIT);
    if (!limit.ok) return limit;
    const anchorOffset = args['anchorOffset'] ?? 0;
    if (typeof anchorOffset !== 'number' || !Number.isSafeInteger(anchorOffset))
      return fail('invalidArguments', 'anchorOffset must be an integer');
    const anchor = args['anchor'] ?? null;
    if (anchor !== null && typeof anchor !== 'string')
      return fail('invalidArguments', 'anchor must be an id');
    const result = await runQuery(mc, args);
    if (!result.ok) return result;
    const { candidates } = result.value;
    const total = candidates.length;
    let start = position.value;
    if (anchor !== null) {
      const at = candidates.findIndex((c) => emailId(c.id) === anchor);
      if (at < 0) return fail('anchorNotFound', 'the anchor is not in the results');
      start = Math.max(0, at + anchorOffset);
    }
    const ids = candidates.slice(start, start + Math.min(limit.value, MAX_LIMIT)).map((c) => emailId(c.id));
    return ok({
      accountId: mc.accountId,
      queryState: result.value.state,
      canCalculateChanges: true,
      position: start,
      ids,
      ...(args['calculateTotal'] === true ? { total } : {}),
      ...(limit.value > MAX_LIMIT ? { limit: MAX_LIMIT } : {}),
    });
  },
};
