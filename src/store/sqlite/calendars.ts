/**
 * @module Calendars and calendar objects of the embedded store (CalDAV). Every write takes the
 * account's next modseq, stamps the object and its calendar with it, and logs the change, so a
 * calendar's CTag and sync token are views of the per-account change log; a removed object
 * leaves a tombstone for sync-collection.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Calendar, CalendarObject, Store } from '../types.ts';

type Row = Record<string, unknown>;

const toCalendar = (r: Row): Calendar => ({
  accountId: r['account_id'] as number,
  id: r['id'] as number,
  name: r['name'] as string,
  displayName: r['display_name'] as string,
  description: r['description'] as string,
  color: r['color'] as string,
  components: r['components'] as string,
  createdAt: r['created_at'] as number,
  modseq: r['modseq'] as number,
});

const toObject = (r: Row): CalendarObject => ({
  accountId: r['account_id'] as number,
  calendarId: r['calendar_id'] as number,
  id: r['id'] as number,
  name: r['name'] as string,
  uid: r['uid'] as string,
  component: r['component'] as string,
  data: r['data'] as string,
  etag: r['etag'] as string,
  startsAt: (r['starts_at'] as number | null) ?? null,
  endsAt: (r['ends_at'] as number | null) ?? null,
  exact: r['exact'] === 1,
  modseq: r['modseq'] as number,
});

/** Calendar operations. */
export function calendarOps(
  db: Database.Database,
): Pick<
  Store,
  | 'listCalendars'
  | 'createCalendar'
  | 'updateCalendar'
  | 'deleteCalendar'
  | 'listCalendarObjects'
  | 'getCalendarObjects'
  | 'putCalendarObject'
  | 'deleteCalendarObject'
  | 'calendarChanges'
> {
  const q = {
    bump: db.prepare('UPDATE accounts SET modseq = modseq + 1 WHERE id = ? RETURNING modseq'),
    nextId: db.prepare('UPDATE accounts SET next_id = next_id + 1 WHERE id = ? RETURNING next_id - 1 AS id'),
    change: db.prepare(
      'INSERT INTO changes (account_id, modseq, type, object_id, op, mailbox_id, uid) VALUES (?, ?, ?, ?, ?, NULL, NULL)',
    ),
    calendars: db.prepare('SELECT * FROM calendars WHERE account_id = ? ORDER BY id'),
    calendar: db.prepare('SELECT * FROM calendars WHERE account_id = ? AND id = ?'),
    calendarByName: db.prepare('SELECT 1 FROM calendars WHERE account_id = ? AND name = ?'),
    insertCalendar: db.prepare(
      `INSERT INTO calendars (account_id, id, name, display_name, description, color, components, created_at, modseq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    updateCalendar: db.prepare(
      `UPDATE calendars SET display_name = coalesce(?, display_name), description = coalesce(?, description),
         color = coalesce(?, color), modseq = ? WHERE account_id = ? AND id = ? RETURNING *`,
    ),
    touchCalendar: db.prepare('UPDATE calendars SET modseq = ? WHERE account_id = ? AND id = ?'),
    deleteCalendar: db.prepare('DELETE FROM calendars WHERE account_id = ? AND id = ?'),
    objectIds: db.prepare('SELECT id FROM calendar_objects WHERE account_id = ? AND calendar_id = ?'),
    objects: db.prepare(
      'SELECT * FROM calendar_objects WHERE account_id = ? AND calendar_id = ? ORDER BY id',
    ),
    objectsIn: db.prepare(
      `SELECT * FROM calendar_objects WHERE account_id = ? AND calendar_id = ?
         AND (starts_at IS NULL OR starts_at < ?) AND (ends_at IS NULL OR ends_at > ?) ORDER BY id`,
    ),
    objectsNamed: db.prepare(
      `SELECT * FROM calendar_objects WHERE account_id = ? AND calendar_id = ?
         AND name IN (SELECT value FROM json_each(?)) ORDER BY id`,
    ),
    object: db.prepare(
      'SELECT * FROM calendar_objects WHERE account_id = ? AND calendar_id = ? AND name = ?',
    ),
    count: db.prepare('SELECT count(*) AS n FROM calendar_objects WHERE account_id = ? AND calendar_id = ?'),
    byUid: db.prepare(
      'SELECT name FROM calendar_objects WHERE account_id = ? AND calendar_id = ? AND uid = ?',
    ),
    insertObject: db.prepare(
      `INSERT INTO calendar_objects (account_id, calendar_id, id, name, uid, component, data, etag, starts_at, ends_at, exact, modseq)
       VALUES (@accountId, @calendarId, @id, @name, @uid, @component, @data, @etag, @startsAt, @endsAt, @exact, @modseq)
       RETURNING *`,
    ),
    replaceObject: db.prepare(
      `UPDATE calendar_objects SET uid = @uid, component = @component, data = @data, etag = @etag,
         starts_at = @startsAt, ends_at = @endsAt, exact = @exact, modseq = @modseq
       WHERE account_id = @accountId AND id = @id RETURNING *`,
    ),
    deleteObject: db.prepare('DELETE FROM calendar_objects WHERE account_id = ? AND id = ?'),
    tombstone: db.prepare(
      `INSERT INTO calendar_tombstones (account_id, calendar_id, name, modseq) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, calendar_id, name) DO UPDATE SET modseq = excluded.modseq`,
    ),
    unTombstone: db.prepare(
      'DELETE FROM calendar_tombstones WHERE account_id = ? AND calendar_id = ? AND name = ?',
    ),
    changedSince: db.prepare(
      'SELECT * FROM calendar_objects WHERE account_id = ? AND calendar_id = ? AND modseq > ? ORDER BY modseq',
    ),
    removedSince: db.prepare(
      'SELECT name FROM calendar_tombstones WHERE account_id = ? AND calendar_id = ? AND modseq > ? ORDER BY modseq',
    ),
  };
  const bump = (accountId: number): number | null =>
    ((q.bump.get(accountId) as Row | undefined)?.['modseq'] as number | undefined) ?? null;
  const etagOf = (data: string) => `"${createHash('sha256').update(data).digest('hex').slice(0, 32)}"`;

  return {
    async listCalendars(accountId) {
      return (q.calendars.all(accountId) as Row[]).map(toCalendar);
    },
    async createCalendar(accountId, input, now) {
      return db.transaction((): Calendar | 'exists' | 'not-found' => {
        if (q.calendarByName.get(accountId, input.name)) return 'exists';
        const modseq = bump(accountId);
        if (modseq === null) return 'not-found';
        const id = (q.nextId.get(accountId) as Row)['id'] as number;
        const row = q.insertCalendar.get(
          accountId,
          id,
          input.name,
          input.displayName,
          input.description,
          input.color,
          input.components,
          now,
          modseq,
        ) as Row;
        q.change.run(accountId, modseq, 'Calendar', id, 'create');
        return toCalendar(row);
      })();
    },
    async updateCalendar(accountId, id, patch) {
      return db.transaction((): Calendar | 'not-found' => {
        if (!q.calendar.get(accountId, id)) return 'not-found';
        const modseq = bump(accountId)!;
        const row = q.updateCalendar.get(
          patch.displayName ?? null,
          patch.description ?? null,
          patch.color ?? null,
          modseq,
          accountId,
          id,
        ) as Row;
        q.change.run(accountId, modseq, 'Calendar', id, 'update');
        return toCalendar(row);
      })();
    },
    async deleteCalendar(accountId, id) {
      return db.transaction((): 'ok' | 'not-found' => {
        if (!q.calendar.get(accountId, id)) return 'not-found';
        const modseq = bump(accountId)!;
        for (const r of q.objectIds.all(accountId, id) as Row[])
          q.change.run(accountId, modseq, 'CalendarObject', r['id'], 'destroy');
        q.deleteCalendar.run(accountId, id);
        q.change.run(accountId, modseq, 'Calendar', id, 'destroy');
        return 'ok';
      })();
    },
    async listCalendarObjects(accountId, calendarId, range) {
      const rows = range
        ? q.objectsIn.all(accountId, calendarId, range.end, range.start)
        : q.objects.all(accountId, calendarId);
      return (rows as Row[]).map(toObject);
    },
    async getCalendarObjects(accountId, calendarId, names) {
      return (q.objectsNamed.all(accountId, calendarId, JSON.stringify(names)) as Row[]).map(toObject);
    },
    async putCalendarObject(accountId, calendarId, input, condition) {
      return db.transaction(() => {
        if (!q.calendar.get(accountId, calendarId)) return 'not-found' as const;
        const existing = q.object.get(accountId, calendarId, input.name) as Row | undefined;
        if (condition.ifNoneMatch && existing) return 'precondition-failed' as const;
        if (condition.ifMatch !== undefined && existing?.['etag'] !== condition.ifMatch)
          return 'precondition-failed' as const;
        const sameUid = q.byUid.get(accountId, calendarId, input.uid) as Row | undefined;
        if (sameUid && sameUid['name'] !== input.name) return 'uid-conflict' as const;
        if (
          !existing &&
          condition.maxObjects !== undefined &&
          ((q.count.get(accountId, calendarId) as Row)['n'] as number) >= condition.maxObjects
        )
          return 'too-many' as const;
        const modseq = bump(accountId)!;
        const values = {
          accountId,
          calendarId,
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
          q.unTombstone.run(accountId, calendarId, input.name);
        }
        q.touchCalendar.run(modseq, accountId, calendarId);
        q.change.run(accountId, modseq, 'CalendarObject', row['id'], existing ? 'update' : 'create');
        return { object: toObject(row), created: !existing };
      })();
    },
    async deleteCalendarObject(accountId, calendarId, name, ifMatch) {
      return db.transaction((): 'ok' | 'not-found' | 'precondition-failed' => {
        const existing = q.object.get(accountId, calendarId, name) as Row | undefined;
        if (!existing) return 'not-found';
        if (ifMatch !== undefined && existing['etag'] !== ifMatch) return 'precondition-failed';
        const modseq = bump(accountId)!;
        q.deleteObject.run(accountId, existing['id']);
        q.tombstone.run(accountId, calendarId, name, modseq);
        q.touchCalendar.run(modseq, accountId, calendarId);
        q.change.run(accountId, modseq, 'CalendarObject', existing['id'], 'destroy');
        return 'ok';
      })();
    },
    async calendarChanges(accountId, calendarId, since) {
      return {
        changed: (q.changedSince.all(accountId, calendarId, since) as Row[]).map(toObject),
        removed: (q.removedSince.all(accountId, calendarId, since) as Row[]).map((r) => r['name'] as string),
      };
    },
  };
}
