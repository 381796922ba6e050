/**
 * @module SORT, UID SORT, THREAD and UID THREAD (RFC 5256), over the same search program as SEARCH.
 */

import { messageIds } from '../../../mail/summary.ts';
import { ImapNo } from '../errors.ts';
import { headerValues } from '../fetch.ts';
import { parseSearch } from '../search.ts';
import type { Session } from '../session.ts';
import {
  formatThreads,
  SORT_KEYS,
  type SortItem,
  type SortKey,
  sortItems,
  threadOrderedSubject,
  threadReferences,
} from '../sort.ts';
import { type Args, ImapSyntaxError } from '../wire/tokens.ts';
import { searchMailbox } from './message.ts';
import { type ImapCommand, SELECTED } from './types.ts';

/** Evaluates the search program of SORT/THREAD and returns the matching messages; with
 * `references`, each carries the ids its References (else In-Reply-To) header names. */
async function matching(s: Session, args: Args, references = false): Promise<SortItem[]> {
  const charset = args.astring('charset').toUpperCase();
  if (charset !== 'UTF-8' && charset !== 'US-ASCII')
    throw new ImapNo('BADCHARSET (UTF-8 US-ASCII)', 'unsupported charset');
  const found = await searchMailbox(s, parseSearch(args));
  const items: SortItem[] = found.map(({ seq, uid, message: m }) => ({
    seq,
    uid,
    size: m.size,
    receivedAt: m.receivedAt,
    sentAt: m.sentAt,
    envelope: m.envelope,
  }));
  if (!references) return items;
  for (let start = 0; start < found.length; start += 500) {
    if (start > 0) s.checkBudget();
    const chunk = found.slice(start, start + 500).map((f) => f.message);
    const kept = await s.services.mail.readHeaders(
      s.ctx!,
      chunk.map((m) => m.id),
    );
    const blocks = kept.ok ? kept.value : new Map<number, Buffer>();
    const rest = chunk.filter((m) => !blocks.has(m.id));
    const raws = rest.length > 0 ? await s.services.mail.readRawMany(s.ctx!, rest) : null;
    chunk.forEach((m, i) => {
      const block = blocks.get(m.id) ?? (raws?.ok ? raws.value.get(m.blobHash) : undefined);
      const refs = block ? messageIds(headerValues(block, m.structure, 'references').join(' ')) : [];
      items[start + i]!.references = (
        refs.length > 0 ? refs : messageIds(m.envelope.inReplyTo).slice(0, 1)
      ).map((id) => `<${id}>`);
    });
  }
  return items;
}

function sortCommand(byUid: boolean): ImapCommand {
  return {
    states: SELECTED,
    async run(s, tag, args) {
      const list = args.list('sort criteria');
      const criteria: { key: SortKey; reverse: boolean }[] = [];
      let reverse = false;
      while (!list.done) {
        const k = list.atom('sort key');
        if (k === 'REVERSE') {
          reverse = true;
          continue;
        }
        if (!(SORT_KEYS as readonly string[]).includes(k)) throw new ImapSyntaxError(`unknown sort key ${k}`);
        criteria.push({ key: k as SortKey, reverse });
        reverse = false;
      }
      if (criteria.length === 0 || reverse) throw new ImapSyntaxError('invalid sort criteria');
      await s.refresh(byUid);
      const sorted = sortItems(await matching(s, args), criteria);
      s.untagged(`SORT${sorted.map((i) => ` ${byUid ? i.uid : i.seq}`).join('')}`);
      s.send(`${tag} OK SORT completed`);
    },
  };
}

function threadCommand(byUid: boolean): ImapCommand {
  return {
    states: SELECTED,
    async run(s, tag, args) {
      const algorithm = args.atom('threading algorithm');
      if (algorithm !== 'REFERENCES' && algorithm !== 'ORDEREDSUBJECT')
        throw new ImapNo('CANNOT', `unknown threading algorithm ${algorithm}`);
      await s.refresh(byUid);
      const items = await matching(s, args, algorithm === 'REFERENCES');
      const roots = algorithm === 'REFERENCES' ? threadReferences(items) : threadOrderedSubject(items);
      const text = formatThreads(roots, (i) => (byUid ? i.uid : i.seq));
      s.untagged(`THREAD${text ? ` ${text}` : ''}`);
      s.send(`${tag} OK THREAD completed`);
    },
  };
}

export const SORT = sortCommand(false);
export const UID_SORT = sortCommand(true);
export const THREAD = threadCommand(false);
export const UID_THREAD = threadCommand(true);
