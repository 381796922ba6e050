/**
 * @module What calendars and address books share: an account's collections of one kind and their
 * objects, for CalDAV and CardDAV. Every call takes the caller's context and reaches only the
 * caller's own account; names of collections and objects are checked here, objects are parsed
 * and bounded by the kind's format (calendar/ical.ts, contacts/vcard.ts), reads are audited
 * (`calendar.read`, `contacts.read`: how many objects, never their content) and removals too.
 * Each account gets the kind's default collection the first time it looks.
 */

import { fail, ok, type Result } from '../core/result.ts';
import { canonicalAddress } from '../mail/address.ts';
import type {
  CollectionKind,
  DavCollection,
  DavObject,
  NewDavObject,
  ShareAccess,
  Store,
} from '../store/types.ts';
import type { Audit } from './audit.ts';
import type { Changes } from './changes.ts';
import { type Ctx, ownAccount } from './principal.ts';

/** Why a collection call failed. */
export type CollectionError =
  | 'forbidden'
  | 'not-found'
  | 'exists'
  | 'invalid'
  | 'precondition-failed'
  | 'uid-conflict'
  | 'too-many';

/** How one kind of collection reads its objects. */
export interface CollectionFormat {
  kind: CollectionKind;
  /** Prefix of its audit actions (`calendar` → `calendar.read`). */
  audit: string;
  /** The collection every account has. */
  defaults: { name: string; displayName: string; components: string[] };
  /** Component types a collection may be made for. */
  components: readonly string[];
  /** The one collection of its kind, kept by the server: clients do not create, change, share
   * or remove it (a schedule inbox). */
  fixed?: boolean;
  /** Parses and bounds an object: what the store keeps beside its text, or why it is refused. */
  summarise(text: string): Omit<NewDavObject, 'name' | 'data'> | { refused: string };
}

/** Collections one account may have of one kind. */
const MAX_COLLECTIONS = 100;
/** Objects one collection may hold. */
export const MAX_OBJECTS = 100_000;

/** A path segment: letters, digits and a few marks, never `.` or `..`. */
export const SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9._~@+=-]{1,200}$/;

/**
 * Paces long work (ATTACKS.md DS-04): each call, between two items, gives the event loop a turn
 * once `sliceMs` have passed since the last one, and answers false once the whole budget of
 * `ms` is spent.
 */
export function slicer(
  budget: { sliceMs: number; ms: number },
  clock: { now(): number },
): () => Promise<boolean> {
  const deadline = clock.now() + budget.ms;
  let sliceStart = performance.now();
  return async () => {
    if (performance.now() - sliceStart <= budget.sliceMs) return true;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
    return clock.now() <= deadline;
  };
}

/** The account's collections of a kind; an account that has none gets the default one. */
export async function ensureCollections(
  store: Store,
  format: CollectionFormat,
  accountId: number,
  now: number,
): Promise<DavCollection[]> {
  const list = await store.listCollections(accountId, format.kind);
  if (list.length > 0) return list;
  const d = format.defaults;
  await store.createCollection(
    accountId,
    format.kind,
    {
      name: d.name,
      displayName: d.displayName,
      description: '',
      color: '',
      components: d.components.join(' '),
    },
    now,
  );
  return store.listCollections(accountId, format.kind);
}

/** A collection as one caller sees it: whose it is and what the caller may do with it. */
export interface Visible {
  collection: DavCollection;
  /** The owner's address. */
  owner: string;
  access: 'owner' | ShareAccess;
}

/** Names a collection: one of the caller's own by name, or one of another owner's. */
export type CollectionRef = string | { owner: string; name: string };

/** What a call needs to be allowed on a collection. */
type Need = 'read' | 'write' | 'owner';

/** What happens after the caller's own writes (calendar scheduling). */
export interface CollectionHooks {
  afterPut(ctx: Ctx, accountId: number, before: DavObject | null, after: DavObject): Promise<void>;
  afterRemove(ctx: Ctx, accountId: number, removed: DavObject): Promise<void>;
}

/** Creates the service for one kind of collection. */
export function createCollections(
  format: CollectionFormat,
  deps: { store: Store; audit: Audit; changes: Changes; clock: { now(): number } },
  hooks?: CollectionHooks,
) {
  const { store, audit, changes, clock } = deps;
  const published = <T>(accountId: number, modseq: number, value: T): T => {
    changes.publish(accountId, modseq);
    return value;
  };
  const collectionsOf = (accountId: number) => ensureCollections(store, format, accountId, clock.now());
  const collectionOf = async (accountId: number, name: string): Promise<DavCollection | null> =>
    SEGMENT.test(name) ? ((await collectionsOf(accountId)).find((c) => c.name === name) ?? null) : null;
  /**
   * The collection a caller names and the owner's account, when the caller may do `need` with
   * it: everything with their own, what a share grants with another's (ATTACKS.md DV-05). This
   * is the one access check of every protocol. A collection that is neither the caller's nor
   * shared with them is 'not-found', never 'forbidden', so its existence is not revealed.
   */
  const open = async (
    ctx: Ctx,
    ref: CollectionRef,
    need: Need,
  ): Promise<Result<Visible & { accountId: number; own: boolean }, CollectionError>> => {
    const me = ownAccount(ctx);
    if (me === null || ctx.principal.kind !== 'account') return fail('forbidden');
    const name = typeof ref === 'string' ? ref : ref.name;
    if (!SEGMENT.test(name)) return fail('not-found');
    let owner = me;
    if (typeof ref !== 'string') {
      const address = canonicalAddress(ref.owner);
      const account = address.ok ? await store.getAccountByAddress(address.address) : null;
      if (!account) return fail('not-found');
      owner = account.id;
    }
    if (owner === me) {
      const collection = await collectionOf(me, name);
      return collection
        ? ok({ accountId: me, collection, own: true, owner: ctx.principal.address, access: 'owner' })
        : fail('not-found');
    }
    const share = (await store.sharedWith(me, format.kind)).find(
      (s) => s.ownerId === owner && s.collection.name === name,
    );
    if (!share) return fail('not-found');
    if (need === 'owner' || (need === 'write' && share.access !== 'write'))
      return fail('forbidden', `shared with you to ${share.access}`);
    return ok({
      accountId: owner,
      collection: share.collection,
      own: false,
      owner: share.ownerAddress,
      access: share.access,
    });
  };
  const record = (ctx: Ctx, what: string, accountId: number, c: DavCollection, objects?: number) =>
    audit({
      action: `${format.audit}.${what}`,
      outcome: 'ok',
      origin: ctx,
      account: accountId,
      detail: {
        collection: c.id,
        ...(objects === undefined ? {} : { objects }),
        // Another account's collection, reached through a share.
        ...(ctx.principal.kind === 'account' && ctx.principal.accountId !== accountId
          ? { shared: true }
          : {}),
      },
    });
  const parse = (text: string): Result<Omit<NewDavObject, 'name' | 'data'>, CollectionError> => {
    const summary = format.summarise(text);
    return 'refused' in summary ? fail('invalid', summary.refused) : ok(summary);
  };

  return {
    /** The caller's collections (a first look creates the default one), then those shared with them. */
    async list(ctx: Ctx): Promise<Result<Visible[], CollectionError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null || ctx.principal.kind !== 'account') return fail('forbidden');
      const owner = ctx.principal.address;
      return ok([
        ...(await collectionsOf(accountId)).map((collection) => ({
          collection,
          owner,
          access: 'owner' as const,
        })),
        ...(await store.sharedWith(accountId, format.kind)).map((s) => ({
          collection: s.collection,
          owner: s.ownerAddress,
          access: s.access,
        })),
      ]);
    },

    /** One collection the caller may read. */
    async get(ctx: Ctx, ref: CollectionRef): Promise<Result<Visible, CollectionError>> {
      const r = await open(ctx, ref, 'read');
      if (!r.ok) return r;
      const { collection, owner, access } = r.value;
      return ok({ collection, owner, access });
    },

    /**
     * Shares one of the caller's collections with another account of the server (`read` or
     * `write`), or with null stops sharing it.
     */
    async share(
      ctx: Ctx,
      name: CollectionRef,
      grantee: string,
      access: ShareAccess | null,
    ): Promise<Result<void, CollectionError>> {
      const r = await open(ctx, name, 'owner');
      if (!r.ok) return r;
      if (format.fixed) return fail('forbidden');
      const address = canonicalAddress(grantee);
      const account = address.ok ? await store.getAccountByAddress(address.address) : null;
      if (!account || account.id === r.value.accountId)
        return fail('invalid', 'share with another account of this server');
      if ((await store.setShare(r.value.accountId, r.value.collection.id, account.id, access)) !== 'ok')
        return fail('not-found');
      audit({
        action: `${format.audit}.share`,
        outcome: 'ok',
        origin: ctx,
        account: r.value.accountId,
        detail: { collection: r.value.collection.id, grantee: account.id, access: access ?? 'none' },
      });
      return ok(undefined);
    },

    /** Who one of the caller's collections is shared with. */
    async shares(
      ctx: Ctx,
      name: string,
    ): Promise<Result<{ grantee: string; access: ShareAccess }[], CollectionError>> {
      const r = await open(ctx, name, 'owner');
      if (!r.ok) return r;
      return ok(
        (await store.listShares(r.value.accountId, r.value.collection.id)).map((s) => ({
          grantee: s.granteeAddress,
          access: s.access,
        })),
      );
    },

    async create(
      ctx: Ctx,
      name: string,
      props: { displayName?: string; description?: string; color?: string; components?: string[] },
    ): Promise<Result<DavCollection, CollectionError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null || format.fixed) return fail('forbidden');
      if (!SEGMENT.test(name))
        return fail('invalid', 'a collection name is letters, digits and . _ ~ @ + = -');
      const components = props.components ?? format.defaults.components;
      if (components.length === 0 || !components.every((c) => format.components.includes(c)))
        return fail('invalid', `components must be ${format.components.join(', ')}`);
      if ((await collectionsOf(accountId)).length >= MAX_COLLECTIONS)
        return fail('too-many', `at most ${MAX_COLLECTIONS} collections of a kind`);
      const text = checkProps(props);
      if (!text.ok) return text;
      const made = await store.createCollection(
        accountId,
        format.kind,
        {
          name,
          displayName: props.displayName ?? name,
          description: props.description ?? '',
          color: props.color ?? '',
          components: components.join(' '),
        },
        clock.now(),
      );
      if (made === 'exists') return fail('exists');
      if (made === 'not-found') return fail('forbidden');
      return ok(published(accountId, made.modseq, made));
    },

    async update(
      ctx: Ctx,
      name: CollectionRef,
      patch: { displayName?: string; description?: string; color?: string },
    ): Promise<Result<DavCollection, CollectionError>> {
      const r = await open(ctx, name, 'owner');
      if (!r.ok) return r;
      if (format.fixed) return fail('forbidden');
      const text = checkProps(patch);
      if (!text.ok) return text;
      const { accountId, collection } = r.value;
      const u = await store.updateCollection(accountId, collection.id, patch);
      return u === 'not-found' ? fail('not-found') : ok(published(accountId, u.modseq, u));
    },

    async remove(ctx: Ctx, name: CollectionRef): Promise<Result<void, CollectionError>> {
      const r = await open(ctx, name, 'owner');
      if (!r.ok) return r;
      if (format.fixed) return fail('forbidden');
      const { accountId, collection } = r.value;
      if ((await store.deleteCollection(accountId, collection.id)) !== 'ok') return fail('not-found');
      record(ctx, 'delete', accountId, collection);
      changes.publish(accountId, await store.highestModseq(accountId));
      return ok(undefined);
    },

    /** Objects of a collection: all, or the named ones. */
    async objects(
      ctx: Ctx,
      ref: CollectionRef,
      which: { names: string[] } | 'all',
    ): Promise<Result<DavObject[], CollectionError>> {
      const r = await open(ctx, ref, 'read');
      if (!r.ok) return r;
      const { accountId, collection } = r.value;
      const list =
        which === 'all'
          ? await store.listDavObjects(accountId, collection.id)
          : await store.getDavObjects(
              accountId,
              collection.id,
              which.names.filter((n) => SEGMENT.test(n)),
            );
      record(ctx, 'read', accountId, collection, list.length);
      return ok(list);
    },

    /**
     * Objects a query selects: the store's candidates (within `range`, when given) that `test`
     * keeps, in slices of at most `budget.sliceMs` with a turn of the event loop between them,
     * and a time budget for the whole query (ATTACKS.md DS-04, IC-01).
     */
    async select(
      ctx: Ctx,
      ref: CollectionRef,
      range: { start: number; end: number } | null,
      test: (o: DavObject) => boolean,
      budget: { sliceMs: number; ms: number },
    ): Promise<Result<DavObject[], CollectionError>> {
      const r = await open(ctx, ref, 'read');
      if (!r.ok) return r;
      const { accountId, collection } = r.value;
      const candidates = await store.listDavObjects(accountId, collection.id, range ?? undefined);
      const turn = slicer(budget, clock);
      const list: DavObject[] = [];
      for (const o of candidates) {
        if (!(await turn())) return fail('too-many', 'the query took longer than its time budget');
        if (test(o)) list.push(o);
      }
      record(ctx, 'read', accountId, collection, list.length);
      return ok(list);
    },

    /** Creates or replaces an object, after parsing and bounding it. */
    async put(
      ctx: Ctx,
      collection: CollectionRef,
      name: string,
      text: string,
      condition: { ifMatch?: string; ifNoneMatch?: boolean },
    ): Promise<Result<{ object: DavObject; created: boolean }, CollectionError>> {
      if (!SEGMENT.test(name)) return fail('invalid', 'an object name is letters, digits and . _ ~ @ + = -');
      const r = await open(ctx, collection, 'write');
      if (!r.ok) return r;
      const { accountId, collection: c, own } = r.value;
      const summary = parse(text);
      if (!summary.ok) return summary;
      if (!c.components.split(' ').includes(summary.value.component))
        return fail('invalid', `this collection holds ${c.components}, not ${summary.value.component}`);
      // Scheduling follows the owner's own writes only.
      const hook = own ? hooks : undefined;
      const before = hook ? ((await store.getDavObjects(accountId, c.id, [name]))[0] ?? null) : null;
      const put = await store.putDavObject(
        accountId,
        c.id,
        { name, ...summary.value, data: text },
        { ...condition, maxObjects: MAX_OBJECTS },
      );
      if (put === 'not-found') return fail('not-found');
      if (put === 'too-many') return fail('too-many', `at most ${MAX_OBJECTS} objects in a collection`);
      if (put === 'precondition-failed' || put === 'uid-conflict') return fail(put);
      published(accountId, put.object.modseq, put);
      await hook?.afterPut(ctx, accountId, before, put.object);
      return ok(put);
    },

    async removeObject(
      ctx: Ctx,
      collection: CollectionRef,
      name: string,
      ifMatch?: string,
    ): Promise<Result<void, CollectionError>> {
      const r = await open(ctx, collection, 'write');
      if (!r.ok) return r;
      if (!SEGMENT.test(name)) return fail('not-found');
      const { accountId, collection: c, own } = r.value;
      const hook = own ? hooks : undefined;
      const before = hook ? ((await store.getDavObjects(accountId, c.id, [name]))[0] ?? null) : null;
      const removed = await store.deleteDavObject(accountId, c.id, name, ifMatch);
      if (removed !== 'ok') return fail(removed);
      record(ctx, 'delete', accountId, c, 1);
      changes.publish(accountId, await store.highestModseq(accountId));
      if (before) await hook?.afterRemove(ctx, accountId, before);
      return ok(undefined);
    },

    /** Moves an object to another name, in its collection or another of the same owner and kind. */
    async move(
      ctx: Ctx,
      from: { collection: CollectionRef; name: string },
      to: { collection: CollectionRef; name: string },
      condition: { overwrite: boolean; ifMatch?: string },
    ): Promise<Result<{ object: DavObject; created: boolean }, CollectionError>> {
      const source = await open(ctx, from.collection, 'write');
      if (!source.ok) return source;
      if (format.fixed) return fail('forbidden');
      const target = await open(ctx, to.collection, 'write');
      if (!target.ok)
        return fail(target.error === 'not-found' ? 'exists' : target.error, 'no such collection');
      if (target.value.accountId !== source.value.accountId)
        return fail('forbidden', 'objects move between collections of one owner');
      if (!SEGMENT.test(from.name)) return fail('not-found');
      if (!SEGMENT.test(to.name))
        return fail('invalid', 'an object name is letters, digits and . _ ~ @ + = -');
      const { accountId } = source.value;
      const moved = await store.moveDavObject(
        accountId,
        { collectionId: source.value.collection.id, name: from.name },
        { collectionId: target.value.collection.id, name: to.name },
        { ...condition, maxObjects: MAX_OBJECTS },
      );
      if (moved === 'same') return fail('invalid', 'the source and the destination are the same');
      if (moved === 'too-many') return fail('too-many', `at most ${MAX_OBJECTS} objects in a collection`);
      if (typeof moved === 'string') return fail(moved);
      return ok(published(accountId, moved.object.modseq, moved));
    },

    /** What changed in a collection after the sync token `since` (a modseq of the account). */
    async changesSince(
      ctx: Ctx,
      collection: CollectionRef,
      since: number,
    ): Promise<Result<{ changed: DavObject[]; removed: string[]; token: number }, CollectionError>> {
      const r = await open(ctx, collection, 'read');
      if (!r.ok) return r;
      const { accountId, collection: c } = r.value;
      if (since > c.modseq) return fail('invalid', 'a sync token from the future');
      const d = await store.davChanges(accountId, c.id, since);
      record(ctx, 'read', accountId, c, d.changed.length);
      return ok({ ...d, token: c.modseq });
    },
  };
}

/** Display properties are short text without control characters. */
function checkProps(p: {
  displayName?: string;
  description?: string;
  color?: string;
}): Result<void, CollectionError> {
  for (const [key, value, max] of [
    ['displayName', p.displayName, 200],
    ['description', p.description, 2000],
    ['color', p.color, 32],
  ] as const)
    if (value !== undefined && (value.length > max || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)))
      return fail('invalid', `${key}: at most ${max} characters of text`);
  return ok(undefined);
}

/** The service for one kind of collection. */
export type Collections = ReturnType<typeof createCollections>;
