/**
 * `portcullis queue list|show|retry|delete` over a queue filled through the services, as the
 * sending paths fill it; bad ids are one-line errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openApp } from '../../src/main.ts';
import { cli, cliOk, makeDataDir } from '../helpers/server.ts';

describe('portcullis queue', () => {
  let data: { path: string; remove(): void };
  const ids: number[] = [];
  before(async () => {
    data = makeDataDir({
      domains: ['example.test'],
      users: [{ address: 'alice@example.test', password: 'alice-password-1' }],
    });
    const app = openApp(data.path);
    try {
      const auth = await app.services.directory.authenticate(
        { protocol: 'smtp', remote: 'test', sessionId: 'test' },
        'alice@example.test',
        'alice-password-1',
      );
      assert.ok(auth.ok);
      for (const to of [['bob@remote.test', 'carol@remote.test'], ['dave@elsewhere.test']]) {
        const w = app.store.blobs.create();
        await w.write(Buffer.from(`Subject: to ${to.join(', ')}\r\n\r\nhello\r\n`));
        const r = await app.services.outbound.enqueue(auth.value, {
          sender: 'alice@example.test',
          blob: await w.finish(),
          recipients: to,
        });
        assert.ok(r.ok);
        ids.push(r.value.id);
      }
    } finally {
      await app.close();
    }
  });
  after(() => data.remove());

  test('list shows each message with the recipients still waiting', () => {
    const lines = cliOk(data.path, ['queue', 'list']).trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      new RegExp(
        `^${ids[0]}\\t\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\t\\d+\\talice@example\\.test\\tbob@remote\\.test carol@remote\\.test$`,
      ),
    );
  });

  test('show gives every recipient with its state and next attempt', () => {
    const text = cliOk(data.path, ['queue', 'show', String(ids[0])]);
    assert.match(text, /^sender: alice@example\.test$/m);
    assert.match(text, /^recipient: bob@remote\.test queued attempts=0 next=\d{4}-/m);
    assert.match(text, /^expires: \d{4}-/m);
  });

  test('retry and delete; a missing or malformed id is a one-line error', () => {
    assert.match(cliOk(data.path, ['queue', 'retry', String(ids[1])]), /will be retried/);
    assert.match(cliOk(data.path, ['queue', 'delete', String(ids[1])]), /deleted/);
    assert.equal(cliOk(data.path, ['queue', 'list']).trim().split('\n').length, 1);
    for (const args of [
      ['queue', 'show', String(ids[1])],
      ['queue', 'delete', '999999'],
      ['queue', 'retry', 'abc'],
      ['queue', 'show', '-1'],
    ]) {
      const r = cli(data.path, args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});
