/**
 * Authorization in the services layer (ATTACKS.md R2, R12): only issued principals count, mail is
 * read only by its owner, and administration needs the local administrator.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zoneResolver } from '../../test/helpers/dns.ts';
import { systemClock } from '../core/clock.ts';
import { silentLogger } from '../core/log.ts';
import { openSqliteStore } from '../store/sqlite/store.ts';
import type { Store } from '../store/types.ts';
import { localAdminContext } from './admin.ts';
import { anonymousContext, type Ctx, createServices, type Services } from './index.ts';

const origin = { protocol: 'imap' as const, remote: '127.0.0.1', sessionId: 't' };

describe('services authorization', () => {
  let dir: string;
  let store: Store;
  let svc: Services;
  let alice: Ctx;
  let bob: Ctx;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-svc-'));
    store = openSqliteStore({ dir });
    svc = createServices({
      store,
      clock: systemClock,
      log: silentLogger(),
      settings: {
        maxMessageSize: 1 << 20,
        maxReceivedHeaders: 50,
        hostname: 'mail.example.test',
        maxMessagesPerHour: 100,
        inbound: null,
      },
      resolver: zoneResolver({}),
    });
    const admin = localAdminContext();
    await svc.directory.addDomain(admin, 'example.test');
    await svc.directory.addUser(admin, 'alice@example.test', 'alice-password');
    await svc.directory.addUser(admin, 'bob@example.test', 'bob-password-1');
    const a = await svc.directory.authenticate(origin, 'alice@example.test', 'alice-password');
    const b = await svc.directory.authenticate(origin, 'BOB@example.test', 'bob-password-1');
    assert.ok(a.ok && b.ok);
    alice = a.value;
    bob = b.value;
    const inbox = (await svc.mail.listMailboxes(alice)) as {
      ok: true;
      value: { id: number; name: string }[];
    };
    const r = await svc.mail.append(
      alice,
      inbox.value.find((m) => m.name === 'INBOX')!.id,
      Buffer.from('Subject: private\r\n\r\nalice only\r\n'),
      { flags: [], receivedAt: null },
    );
    assert.ok(r.ok);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a forged principal object is refused everywhere', async () => {
    const forged = {
      principal: { kind: 'account', accountId: 1, address: 'alice@example.test' },
      ...origin,
    } as Ctx;
    assert.deepEqual(await svc.mail.listMailboxes(forged), { ok: false, error: 'forbidden' });
    const forgedAdmin = { principal: { kind: 'admin', name: 'x' }, ...origin } as Ctx;
    assert.equal((await svc.directory.addDomain(forgedAdmin, 'evil.test')).ok, false);
    assert.equal((await svc.directory.listUsers(forgedAdmin)).ok, false);
  });

  test('anonymous and administrator contexts cannot read mail', async () => {
    for (const ctx of [anonymousContext(origin), localAdminContext()]) {
      assert.deepEqual(await svc.mail.listMailboxes(ctx), { ok: false, error: 'forbidden' });
      assert.deepEqual(await svc.mail.readRaw(ctx, 1), { ok: false, error: 'forbidden' });
      assert.deepEqual(await svc.mail.search(ctx, 'private'), { ok: false, error: 'forbidden' });
    }
  });

  test("a user never reaches another user's messages, by id, by view or by search", async () => {
    const mine = await svc.mail.search(alice, 'private');
    assert.ok(mine.ok && mine.value.length === 1);
    const id = mine.value[0]!;
    const views = await svc.mail.getMessages(alice, [id]);
    assert.ok(views.ok);
    const view = views.value[0]!;
    assert.deepEqual(await svc.mail.search(bob, 'private'), { ok: true, value: [] });
    assert.deepEqual(await svc.mail.readRawOf(bob, view), { ok: false, error: 'forbidden' });
    const bobs = await svc.mail.getMessages(bob, [id]);
    assert.ok(
      bobs.ok && bobs.value.every((m) => m.accountId === (bob.principal as { accountId: number }).accountId),
    );
    const raw = await svc.mail.readRaw(bob, id);
    assert.ok(!raw.ok || !raw.value.toString().includes('alice only'));
  });

  test('users cannot administer; a user may change only their own password', async () => {
    assert.equal((await svc.directory.addUser(alice, 'x@example.test', 'whatever-1')).ok, false);
    assert.equal((await svc.directory.setPassword(alice, 'bob@example.test', 'stolen-password')).ok, false);
    assert.equal(
      (await svc.directory.setPassword(alice, 'alice@example.test', 'new-alice-password')).ok,
      true,
    );
    assert.equal(
      (await svc.directory.authenticate(origin, 'alice@example.test', 'new-alice-password')).ok,
      true,
    );
  });

  test('the outbound queue: a user may only add to it; only the administrator reads it', async () => {
    const w = store.blobs.create();
    await w.write(Buffer.from('Subject: out\r\n\r\nhello'));
    const blob = await w.finish();
    const queued = await svc.outbound.enqueue(alice, {
      sender: 'alice@example.test',
      blob,
      recipients: ['x@remote.test'],
    });
    assert.ok(queued.ok);
    assert.equal(queued.value.accountId, alice.principal.kind === 'account' ? alice.principal.accountId : -1);
    const anon = anonymousContext(origin);
    assert.equal(
      (await svc.outbound.enqueue(anon, { sender: '', blob, recipients: ['x@remote.test'] })).ok,
      false,
    );
    assert.equal((await svc.outbound.enqueue(alice, { sender: 'a', blob, recipients: [] })).ok, false);
    for (const ctx of [alice, bob, anon]) {
      assert.deepEqual(await svc.outbound.list(ctx), { ok: false, error: 'forbidden' });
      assert.deepEqual(await svc.outbound.show(ctx, queued.value.id), { ok: false, error: 'forbidden' });
      assert.deepEqual(await svc.outbound.remove(ctx, queued.value.id), { ok: false, error: 'forbidden' });
    }
    const admin = localAdminContext();
    const list = await svc.outbound.list(admin);
    assert.ok(list.ok && list.value.some((m) => m.id === queued.value.id));
    assert.equal((await svc.outbound.remove(admin, queued.value.id)).ok, true);
  });
});
