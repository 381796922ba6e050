/**
 * @module SearchSnippet/get (RFC 8621 §5.1): for each email, its subject and a short passage of
 * its text with the words of the filter's text, subject and body conditions marked with
 * `<mark>`. Snippets are HTML: everything else in them is escaped. Words are compared as the
 * full-text index compares them (case and diacritics folded).
 * Trust: the filter and ids are client input; mail text is untrusted and only ever escaped.
 */
import { fail, ok } from '../../../../core/result.ts';
import { messageText } from '../../../../mail/summary.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL, CORE_LIMITS } from '../../core/request.ts';
import { loadAccount } from '../account.ts';
import { idNumber, stringList } from '../args.ts';

const WORD = /[\p{L}\p{N}_]+(?:[.'@-][\p{L}\p{N}_]+)*/gu;
/** Characters of text in a preview snippet. */
const SNIPPET_CHARS = 255;

const fold = (s: string): string => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Words to mark: from text conditions in both, subject only in the subject, body only in the
 * preview. Words under NOT are not searched for, so they are not marked. */
function termsOf(filter: unknown, out: { subject: Set<string>; body: Set<string> }, depth = 0): void {
  if (typeof filter !== 'object' || filter === null || depth > 10) return;
  const f = filter as Record<string, unknown>;
  if (Array.isArray(f['conditions'])) {
    if (f['operator'] !== 'NOT') for (const c of f['conditions'].slice(0, 100)) termsOf(c, out, depth + 1);
    return;
  }
  const words = (v: unknown): string[] =>
    typeof v === 'string' ? (v.match(WORD) ?? []).slice(0, 32).map(fold) : [];
  for (const w of words(f['text'])) {
    out.subject.add(w);
    out.body.add(w);
  }
  for (const w of words(f['subject'])) out.subject.add(w);
  for (const w of words(f['body'])) out.body.add(w);
}

/** `text` escaped, with the words in `terms` marked; null when none is there. */
function mark(text: string, terms: Set<string>): string | null {
  let out = '';
  let last = 0;
  let found = false;
  for (const m of text.matchAll(WORD)) {
    if (!terms.has(fold(m[0]))) continue;
    found = true;
    out += `${escapeHtml(text.slice(last, m.index))}<mark>${escapeHtml(m[0])}</mark>`;
    last = m.index + m[0].length;
  }
  return found ? out + escapeHtml(text.slice(last)) : null;
}

/** A passage of `text` around the first marked word, marked; null when no word is there. */
function passage(text: string, terms: Set<string>): string | null {
  const flat = text.replace(/\s+/g, ' ').trim();
  for (const m of flat.matchAll(WORD)) {
    if (!terms.has(fold(m[0]))) continue;
    let start = Math.max(0, m.index - 60);
    if (start > 0) start = flat.indexOf(' ', start) + 1 || start;
    return mark(flat.slice(start, start + SNIPPET_CHARS), terms);
  }
  return null;
}

export const searchSnippetGet: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const ids = stringList(args, 'emailIds');
    if (!ids.ok) return ids;
    if (ids.value === null) return fail('invalidArguments', 'emailIds is required');
    if (ids.value.length > CORE_LIMITS.maxObjectsInGet)
      return fail('requestTooLarge', `at most ${CORE_LIMITS.maxObjectsInGet} ids`);
    const terms = { subject: new Set<string>(), body: new Set<string>() };
    termsOf(args['filter'], terms);
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const numbers = new Map<string, number>();
    for (const id of ids.value) {
      const n = idNumber(id, 'e');
      if (n !== null && account.value.placement.has(n)) numbers.set(id, n);
    }
    const views = await mc.services.mail.getMessages(mc.ctx, [...new Set(numbers.values())]);
    if (!views.ok) return fail('forbidden');
    const byId = new Map(views.value.map((v) => [v.id, v]));
    const raws = terms.body.size > 0 ? await mc.services.mail.readRawMany(mc.ctx, views.value) : null;
    if (raws && !raws.ok) return fail('forbidden');
    const list: Record<string, unknown>[] = [];
    const notFound: string[] = [];
    for (const id of ids.value) {
      const v = byId.get(numbers.get(id) ?? -1);
      if (!v) {
        notFound.push(id);
        continue;
      }
      const raw = raws?.ok ? raws.value.get(v.blobHash) : undefined;
      list.push({
        emailId: id,
        subject: terms.subject.size > 0 ? mark(v.subject, terms.subject) : null,
        preview: raw ? passage(messageText(raw, v.structure), terms.body) : null,
      });
    }
    return ok({ accountId: mc.accountId, list, notFound });
  },
};
