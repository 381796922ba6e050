/**
 * @module The contacts service: an account's address books and their vCards, for CardDAV, on the
 * collection service (collections.ts) with the vCard format (contacts/vcard.ts), plus
 * addressbook-query filters.
 */

import { type CardFilter, matchesCard, parseVCard, VCardError } from '../contacts/vcard.ts';
import type { Result } from '../core/result.ts';
import type { DavObject, Store } from '../store/types.ts';
import type { Audit } from './audit.ts';
import type { Changes } from './changes.ts';
import {
  type CollectionError,
  type CollectionFormat,
  type CollectionRef,
  createCollections,
} from './collections.ts';
import type { Ctx } from './principal.ts';

/** Time spent matching between two turns of the event loop, and the time one query may take. */
const QUERY_BUDGET = { sliceMs: 10, ms: 10_000 };

const VCARD: CollectionFormat = {
  kind: 'addressbook',
  audit: 'contacts',
  defaults: { name: 'contacts', displayName: 'Contacts', components: ['VCARD'] },
  components: ['VCARD'],
  summarise(text) {
    try {
      const card = parseVCard(text);
      return { uid: card.uid, component: 'VCARD', startsAt: null, endsAt: null, exact: false };
    } catch (err) {
      if (err instanceof VCardError) return { refused: err.message };
      throw err;
    }
  },
};

/** Creates the contacts service. */
export function createContacts(deps: {
  store: Store;
  audit: Audit;
  changes: Changes;
  clock: { now(): number };
}) {
  const collections = createCollections(VCARD, deps);
  return {
    ...collections,

    /** Cards of an address book that match a filter, at most `limit` of them. */
    async query(
      ctx: Ctx,
      book: CollectionRef,
      filter: CardFilter,
      limit: number,
    ): Promise<Result<{ cards: DavObject[]; truncated: boolean }, CollectionError>> {
      const r = await collections.select(
        ctx,
        book,
        null,
        (o) => {
          try {
            return matchesCard(parseVCard(o.data), filter);
          } catch {
            // Stored cards parsed when they were stored; one that no longer does is shown.
            return true;
          }
        },
        QUERY_BUDGET,
      );
      if (!r.ok) return r;
      return { ok: true, value: { cards: r.value.slice(0, limit), truncated: r.value.length > limit } };
    },
  };
}

/** The contacts service's interface. */
export type Contacts = ReturnType<typeof createContacts>;
