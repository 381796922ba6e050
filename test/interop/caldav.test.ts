/**
 * python3-caldav (Debian) against the CalDAV listener: discovery of the principal and calendar
 * home, a new calendar, single and recurring events (with an EXDATE and a moved instance),
 * time-range queries that expand recurrence, multiget, an update, a removal, and sync-collection
 * before and after, with nothing new on a second sync.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, useServer } from '../helpers/server.ts';

const USER = { address: 'carol@example.test', password: 'carol-password-1' };

describe('python3-caldav interop', () => {
  const ctx = useServer({ domains: ['example.test'], users: [USER] }, ['http=127.0.0.1:0']);

  test('discover, create a calendar, store, query, multiget, update, delete and sync', () => {
    const url = `http://127.0.0.1:${ctx.server.ports['http']}/dav/`;
    const r = spawnSync(
      '/usr/bin/python3',
      [join(ROOT, 'test/interop/python/caldav_flow.py'), url, USER.address, USER.password],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, `python3-caldav failed:\n${r.stderr}\n${r.stdout}`);
    const seen = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const home = `/dav/calendars/${encodeURIComponent(USER.address)}/`;
    assert.ok(seen.home.endsWith(home), seen.home);
    assert.equal(seen.calendars_before.length, 1, 'a default calendar exists');
    assert.ok(seen.calendar.endsWith(`${home}work/`));
    assert.deepEqual(seen.names, ['Calendar', 'Work']);
    assert.equal(seen.events, 3);
    assert.deepEqual(seen.december, ['single-1', 'weekly-1'], 'the moved instance is in December');
    assert.deepEqual(seen.excluded_week, [], 'the excluded instance is not there');
    assert.deepEqual(seen.march, ['later-1']);
    assert.deepEqual(seen.multiget, ['later-1', 'single-1', 'weekly-1']);
    assert.equal(seen.sync_first, 3);
    assert.equal(seen.updated, true);
    assert.equal(seen.sync_changed.length, 2, `changed and removed: ${seen.sync_changed}`);
    assert.equal(seen.sync_token_moved, true);
    assert.equal(seen.sync_again, 0);
    assert.equal(seen.events_after, 2);
  });
});
