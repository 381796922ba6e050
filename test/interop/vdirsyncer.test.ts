/**
 * vdirsyncer (Debian) syncs a calendar both ways with a folder of .ics files: server events come
 * down, local ones go up, changes on either side cross over, and a further run changes nothing.
 * (The address-book half of this waits for CardDAV.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir, useServer } from '../helpers/server.ts';

const USER = { address: 'eve@example.test', password: 'eve-password-12' };
const ics = (uid: string, summary: string) =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;

describe('vdirsyncer interop', () => {
  const ctx = useServer({ domains: ['example.test'], users: [USER] }, ['http=127.0.0.1:0']);

  test('two-way calendar sync, then a run with nothing to do', async () => {
    const dir = tempDir('portcullis-vdirsyncer-');
    try {
      const local = join(dir.path, 'local');
      mkdirSync(local);
      mkdirSync(join(dir.path, 'status'));
      const base = `http://127.0.0.1:${ctx.server.ports['http']}`;
      const url = `${base}/dav/calendars/${encodeURIComponent(USER.address)}/calendar/`;
      const auth = `Basic ${Buffer.from(`${USER.address}:${USER.password}`).toString('base64')}`;
      const put = (name: string, body: string, headers: Record<string, string> = {}) =>
        fetch(`${url}${name}`, {
          method: 'PUT',
          headers: { Authorization: auth, 'Content-Type': 'text/calendar', ...headers },
          body,
        });
      assert.equal((await put('server1.ics', ics('server1', 'made on the server'))).status, 201);
      writeFileSync(join(local, 'local1.ics'), ics('local1', 'made on disk'));
      const config = join(dir.path, 'config');
      writeFileSync(
        config,
        [
          '[general]',
          `status_path = "${join(dir.path, 'status')}/"`,
          '[pair cal]',
          'a = "local"',
          'b = "remote"',
          'collections = null',
          '[storage local]',
          'type = "filesystem"',
          `path = "${local}/"`,
          'fileext = ".ics"',
          '[storage remote]',
          'type = "caldav"',
          `url = "${url}"`,
          `username = "${USER.address}"`,
          `password = "${USER.password}"`,
          '',
        ].join('\n'),
      );
      const sync = () => {
        const r = spawnSync('vdirsyncer', ['-c', config, 'sync'], { encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 0, `vdirsyncer failed: ${r.stdout}${r.stderr}`);
        return (r.stdout + r.stderr).split('\n').filter((l) => /Copying|Deleting/.test(l));
      };
      const discover = spawnSync('vdirsyncer', ['-c', config, 'discover'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(discover.status, 0, discover.stderr);
      const first = sync();
      assert.equal(first.length, 2, first.join('\n'));
      assert.equal(readdirSync(local).length, 2);
      const onServer = async () => {
        const r = await fetch(url, {
          method: 'PROPFIND',
          headers: { Authorization: auth, Depth: '1', 'Content-Type': 'application/xml' },
          body: '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>',
        });
        return (await r.text()).match(/[^/<>]+\.ics/g) ?? [];
      };
      assert.equal((await onServer()).length, 2);

      // A change on each side crosses over.
      const mine = readdirSync(local).find((f) =>
        readFileSync(join(local, f), 'utf8').includes('UID:local1'),
      )!;
      writeFileSync(join(local, mine), ics('local1', 'changed on disk'));
      assert.equal((await put('server1.ics', ics('server1', 'changed on the server'))).status, 204);
      const second = sync();
      assert.equal(second.length, 2, second.join('\n'));
      const texts = readdirSync(local).map((f) => readFileSync(join(local, f), 'utf8'));
      assert.ok(texts.some((t) => t.includes('SUMMARY:changed on the server')));
      const names = await onServer();
      const remote = await Promise.all(
        names.map(async (n) => (await fetch(`${url}${n}`, { headers: { Authorization: auth } })).text()),
      );
      assert.ok(remote.some((t) => t.includes('SUMMARY:changed on disk')));

      assert.deepEqual(sync(), [], 'nothing left to do');
    } finally {
      dir.remove();
    }
  });
});
