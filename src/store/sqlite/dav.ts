/**
 * @module DAV collections (calendars and address books) and their objects in the embedded store.
 * Every write takes the account's next modseq, stamps the object and its collection with it, and
 * logs the change, so a collection's CTag and sync token are views of the per-account change
 * log; a removed or moved-away object leaves a tombstone for sync-collection.
 */
import type Database from 'better-sqlite3';
import { CHANGE_TYPES, etagOf, type Row, toCollection, toObject, toShare } from '../rows.ts';
import type { ChangeType, DavCollection, DavStore, InvitationPolicy } from '../types.ts';

/** DAV collection operations. */
export function davOps(db: Database.Database): DavStore {
  const q = {
    share: db.prepare(
      `INSERT INTO dav_shares (account_id, collection_id, grantee_id, access) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, collection_id, grantee_id) DO UPDATE SET access = excluded.access`,
    ),
    unshare: db.prepare(
      'DELETE FROM dav_shares WHERE account_id = ? AND collection_id = ? AND grantee_id = ?',
    ),
    grantee: db.prepare('SELECT 1 FROM accounts WHERE id = ?'),
    shares: db.prepare(
      `SELECT s.grantee_id, s.access, g.address AS grantee_address, o.address AS owner_address, c.*
       FROM dav_shares s JOIN dav_collections c ON c.account_id = s.account_id AND c.id = s.collection_id
       JOIN accounts g ON g.id = s.grantee_id JOIN accounts o ON o.id = s.account_id
       WHERE s.account_id = ? AND s.collection_id = ? ORDER BY g.address`,
    ),
    sharedWith: db.prepare(
      `SELECT s.grantee_id, s.access, g.address AS grantee_address, o.address AS owner_address, c.*
       FROM dav_shares s JOIN dav_collections c ON c.account_id = s.account_id AND c.id = s.collection_id
       JOIN accounts g ON g.id = s.grantee_id JOIN accounts o ON o.id = s.account_id
       WHERE s.grantee_id = ? AND c.kind = ? ORDER BY o.address, c.name`,
    ),
    policy: db.prepare('SELECT invitation_policy FROM accounts WHERE id = ?'),
    setPolicy: db.prepare('UPDATE accounts SET invitation_policy = ? WHERE id = ?'),
    bump: db.prepare('UPDATE accounts SET modseq = modseq + 1 WHERE id = ? RETURNING modseq'),
    nextId: db.prepare('UPDATE accounts SET next_id = next_id + 1 WHERE id = ? RETURNING next_id - 1 AS id'),
    change: db.prepare(
      'INSERT INTO changes (account_id, modseq, type, object_id, op, mailbox_id, uid) VALUES (?, ?, ?, ?, ?, NULL, NULL)',
    ),
    collections: db.prepare('SELECT * FROM dav_collections WHERE account_id = ? AND kind = ? ORDER BY id'),
    collection: db.prepare('SELECT * FROM dav_collections WHERE account_id = ? AND id = ?'),
    collectionByName: db.prepare(
      'SELECT 1 FROM dav_collections WHERE account_id = ? AND kind = ? AND name = ?',
    ),
    insertCollection: db.prepare(
      `INSERT INTO dav_collections (account_id, id, kind, name, display_name, description, color, components, created_at, modseq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    updateCollection: db.prepare(
      `UPDATE dav_collections SET display_name = coalesce(?, display_name), description = coalesce(?, description),
         color = coalesce(?, color), modseq = ? WHERE account_id = ? AND id = ? RETURNING *`,
    ),
    touch: db.prepare('UPDATE dav_collections SET modseq = ? WHERE account_id = ? AND id = ?'),
    deleteCollection: db.prepare('DELETE FROM dav_collections WHERE account_id = ? AND id = ?'),
    objectIds: db.prepare('SELECT id FROM dav_objects WHERE account_id = ? AND collection_id = ?'),
    objects: db.prepare('SELECT * FROM dav_objects WHERE account_id = ? AND collection_id = ? ORDER BY id'),
    objectsIn: db.prepare(
      `SELECT * FROM dav_objects WHERE account_id = ? AND collection_id = ?
         AND (starts_at IS NULL OR starts_at < ?) AND (ends_at IS NULL OR ends_at > ?) ORDER BY id`,
    ),
    objectByUid: db.prepare(
      `SELECT o.* FROM dav_collections c JOIN dav_objects o ON o.account_id = c.account_id AND o.collection_id = c.id
       WHERE c.account_id = ? AND c.kind = ? AND o.uid = ? ORDER BY c.id LIMIT 1`,
    ),
    object: db.prepare('SELECT * FROM dav_objects WHERE account_id = ? AND collection_id = ? AND name = ?'),
    count: db.prepare('SELECT objects AS n FROM dav_collections WHERE account_id = ? AND id = ?'),
    counted: db.prepare('UPDATE dav_collections SET objects = objects + ? WHERE account_id = ? AND id = ?'),
    byUid: db.prepare('SELECT name FROM dav_objects WHERE account_id = ? AND collection_id = ? AND uid = ?'),
    insertObject: db.prepare(
      `INSERT INTO dav_objects (account_id, collection_id, id, name, uid, component, data, etag, starts_at, ends_at, exact, modseq)
       VALUES (@accountId, @collectionId, @id, @name, @uid, @component, @data, @etag, @startsAt, @endsAt, @exact, @modseq)
       RETURNING *`,
    ),
    replaceObject: db.prepare(
      `UPDATE dav_objects SET uid = @uid, component = @component, data = @data, etag = @etag,
         starts_at = @startsAt, ends_at = @endsAt, exact = @exact, modseq = @modseq
       WHERE account_id = @accountId AND id = @id RETURNING *`,
    ),
    relocate: db.prepare(
      'UPDATE dav_objects SET collection_id = ?, name = ?, modseq = ? WHERE account_id = ? AND id = ? RETURNING *',
    ),
    deleteObject: db.prepare('DELETE FROM dav_objects WHERE account_id = ? AND id = ?'),
    tombstone: db.prepare(
      `INSERT INTO dav_tombstones (account_id, collection_id, name, modseq) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, collection_id, name) DO UPDATE SET modseq = excluded.modseq`,
    ),
    unTombstone: db.prepare(
      'DELETE FROM dav_tombstones WHERE account_id = ? AND collection_id = ? AND name = ?',
    ),
    changedSince: db.prepare(
      'SELECT * FROM dav_objects WHERE account_id = ? AND collection_id = ? AND modseq > ? ORDER BY modseq',
    ),
    removedSince: db.prepare(
      'SELECT name FROM dav_tombstones WHERE account_id = ? AND collection_id = ? AND modseq > ? ORDER BY modseq',
    ),
  };
  const bump = (accountId: number): number | null =>
    ((q.bump.get(accountId) as Row | undefined)?.['modseq'] as number | undefined) ?? null;
  const collection = (accountId: number, id: number): DavCollection | null => {
    const row = q.collection.get(accountId, id) as Row | undefined;
    return row ? toCollection(row) : null;
  };
  const objectType = (c: DavCollection): ChangeType => CHANGE_TYPES[c.kind][1];
  const full = (accountId: number, collectionId: number, max: number | undefined): boolean =>
    max !== undefined && ((q.count.get(accountId, collectionId) as Row)['n'] as number) >= max;
  /** Removes an object and leaves its tombstone; the caller logs the change. */
  const remove = (accountId: number, row: Row, modseq: number): void => {
    q.deleteObject.run(accountId, row['id']);
    q.counted.run(-1, accountId, row['collection_id']);
    q.tombstone.run(accountId, row['collection_id'], row['name'], modseq);
  };

  return {
    async setShare(accountId, collectionId, granteeId, access) {
      return db.transaction((): 'ok' | 'not-found' => {
        if (!collection(accountId, collectionId) || !q.grantee.get(granteeId) || granteeId === accountId)
          return 'not-found';
        if (access === null) q.unshare.run(accountId, collectionId, granteeId);
        else q.share.run(accountId, collectionId, granteeId, access);
        return 'ok';
      })();
    },
    async listShares(accountId, collectionId) {
      return (q.shares.all(accountId, collectionId) as Row[]).map(toShare);
    },
    async sharedWith(granteeId, kind) {
      return (q.sharedWith.all(granteeId, kind) as Row[]).map(toShare);
    },
    async getInvitationPolicy(accountId) {
      return (
        ((q.policy.get(accountId) as Row | undefined)?.['invitation_policy'] as InvitationPolicy) ?? 'off'
      );
    },
    async setInvitationPolicy(accountId, policy) {
      return q.setPolicy.run(policy, accountId).changes === 1 ? 'ok' : 'not-found';
    },
    async listCollections(accountId, kind) {
      return (q.collections.all(accountId, kind) as Row[]).map(toCollection);
    },
    async createCollection(accountId, kind, input, now) {
      return db.transaction((): DavCollection | 'exists' | 'not-found' => {
        if (q.collectionByName.get(accountId, kind, input.name)) return 'exists';
        const modseq = bump(accountId);
        if (modseq === null) return 'not-found';
        const id = (q.nextId.get(accountId) as Row)['id'] as number;
        const row = q.insertCollection.get(
          accountId,
          id,
          kind,
          input.name,
          input.displayName,
          input.description,
          input.color,
          input.components,
          now,
          modseq,
        ) as Row;
        q.change.run(accountId, modseq, CHANGE_TYPES[kind][0], id, 'create');
        return toCollection(row);
      })();
    },
    async updateCollection(accountId, id, patch) {
      return db.transaction((): DavCollection | 'not-found' => {
        const c = collection(accountId, id);
        if (!c) return 'not-found';
        const modseq = bump(accountId)!;
        const row = q.updateCollection.get(
          patch.displayName ?? null,
          patch.description ?? null,
          patch.color ?? null,
          modseq,
          accountId,
          id,
        ) as Row;
        q.change.run(accountId, modseq, CHANGE_TYPES[c.kind][0], id, 'update');
        return toCollection(row);
      })();
    },
    async deleteCollection(accountId, id) {
      return db.transaction((): 'ok' | 'not-found' => {
        const c = collection(accountId, id);
        if (!c) return 'not-found';
        const modseq = bump(accountId)!;
        for (const r of q.objectIds.all(accountId, id) as Row[])
          q.change.run(accountId, modseq, objectType(c), r['id'], 'destroy');
        q.deleteCollection.run(accountId, id);
        q.change.run(accountId, modseq, CHANGE_TYPES[c.kind][0], id, 'destroy');
        return 'ok';
      })();
    },
    async listDavObjects(accountId, collectionId, range) {
      const rows = range
        ? q.objectsIn.all(accountId, collectionId, range.end, range.start)
        : q.objects.all(accountId, collectionId);
      return (rows as Row[]).map(toObject);
    },
    async getDavObjects(accountId, collectionId, names) {
      // One indexed lookup per name, in id order as a listing gives them.
      return [...new Set(names)]
        .map((name) => q.object.get(accountId, collectionId, name) as Row | undefined)
        .filter((r): r is Row => r !== undefined)
        .map(toObject)
        .sort((a, b) => a.id - b.id);
    },
    async findDavObject(accountId, kind, uid) {
      const row = q.objectByUid.get(accountId, kind, uid) as Row | undefined;
      return row ? toObject(row) : null;
    },
    async putDavObject(accountId, collectionId, input, condition) {
      return db.transaction(() => {
        const c = collection(accountId, collectionId);
        if (!c) return 'not-found' as const;
        const existing = q.object.get(accountId, collectionId, input.name) as Row | undefined;
        if (condition.ifNoneMatch && existing) return 'precondition-failed' as const;
        if (condition.ifMatch !== undefined && existing?.['etag'] !== condition.ifMatch)
          return 'precondition-failed' as const;
        const sameUid = q.byUid.get(accountId, collectionId, input.uid) as Row | undefined;
        if (sameUid && sameUid['name'] !== input.name) return 'uid-conflict' as const;
        if (!existing && full(accountId, collectionId, condition.maxObjects)) return 'too-many' as const;
        const modseq = bump(accountId)!;
        const values = {
          accountId,
          collectionId,
          name: input.name,
          uid: input.uid,
          component: input.component,
          data: input.data,
          etag: etagOf(input.data),
          startsAt: input.startsAt,
          endsAt: input.endsAt,
          exact: input.exact ? 1 : 0,
          modseq,
        };
        let row: Row;
        if (existing) row = q.replaceObject.get({ ...values, id: existing['id'] }) as Row;
        else {
          row = q.insertObject.get({ ...values, id: (q.nextId.get(accountId) as Row)['id'] }) as Row;
          q.counted.run(1, accountId, collectionId);
          q.unTombstone.run(accountId, collectionId, input.name);
        }
        q.touch.run(modseq, accountId, collectionId);
        q.change.run(accountId, modseq, objectType(c), row['id'], existing ? 'update' : 'create');
        return { object: toObject(row), created: !existing };
      })();
    },
    async deleteDavObject(accountId, collectionId, name, ifMatch) {
      return db.transaction((): 'ok' | 'not-found' | 'precondition-failed' => {
        const c = collection(accountId, collectionId);
        const existing = q.object.get(accountId, collectionId, name) as Row | undefined;
        if (!c || !existing) return 'not-found';
        if (ifMatch !== undefined && existing['etag'] !== ifMatch) return 'precondition-failed';
        const modseq = bump(accountId)!;
        remove(accountId, existing, modseq);
        q.touch.run(modseq, accountId, collectionId);
        q.change.run(accountId, modseq, objectType(c), existing['id'], 'destroy');
        return 'ok';
      })();
    },
    async moveDavObject(accountId, from, to, condition) {
      return db.transaction(() => {
        const source = collection(accountId, from.collectionId);
        const target = collection(accountId, to.collectionId);
        const row = source && (q.object.get(accountId, from.collectionId, from.name) as Row | undefined);
        if (!source || !target || !row || source.kind !== target.kind) return 'not-found' as const;
        if (condition.ifMatch !== undefined && row['etag'] !== condition.ifMatch)
          return 'precondition-failed' as const;
        if (from.collectionId === to.collectionId && from.name === to.name) return 'same' as const;
        const existing = q.object.get(accountId, to.collectionId, to.name) as Row | undefined;
        if (existing && !condition.overwrite) return 'precondition-failed' as const;
        const sameUid = q.byUid.get(accountId, to.collectionId, row['uid']) as Row | undefined;
        if (sameUid && sameUid['name'] !== to.name && sameUid['name'] !== from.name)
          return 'uid-conflict' as const;
        if (
          !existing &&
          from.collectionId !== to.collectionId &&
          full(accountId, to.collectionId, condition.maxObjects)
        )
          return 'too-many' as const;
        const modseq = bump(accountId)!;
        if (existing) {
          remove(accountId, existing, modseq);
          q.change.run(accountId, modseq, objectType(target), existing['id'], 'destroy');
        }
        q.tombstone.run(accountId, from.collectionId, from.name, modseq);
        q.unTombstone.run(accountId, to.collectionId, to.name);
        const moved = q.relocate.get(to.collectionId, to.name, modseq, accountId, row['id']) as Row;
        q.counted.run(-1, accountId, from.collectionId);
        q.counted.run(1, accountId, to.collectionId);
        q.touch.run(modseq, accountId, from.collectionId);
        q.touch.run(modseq, accountId, to.collectionId);
        q.change.run(accountId, modseq, objectType(target), row['id'], 'update');
        return { object: toObject(moved), created: !existing };
      })();
    },
    async davChanges(accountId, collectionId, since) {
      return {
        changed: (q.changedSince.all(accountId, collectionId, since) as Row[]).map(toObject),
        removed: (q.removedSince.all(accountId, collectionId, since) as Row[]).map(
          (r) => r['name'] as string,
        ),
      };
    },
  };
}
