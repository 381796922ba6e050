/**
 * vdirsyncer (Debian) syncs a calendar and an address book both ways with folders of .ics and
 * .vcf files: server items come down, local ones go up, changes on either side cross over, and
 * a further run changes nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir, useServer } from '../helpers/server.ts';

const USER = { address: 'eve@example.test', password: 'eve-password-12' };
/** What differs between the calendar and the address book runs. */
const KINDS = {
  calendar: {
    storage: 'caldav',
    path: 'calendars',
    collection: 'calendar',
    ext: '.ics',
    type: 'text/calendar',
    item: (uid: string, text: string) =>
      `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:${text}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`,
    field: 'SUMMARY:',
  },
  addressbook: {
    storage: 'carddav',
    path: 'addressbooks',
    collection: 'contacts',
    ext: '.vcf',
    type: 'text/vcard',
    item: (uid: string, text: string) =>
      `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${text}\r\nN:${text};;;;\r\nEMAIL;TYPE=INTERNET:${uid}@example.test\r\nEND:VCARD\r\n`,
    field: 'FN:',
  },
} as const;

describe('vdirsyncer interop', () => {
  const ctx = useServer({ domains: ['example.test'], users: [USER] }, ['http=127.0.0.1:0']);

  for (const [name, kind] of Object.entries(KINDS))
    test(`two-way ${name} sync, then a run with nothing to do`, async () => {
      await roundTrip(kind);
    });

  async function roundTrip(kind: (typeof KINDS)[keyof typeof KINDS]) {
    const item = kind.item;
    const dir = tempDir('portcullis-vdirsyncer-');
    try {
      const local = join(dir.path, 'local');
      mkdirSync(local);
      mkdirSync(join(dir.path, 'status'));
      const base = `http://127.0.0.1:${ctx.server.ports['http']}`;
      const url = `${base}/dav/${kind.path}/${encodeURIComponent(USER.address)}/${kind.collection}/`;
      const auth = `Basic ${Buffer.from(`${USER.address}:${USER.password}`).toString('base64')}`;
      const put = (name: string, body: string, headers: Record<string, string> = {}) =>
        fetch(`${url}${name}`, {
          method: 'PUT',
          headers: { Authorization: auth, 'Content-Type': kind.type, ...headers },
          body,
        });
      assert.equal((await put(`server1${kind.ext}`, item('server1', 'made on the server'))).status, 201);
      writeFileSync(join(local, `local1${kind.ext}`), item('local1', 'made on disk'));
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
          `fileext = "${kind.ext}"`,
          '[storage remote]',
          `type = "${kind.storage}"`,
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
        return (await r.text()).match(/[^/<>]+\.(ics|vcf)(?=<)/g) ?? [];
      };
      assert.equal((await onServer()).length, 2);

      // A change on each side crosses over.
      const mine = readdirSync(local).find((f) =>
        readFileSync(join(local, f), 'utf8').includes('UID:local1'),
      )!;
      writeFileSync(join(local, mine), item('local1', 'changed on disk'));
      assert.equal((await put(`server1${kind.ext}`, item('server1', 'changed on the server'))).status, 204);
      const second = sync();
      assert.equal(second.length, 2, second.join('\n'));
      const texts = readdirSync(local).map((f) => readFileSync(join(local, f), 'utf8'));
      assert.ok(texts.some((t) => t.includes(`${kind.field}changed on the server`)));
      const names = await onServer();
      const remote = await Promise.all(
        names.map(async (n) => (await fetch(`${url}${n}`, { headers: { Authorization: auth } })).text()),
      );
      assert.ok(remote.some((t) => t.includes(`${kind.field}changed on disk`)));

      assert.deepEqual(sync(), [], 'nothing left to do');
    } finally {
      dir.remove();
    }
  }
});
