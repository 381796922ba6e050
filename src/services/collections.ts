/**
 * @module What calendars and address books share: an account's collections of one kind and their
 * objects, for CalDAV and CardDAV. Every call takes the caller's context and reaches only the
 * caller's own account; names of collections and objects are checked here, objects are parsed
 * and bounded by the kind's format (calendar/ical.ts, contacts/vcard.ts), reads are audited
 * (`calendar.read`, `contacts.read`: how many objects, never their content) and removals too.
 * Each account gets the kind's default collection the first time it looks.
 */

import { fail, ok, type Result } from '../core/result.ts';
import type { CollectionKind, DavCollection, DavObject, NewDavObject, Store } from '../store/types.ts';
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
  /** Parses and bounds an object: what the store keeps beside its text, or why it is refused. */
  summarise(text: string): Omit<NewDavObject, 'name' | 'data'> | { refused: string };
}

/** Collections one account may have of one kind. */
const MAX_COLLECTIONS = 100;
/** Objects one collection may hold. */
export const MAX_OBJECTS = 100_000;

/** A path segment: letters, digits and a few marks, never `.` or `..`. */
export const SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9._~@+=-]{1,200}$/;

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
  /** The caller's account and its collection `name`, or why not. */
  const open = async (
    ctx: Ctx,
    name: string,
  ): Promise<Result<{ accountId: number; collection: DavCollection }, CollectionError>> => {
    const accountId = ownAccount(ctx);
    if (accountId === null) return fail('forbidden');
    const collection = await collectionOf(accountId, name);
    return collection ? ok({ accountId, collection }) : fail('not-found');
  };
  const record = (ctx: Ctx, what: 'read' | 'delete', accountId: number, c: DavCollection, objects?: number) =>
    audit({
      action: `${format.audit}.${what}`,
      outcome: 'ok',
      origin: ctx,
      account: accountId,
      detail: objects === undefined ? { collection: c.id } : { collection: c.id, objects },
    });
  const parse = (text: string): Result<Omit<NewDavObject, 'name' | 'data'>, CollectionError> => {
    const summary = format.summarise(text);
    return 'refused' in summary ? fail('invalid', summary.refused) : ok(summary);
  };

  return {
    /** The caller's collections; a first look creates the default one. */
    async list(ctx: Ctx): Promise<Result<DavCollection[], CollectionError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await collectionsOf(accountId));
    },

    /** One of the caller's collections by its path segment. */
    async get(ctx: Ctx, name: string): Promise<Result<DavCollection, CollectionError>> {
      const r = await open(ctx, name);
      return r.ok ? ok(r.value.collection) : r;
    },

    async create(
      ctx: Ctx,
      name: string,
      props: { displayName?: string; description?: string; color?: string; components?: string[] },
    ): Promise<Result<DavCollection, CollectionError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
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
      name: string,
      patch: { displayName?: string; description?: string; color?: string },
    ): Promise<Result<DavCollection, CollectionError>> {
      const r = await open(ctx, name);
      if (!r.ok) return r;
      const text = checkProps(patch);
      if (!text.ok) return text;
      const { accountId, collection } = r.value;
      const u = await store.updateCollection(accountId, collection.id, patch);
      return u === 'not-found' ? fail('not-found') : ok(published(accountId, u.modseq, u));
    },

    async remove(ctx: Ctx, name: string): Promise<Result<void, CollectionError>> {
      const r = await open(ctx, name);
      if (!r.ok) return r;
      const { accountId, collection } = r.value;
      if ((await store.deleteCollection(accountId, collection.id)) !== 'ok') return fail('not-found');
      record(ctx, 'delete', accountId, collection);
      changes.publish(accountId, await store.highestModseq(accountId));
      return ok(undefined);
    },

    /** Objects of a collection: all, or the named ones. */
    async objects(
      ctx: Ctx,
      name: string,
      which: { names: string[] } | 'all',
    ): Promise<Result<DavObject[], CollectionError>> {
      const r = await open(ctx, name);
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
     * keeps, in slices with a turn of the event loop between them and a time budget for the
     * whole query (ATTACKS.md DS-04, IC-01).
     */
    async select(
      ctx: Ctx,
      name: string,
      range: { start: number; end: number } | null,
      test: (o: DavObject) => boolean,
      budget: { slice: number; ms: number },
    ): Promise<Result<DavObject[], CollectionError>> {
      const r = await open(ctx, name);
      if (!r.ok) return r;
      const { accountId, collection } = r.value;
      const candidates = await store.listDavObjects(accountId, collection.id, range ?? undefined);
      const deadline = clock.now() + budget.ms;
      const list: DavObject[] = [];
      for (let i = 0; i < candidates.length; i++) {
        if (i % budget.slice === budget.slice - 1) {
          await new Promise((resolve) => setImmediate(resolve));
          if (clock.now() > deadline) return fail('too-many', 'the query took longer than its time budget');
        }
        if (test(candidates[i]!)) list.push(candidates[i]!);
      }
      record(ctx, 'read', accountId, collection, list.length);
      return ok(list);
    },

    /** Creates or replaces an object, after parsing and bounding it. */
    async put(
      ctx: Ctx,
      collection: string,
      name: string,
      text: string,
      condition: { ifMatch?: string; ifNoneMatch?: boolean },
    ): Promise<Result<{ object: DavObject; created: boolean }, CollectionError>> {
      if (!SEGMENT.test(name)) return fail('invalid', 'an object name is letters, digits and . _ ~ @ + = -');
      const r = await open(ctx, collection);
      if (!r.ok) return r;
      const { accountId, collection: c } = r.value;
      const summary = parse(text);
      if (!summary.ok) return summary;
      if (!c.components.split(' ').includes(summary.value.component))
        return fail('invalid', `this collection holds ${c.components}, not ${summary.value.component}`);
      const before = hooks ? ((await store.getDavObjects(accountId, c.id, [name]))[0] ?? null) : null;
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
      await hooks?.afterPut(ctx, accountId, before, put.object);
      return ok(put);
    },

    async removeObject(
      ctx: Ctx,
      collection: string,
      name: string,
      ifMatch?: string,
    ): Promise<Result<void, CollectionError>> {
      const r = await open(ctx, collection);
      if (!r.ok || !SEGMENT.test(name)) return fail(r.ok ? 'not-found' : r.error);
      const { accountId, collection: c } = r.value;
      const before = hooks ? ((await store.getDavObjects(accountId, c.id, [name]))[0] ?? null) : null;
      const removed = await store.deleteDavObject(accountId, c.id, name, ifMatch);
      if (removed !== 'ok') return fail(removed);
      record(ctx, 'delete', accountId, c, 1);
      changes.publish(accountId, await store.highestModseq(accountId));
      if (before) await hooks?.afterRemove(ctx, accountId, before);
      return ok(undefined);
    },

    /** Moves an object to another name, in its collection or another of the caller's of this kind. */
    async move(
      ctx: Ctx,
      from: { collection: string; name: string },
      to: { collection: string; name: string },
      condition: { overwrite: boolean; ifMatch?: string },
    ): Promise<Result<{ object: DavObject; created: boolean }, CollectionError>> {
      const source = await open(ctx, from.collection);
      if (!source.ok) return source;
      const target = await open(ctx, to.collection);
      if (!target.ok)
        return fail(target.error === 'not-found' ? 'exists' : target.error, 'no such collection');
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
      collection: string,
      since: number,
    ): Promise<Result<{ changed: DavObject[]; removed: string[]; token: number }, CollectionError>> {
      const r = await open(ctx, collection);
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
