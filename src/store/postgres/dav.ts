/**
 * @module DAV collections (calendars, address books, schedule inboxes) and their objects in
 * PostgreSQL. Every write locks the account, takes its next modseq, stamps the object and its
 * collection with it and logs the change, so CTags and sync tokens are views of the one change
 * log; a removed or moved-away object leaves a tombstone for sync-collection.
 */

import { CHANGE_TYPES, etagOf, type Row, toCollection, toObject, toShare } from '../rows.ts';
import type { DavCollection, DavStore, InvitationPolicy } from '../types.ts';
import { bumpModseq, lockAccount, logChange, nextObjectId } from './counters.ts';
import type { Database, Sql } from './database.ts';

const SHARES = `SELECT s.grantee_id, s.access, g.address AS grantee_address, o.address AS owner_address, c.*
  FROM dav_shares s JOIN dav_collections c ON c.account_id = s.account_id AND c.id = s.collection_id
  JOIN accounts g ON g.id = s.grantee_id JOIN accounts o ON o.id = s.account_id`;

async function collection(sql: Sql, accountId: number, id: number): Promise<DavCollection | null> {
  const row = await sql.one('SELECT * FROM dav_collections WHERE account_id = $1 AND id = $2', [
    accountId,
    id,
  ]);
  return row ? toCollection(row) : null;
}

const objectAt = (sql: Sql, accountId: number, collectionId: number, name: string) =>
  sql.one('SELECT * FROM dav_objects WHERE account_id = $1 AND collection_id = $2 AND name = $3', [
    accountId,
    collectionId,
    name,
  ]);

const objectWithUid = (sql: Sql, accountId: number, collectionId: number, uid: unknown) =>
  sql.one('SELECT name FROM dav_objects WHERE account_id = $1 AND collection_id = $2 AND uid = $3', [
    accountId,
    collectionId,
    uid,
  ]);

async function isFull(
  sql: Sql,
  accountId: number,
  collectionId: number,
  max: number | undefined,
): Promise<boolean> {
  if (max === undefined) return false;
  const r = await sql.one('SELECT objects FROM dav_collections WHERE account_id = $1 AND id = $2', [
    accountId,
    collectionId,
  ]);
  return (r!['objects'] as number) >= max;
}

const count = (sql: Sql, accountId: number, collectionId: unknown, delta: number) =>
  sql.run('UPDATE dav_collections SET objects = objects + $1 WHERE account_id = $2 AND id = $3', [
    delta,
    accountId,
    collectionId,
  ]);
const touch = (sql: Sql, accountId: number, collectionId: number, modseq: number) =>
  sql.run('UPDATE dav_collections SET modseq = $1 WHERE account_id = $2 AND id = $3', [
    modseq,
    accountId,
    collectionId,
  ]);
const tombstone = (sql: Sql, accountId: number, collectionId: unknown, name: unknown, modseq: number) =>
  sql.run(
    `INSERT INTO dav_tombstones (account_id, collection_id, name, modseq) VALUES ($1, $2, $3, $4)
     ON CONFLICT (account_id, collection_id, name) DO UPDATE SET modseq = excluded.modseq`,
    [accountId, collectionId, name, modseq],
  );
const unTombstone = (sql: Sql, accountId: number, collectionId: number, name: string) =>
  sql.run('DELETE FROM dav_tombstones WHERE account_id = $1 AND collection_id = $2 AND name = $3', [
    accountId,
    collectionId,
    name,
  ]);

/** Removes an object and leaves its tombstone; the caller logs the change. */
async function remove(sql: Sql, accountId: number, row: Row, modseq: number): Promise<void> {
  await sql.run('DELETE FROM dav_objects WHERE account_id = $1 AND id = $2', [accountId, row['id']]);
  await count(sql, accountId, row['collection_id'], -1);
  await tombstone(sql, accountId, row['collection_id'], row['name'], modseq);
}

/** DAV collection operations. */
export function davOps(db: Database): DavStore {
  return {
    async setShare(accountId, collectionId, granteeId, access) {
      return db.tx(async (sql) => {
        if (
          granteeId === accountId ||
          !(await lockAccount(sql, accountId)) ||
          !(await collection(sql, accountId, collectionId)) ||
          !(await sql.one('SELECT 1 FROM accounts WHERE id = $1', [granteeId]))
        )
          return 'not-found';
        if (access === null)
          await sql.run(
            'DELETE FROM dav_shares WHERE account_id = $1 AND collection_id = $2 AND grantee_id = $3',
            [accountId, collectionId, granteeId],
          );
        else
          await sql.run(
            `INSERT INTO dav_shares (account_id, collection_id, grantee_id, access) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id, collection_id, grantee_id) DO UPDATE SET access = excluded.access`,
            [accountId, collectionId, granteeId, access],
          );
        return 'ok';
      });
    },
    async listShares(accountId, collectionId) {
      return (
        await db.rows(`${SHARES} WHERE s.account_id = $1 AND s.collection_id = $2 ORDER BY g.address`, [
          accountId,
          collectionId,
        ])
      ).map(toShare);
    },
    async sharedWith(granteeId, kind) {
      return (
        await db.rows(`${SHARES} WHERE s.grantee_id = $1 AND c.kind = $2 ORDER BY o.address, c.name`, [
          granteeId,
          kind,
        ])
      ).map(toShare);
    },
    async getInvitationPolicy(accountId) {
      const r = await db.one('SELECT invitation_policy FROM accounts WHERE id = $1', [accountId]);
      return (r?.['invitation_policy'] as InvitationPolicy | undefined) ?? 'off';
    },
    async setInvitationPolicy(accountId, policy) {
      const n = await db.run('UPDATE accounts SET invitation_policy = $1 WHERE id = $2', [policy, accountId]);
      return n === 1 ? 'ok' : 'not-found';
    },
    async listCollections(accountId, kind) {
      return (
        await db.rows('SELECT * FROM dav_collections WHERE account_id = $1 AND kind = $2 ORDER BY id', [
          accountId,
          kind,
        ])
      ).map(toCollection);
    },
    async createCollection(accountId, kind, input, now) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        if (
          await sql.one('SELECT 1 FROM dav_collections WHERE account_id = $1 AND kind = $2 AND name = $3', [
            accountId,
            kind,
            input.name,
          ])
        )
          return 'exists';
        const modseq = (await bumpModseq(sql, accountId))!;
        const id = await nextObjectId(sql, accountId);
        const row = await sql.one(
          `INSERT INTO dav_collections (account_id, id, kind, name, display_name, description, color, components, created_at, modseq)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
          [
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
          ],
        );
        await logChange(sql, accountId, modseq, CHANGE_TYPES[kind][0], id, 'create');
        return toCollection(row!);
      });
    },
    async updateCollection(accountId, id, patch) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        const c = await collection(sql, accountId, id);
        if (!c) return 'not-found';
        const modseq = (await bumpModseq(sql, accountId))!;
        const row = await sql.one(
          `UPDATE dav_collections SET display_name = coalesce($1, display_name), description = coalesce($2, description),
             color = coalesce($3, color), modseq = $4 WHERE account_id = $5 AND id = $6 RETURNING *`,
          [patch.displayName ?? null, patch.description ?? null, patch.color ?? null, modseq, accountId, id],
        );
        await logChange(sql, accountId, modseq, CHANGE_TYPES[c.kind][0], id, 'update');
        return toCollection(row!);
      });
    },
    async deleteCollection(accountId, id) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        const c = await collection(sql, accountId, id);
        if (!c) return 'not-found';
        const modseq = (await bumpModseq(sql, accountId))!;
        await sql.run(
          `INSERT INTO changes (account_id, modseq, type, object_id, op)
           SELECT account_id, $1, $2, id, 'destroy' FROM dav_objects WHERE account_id = $3 AND collection_id = $4 ORDER BY id`,
          [modseq, CHANGE_TYPES[c.kind][1], accountId, id],
        );
        await sql.run('DELETE FROM dav_collections WHERE account_id = $1 AND id = $2', [accountId, id]);
        await logChange(sql, accountId, modseq, CHANGE_TYPES[c.kind][0], id, 'destroy');
        return 'ok';
      });
    },
    async listDavObjects(accountId, collectionId, range) {
      const rows = range
        ? await db.rows(
            `SELECT * FROM dav_objects WHERE account_id = $1 AND collection_id = $2
               AND (starts_at IS NULL OR starts_at < $3) AND (ends_at IS NULL OR ends_at > $4) ORDER BY id`,
            [accountId, collectionId, range.end, range.start],
          )
        : await db.rows(
            'SELECT * FROM dav_objects WHERE account_id = $1 AND collection_id = $2 ORDER BY id',
            [accountId, collectionId],
          );
      return rows.map(toObject);
    },
    async getDavObjects(accountId, collectionId, names) {
      const rows = await db.rows(
        'SELECT * FROM dav_objects WHERE account_id = $1 AND collection_id = $2 AND name = ANY($3::text[]) ORDER BY id',
        [accountId, collectionId, [...new Set(names)]],
      );
      return rows.map(toObject);
    },
    async findDavObject(accountId, kind, uid) {
      const row = await db.one(
        `SELECT o.* FROM dav_collections c JOIN dav_objects o ON o.account_id = c.account_id AND o.collection_id = c.id
         WHERE c.account_id = $1 AND c.kind = $2 AND o.uid = $3 ORDER BY c.id LIMIT 1`,
        [accountId, kind, uid],
      );
      return row ? toObject(row) : null;
    },
    async putDavObject(accountId, collectionId, input, condition) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found' as const;
        const c = await collection(sql, accountId, collectionId);
        if (!c) return 'not-found' as const;
        const existing = await objectAt(sql, accountId, collectionId, input.name);
        if (condition.ifNoneMatch && existing) return 'precondition-failed' as const;
        if (condition.ifMatch !== undefined && existing?.['etag'] !== condition.ifMatch)
          return 'precondition-failed' as const;
        const sameUid = await objectWithUid(sql, accountId, collectionId, input.uid);
        if (sameUid && sameUid['name'] !== input.name) return 'uid-conflict' as const;
        if (!existing && (await isFull(sql, accountId, collectionId, condition.maxObjects)))
          return 'too-many' as const;
        const modseq = (await bumpModseq(sql, accountId))!;
        const values = [
          input.uid,
          input.component,
          input.data,
          etagOf(input.data),
          input.startsAt,
          input.endsAt,
          input.exact,
          modseq,
        ];
        let row: Row;
        if (existing) {
          row = (await sql.one(
            `UPDATE dav_objects SET uid = $1, component = $2, data = $3, etag = $4, starts_at = $5, ends_at = $6,
               exact = $7, modseq = $8 WHERE account_id = $9 AND id = $10 RETURNING *`,
            [...values, accountId, existing['id']],
          ))!;
        } else {
          const id = await nextObjectId(sql, accountId);
          row = (await sql.one(
            `INSERT INTO dav_objects (uid, component, data, etag, starts_at, ends_at, exact, modseq, account_id, collection_id, id, name)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
            [...values, accountId, collectionId, id, input.name],
          ))!;
          await count(sql, accountId, collectionId, 1);
          await unTombstone(sql, accountId, collectionId, input.name);
        }
        await touch(sql, accountId, collectionId, modseq);
        await logChange(
          sql,
          accountId,
          modseq,
          CHANGE_TYPES[c.kind][1],
          row['id'] as number,
          existing ? 'update' : 'create',
        );
        return { object: toObject(row), created: !existing };
      });
    },
    async deleteDavObject(accountId, collectionId, name, ifMatch) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        const c = await collection(sql, accountId, collectionId);
        const existing = c && (await objectAt(sql, accountId, collectionId, name));
        if (!c || !existing) return 'not-found';
        if (ifMatch !== undefined && existing['etag'] !== ifMatch) return 'precondition-failed';
        const modseq = (await bumpModseq(sql, accountId))!;
        await remove(sql, accountId, existing, modseq);
        await touch(sql, accountId, collectionId, modseq);
        await logChange(sql, accountId, modseq, CHANGE_TYPES[c.kind][1], existing['id'] as number, 'destroy');
        return 'ok';
      });
    },
    async moveDavObject(accountId, from, to, condition) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found' as const;
        const source = await collection(sql, accountId, from.collectionId);
        const target = await collection(sql, accountId, to.collectionId);
        const row = source && (await objectAt(sql, accountId, from.collectionId, from.name));
        if (!source || !target || !row || source.kind !== target.kind) return 'not-found' as const;
        if (condition.ifMatch !== undefined && row['etag'] !== condition.ifMatch)
          return 'precondition-failed' as const;
        if (from.collectionId === to.collectionId && from.name === to.name) return 'same' as const;
        const existing = await objectAt(sql, accountId, to.collectionId, to.name);
        if (existing && !condition.overwrite) return 'precondition-failed' as const;
        const sameUid = await objectWithUid(sql, accountId, to.collectionId, row['uid']);
        if (sameUid && sameUid['name'] !== to.name && sameUid['name'] !== from.name)
          return 'uid-conflict' as const;
        if (
          !existing &&
          from.collectionId !== to.collectionId &&
          (await isFull(sql, accountId, to.collectionId, condition.maxObjects))
        )
          return 'too-many' as const;
        const modseq = (await bumpModseq(sql, accountId))!;
        const type = CHANGE_TYPES[target.kind][1];
        if (existing) {
          await remove(sql, accountId, existing, modseq);
          await logChange(sql, accountId, modseq, type, existing['id'] as number, 'destroy');
        }
        await tombstone(sql, accountId, from.collectionId, from.name, modseq);
        await unTombstone(sql, accountId, to.collectionId, to.name);
        const moved = await sql.one(
          'UPDATE dav_objects SET collection_id = $1, name = $2, modseq = $3 WHERE account_id = $4 AND id = $5 RETURNING *',
          [to.collectionId, to.name, modseq, accountId, row['id']],
        );
        await count(sql, accountId, from.collectionId, -1);
        await count(sql, accountId, to.collectionId, 1);
        await touch(sql, accountId, from.collectionId, modseq);
        await touch(sql, accountId, to.collectionId, modseq);
        await logChange(sql, accountId, modseq, type, row['id'] as number, 'update');
        return { object: toObject(moved!), created: !existing };
      });
    },
    async davChanges(accountId, collectionId, since) {
      return db.tx(async (sql) => {
        await sql.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const changed = await sql.rows(
          'SELECT * FROM dav_objects WHERE account_id = $1 AND collection_id = $2 AND modseq > $3 ORDER BY modseq',
          [accountId, collectionId, since],
        );
        const removed = await sql.rows(
          'SELECT name FROM dav_tombstones WHERE account_id = $1 AND collection_id = $2 AND modseq > $3 ORDER BY modseq',
          [accountId, collectionId, since],
        );
        return { changed: changed.map(toObject), removed: removed.map((r) => r['name'] as string) };
      });
    },
  };
}
