/**
 * COMPRESS=DEFLATE (RFC 4978) with its decompression bound (ATTACKS.md IM-10).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { RawImap } from '../helpers/imap.ts';
import { useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP COMPRESS', () => {
  const f = useImapFixture(['Subject: hello\r\n\r\nsome text\r\n']);

  test('commands and responses flow compressed; a second COMPRESS is COMPRESSIONACTIVE', async () => {
    const c = await f().login();
    assert.match((await c.cmd('CAPABILITY')).untagged[0]!, /COMPRESS=DEFLATE/);
    assert.equal((await c.cmd('COMPRESS DEFLATE')).status, 'OK');
    c.compress();
    const sel = await c.cmd('SELECT INBOX');
    assert.ok(sel.untagged.includes('* 1 EXISTS'));
    assert.match((await c.cmd('FETCH 1 (BODY.PEEK[TEXT])')).untagged[0]!, /some text/);
    assert.match((await c.cmd('COMPRESS DEFLATE')).text, /^\[COMPRESSIONACTIVE\]/);
    assert.doesNotMatch((await c.cmd('CAPABILITY')).untagged[0]!, /COMPRESS=DEFLATE/);
    c.close();
  });

  test('unknown algorithms are BAD; COMPRESS needs authentication', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd('COMPRESS DEFLATE')).status, 'BAD');
    c.close();
    const a = await f().login();
    assert.notEqual((await a.cmd('COMPRESS GZIP')).status, 'OK');
    assert.equal((await a.cmd('COMPRESS')).status, 'BAD');
    assert.equal((await a.cmd('NOOP')).status, 'OK', 'still uncompressed and usable');
    a.close();
  });

  test('IM-10: a deflate bomb ends the session without exhausting memory', async () => {
    const c = await f().login();
    await c.cmd('COMPRESS DEFLATE');
    const bomb = deflateRawSync(Buffer.alloc(64 * 1024 * 1024, 0x61), { level: 9 });
    assert.ok(bomb.length < 100 * 1024, 'a small input');
    c.writeRaw(bomb);
    assert.ok(await c.closedByServer(20_000), 'connection closed');
    const again = await f().login();
    assert.equal((await again.cmd('NOOP')).status, 'OK', 'the server is fine');
    again.close();
  });
});
