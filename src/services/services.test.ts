/**
 * Authorization in the services layer (ATTACKS.md R2, R12): only issued principals count, mail is
 * read only by its owner, and administration needs the local administrator.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zoneResolver } from '../../test/helpers/dns.ts';
import { silentLogger } from '../core/log.ts';
import { openSqliteStore } from '../store/sqlite/store.ts';
import type { Store } from '../store/types.ts';
import { localAdminContext } from './admin.ts';
import { anonymousContext, type Ctx, createServices, type ServiceSettings, type Services } from './index.ts';

const origin = { protocol: 'imap' as const, remote: '127.0.0.1', sessionId: 't' };
/** A clock the tests move forward. */
const clock = { t: Date.now(), now: () => clock.t };

describe('services authorization', () => {
  let dir: string;
  let store: Store;
  let svc: Services;
  let alice: Ctx;
  let bob: Ctx;
  /** Services on the suite's store and clock, with settings changed as given. */
  const servicesWith = (changed: Partial<ServiceSettings>): Services =>
    createServices({
      store,
      clock,
      log: silentLogger(),
      settings: {
        maxMessageSize: 1 << 20,
        maxReceivedHeaders: 50,
        hostname: 'mail.example.test',
        maxMessagesPerHour: 100,
        inbound: null,
        sessions: { idleMs: 3_600_000, lifetimeMs: 86_400_000 },
        ...changed,
      },
      resolver: zoneResolver({}),
    });
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-svc-'));
    store = openSqliteStore({ dir });
    svc = servicesWith({});
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
    await svc.flush();
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

  test('app passwords: only for their scopes, until they expire or are revoked; owner or admin only', async () => {
    const d = svc.directory;
    const admin = localAdminContext();
    const imapOnly = await d.addAppPassword(alice, 'alice@example.test', {
      label: 'tablet',
      scopes: ['imap'],
      expiresAt: clock.now() + 60_000,
    });
    assert.ok(imapOnly.ok);
    const pw = imapOnly.value.password;
    assert.match(pw, /^([a-z2-9]{4}-){4}[a-z2-9]{4}$/);
    const login = (protocol: 'imap' | 'submission' | 'jmap', password: string) =>
      d.authenticate({ ...origin, protocol }, 'alice@example.test', password).then((r) => r.ok);
    assert.equal(await login('imap', pw), true);
    assert.equal(
      await login('imap', pw.toUpperCase().replaceAll('-', ' ')),
      true,
      'case and separators ignored',
    );
    assert.equal(await login('submission', pw), false, 'not in its scopes');
    assert.equal(await login('jmap', pw), false);
    const bobLogin = await d.authenticate(origin, 'bob@example.test', pw);
    assert.equal(bobLogin.ok, false, "not another account's password");
    clock.t += 61_000;
    assert.equal(await login('imap', pw), false, 'expired');

    assert.equal(
      (await d.addAppPassword(bob, 'alice@example.test', { label: 'x', scopes: ['imap'], expiresAt: null }))
        .ok,
      false,
    );
    assert.equal((await d.listAppPasswords(bob, 'alice@example.test')).ok, false);
    assert.equal((await d.removeAppPassword(bob, 'alice@example.test', imapOnly.value.id)).ok, false);
    for (const bad of [
      { label: '', scopes: ['imap'], expiresAt: null },
      { label: 'x', scopes: [], expiresAt: null },
      { label: 'x', scopes: ['imap', 'web'], expiresAt: null },
      { label: 'x', scopes: ['imap'], expiresAt: clock.now() - 1 },
      { label: 'a\nb', scopes: ['imap'], expiresAt: null },
    ])
      assert.equal((await d.addAppPassword(alice, 'alice@example.test', bad)).ok, false, JSON.stringify(bad));

    const smtp = await d.addAppPassword(admin, 'alice@example.test', {
      label: 'mailer',
      scopes: ['smtp'],
      expiresAt: null,
    });
    assert.ok(smtp.ok);
    assert.equal(await login('submission', smtp.value.password), true);
    const listed = await d.listAppPasswords(alice, 'alice@example.test');
    assert.ok(listed.ok);
    assert.deepEqual(
      listed.value.map((p) => [p.label, p.scopes, p.lastUsedAt !== null]),
      [
        ['tablet', ['imap'], true],
        ['mailer', ['smtp'], true],
      ],
    );
    assert.ok(!JSON.stringify(listed.value).includes(smtp.value.password), 'never listed again');
    assert.equal((await d.removeAppPassword(alice, 'alice@example.test', smtp.value.id)).ok, true);
    assert.equal(await login('submission', smtp.value.password), false, 'revoked');
  });

  test('credential changes need the password entered within five minutes, never an app password', async () => {
    const d = svc.directory;
    const web = { protocol: 'web' as const, remote: '127.0.0.1', sessionId: 'w' };
    const app = await d.addAppPassword(localAdminContext(), 'alice@example.test', {
      label: 'imap client',
      scopes: ['imap'],
      expiresAt: null,
    });
    assert.ok(app.ok);
    const viaApp = await d.authenticate(origin, 'alice@example.test', app.value.password);
    assert.ok(viaApp.ok);
    const item = { label: 'x', scopes: ['imap'], expiresAt: null };
    assert.deepEqual(await d.addAppPassword(viaApp.value, 'alice@example.test', item), {
      ok: false,
      error: 'stale',
    });
    assert.equal((await d.setPassword(viaApp.value, 'alice@example.test', 'other-password-1')).ok, false);

    const signedIn = await svc.signIn.signIn(web, 'test', 'alice@example.test', 'new-alice-password');
    assert.ok(signedIn.ok);
    const token = signedIn.value.token;
    assert.equal((await d.addAppPassword(signedIn.value.ctx, 'alice@example.test', item)).ok, true, 'fresh');
    clock.t += 6 * 60_000;
    const later = await svc.signIn.resume(web, token);
    assert.ok(later.ok);
    const ctx = later.value.ctx;
    assert.deepEqual(await d.addAppPassword(ctx, 'alice@example.test', item), { ok: false, error: 'stale' });
    assert.deepEqual(await svc.signIn.beginTotp(ctx), { ok: false, error: 'stale' });
    assert.deepEqual(await svc.signIn.removeTotp(ctx), { ok: false, error: 'stale' });
    assert.deepEqual(await d.setPassword(ctx, 'alice@example.test', 'other-password-1'), {
      ok: false,
      error: 'stale',
    });
    assert.equal((await svc.signIn.reauthenticate(ctx, 'wrong-password')).ok, false);
    const again = await svc.signIn.reauthenticate(ctx, 'new-alice-password');
    assert.ok(again.ok);
    assert.equal((await d.addAppPassword(again.value, 'alice@example.test', item)).ok, true);
    // The session remembers: the next request of the same browser is fresh too.
    const resumed = await svc.signIn.resume(web, token);
    assert.ok(resumed.ok);
    assert.equal((await svc.signIn.beginTotp(resumed.value.ctx)).ok, true);
    // Bob cannot act on Alice's sessions.
    const sessions = await svc.signIn.listSessions(resumed.value.ctx);
    assert.ok(sessions.ok);
    const id = sessions.value[0]!.id;
    assert.deepEqual(await svc.signIn.revokeSession(bob, id), { ok: false, error: 'not-found' });
    // An idle session ends after the idle time (an hour here); signing in again works.
    clock.t += 61 * 60_000;
    assert.equal((await svc.signIn.resume(web, token)).ok, false);
    assert.equal((await svc.signIn.resume(web, token.replace(/_(\d+)_/, '_999_'))).ok, false);
  });

  test('alerts: a sign-in from a network the account never used; only the administrator lists them', async () => {
    const from = (remote: string) =>
      svc.directory.authenticate({ ...origin, remote }, 'bob@example.test', 'bob-password-1');
    const kinds = async () => {
      const r = await svc.alerts.list(localAdminContext(), 0, 1000);
      assert.ok(r.ok);
      return r.value.filter((a) => a.kind === 'auth.new-network').map((a) => a.detail['network']);
    };
    const settled = async (want: number) => {
      for (let i = 0; i < 100 && (await kinds()).length < want; i++)
        await new Promise((r) => setTimeout(r, 20));
      return kinds();
    };
    assert.ok((await from('192.0.2.10')).ok);
    assert.ok((await from('192.0.2.99')).ok, 'same /24');
    assert.ok((await from('::ffff:192.0.2.7')).ok, 'the same network, mapped');
    // Bob's first sign-in (from 127.0.0.1, before these tests) was the baseline.
    assert.deepEqual(await settled(1), ['192.0.2.0/24'], 'one alert for the new /24');
    assert.ok((await from('198.51.100.4')).ok);
    assert.ok((await from('2001:db8:1:2::5')).ok);
    assert.deepEqual(await settled(3), ['192.0.2.0/24', '198.51.100.0/24', '2001:db8:1::/48']);
    assert.deepEqual(await svc.alerts.list(bob, 0, 10), { ok: false, error: 'forbidden' });
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

  test('forwarding: owner with fresh authentication or administrator; local and remote targets; with or without a copy', async () => {
    const d = svc.directory;
    const to = { targets: ['alice@example.test', 'bob.elsewhere@remote.test'], keepCopy: false };
    assert.deepEqual(await d.setForwarding(bob, 'bob@example.test', to), { ok: false, error: 'stale' });
    const fresh = await svc.signIn.reauthenticate(bob, 'bob-password-1');
    assert.ok(fresh.ok);
    const bobNow = fresh.value;
    assert.equal((await d.setForwarding(bobNow, 'alice@example.test', to)).ok, false, "not Bob's to set");
    assert.deepEqual(await d.getForwarding(bobNow, 'alice@example.test'), { ok: false, error: 'forbidden' });
    for (const targets of [
      ['bob@example.test'],
      ['not an address'],
      Array.from({ length: 11 }, (_, i) => `t${i}@remote.test`),
    ])
      assert.equal(
        (await d.setForwarding(bobNow, 'bob@example.test', { targets, keepCopy: true })).ok,
        false,
        targets[0],
      );
    assert.deepEqual(await d.setForwarding(bobNow, 'bob@example.test', to), { ok: true, value: undefined });
    assert.deepEqual(await d.getForwarding(localAdminContext(), 'bob@example.test'), { ok: true, value: to });

    /** Messages in the INBOX of `ctx` with this subject (security notices arrive too). */
    const count = async (ctx: Ctx, subject: string) => {
      const boxes = await svc.mail.listMailboxes(ctx);
      assert.ok(boxes.ok);
      const inbox = boxes.value.find((b) => b.name === 'INBOX')!;
      const entries = await svc.mail.listEntries(ctx, inbox.id);
      assert.ok(entries.ok);
      let n = 0;
      for (const e of entries.value) {
        const m = await svc.mail.getMessage(ctx, e.messageId);
        if (m.ok && m.value.subject === subject) n++;
      }
      return n;
    };
    const deliver = async (subject: string) => {
      const intake = svc.delivery.begin(
        anonymousContext({ protocol: 'smtp', remote: '192.0.2.1', sessionId: 'f' }),
        {
          mailFrom: 'someone@remote.test',
          recipients: ['bob@example.test'],
          prefix: () => Buffer.alloc(0),
        },
      );
      await intake.write(Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`));
      return intake.commit();
    };
    assert.equal((await deliver('forward me')).ok, true);
    assert.deepEqual(
      [await count(alice, 'forward me'), await count(bobNow, 'forward me')],
      [1, 0],
      'no copy kept',
    );
    const queue = await svc.outbound.list(localAdminContext());
    assert.ok(queue.ok);
    const out = queue.value.find((m) => m.sender === 'bob@example.test');
    assert.deepEqual(
      out?.recipients.map((r) => r.address),
      ['bob.elsewhere@remote.test'],
    );
    await new Promise((r) => setTimeout(r, 150));
    const sent = await svc.audit.search(localAdminContext(), { actionPrefix: 'mail.forward', limit: 50 });
    assert.ok(sent.ok);
    const forwarded = sent.value.filter((e) => e.action === 'mail.forward');
    assert.equal(forwarded.length, 1, 'one record per forwarded message');
    const detail = (JSON.parse(forwarded[0]!.text) as { detail: Record<string, unknown> }).detail;
    assert.equal(detail['remote'], 1);
    assert.equal(detail['queue'], out?.id);

    assert.equal((await d.setForwarding(localAdminContext(), 'bob@example.test', null)).ok, true);
    assert.deepEqual(await d.getForwarding(bobNow, 'bob@example.test'), { ok: true, value: null });

    // With external forwarding off by policy, only local targets are taken (SV-06).
    const strict = servicesWith({ externalForwarding: false });
    assert.deepEqual(await strict.directory.setForwarding(bobNow, 'bob@example.test', to), {
      ok: false,
      error: 'forbidden',
      detail: 'forwarding to other domains is not allowed here',
    });
    assert.deepEqual(await d.getForwarding(bobNow, 'bob@example.test'), { ok: true, value: null });
    const local = { targets: ['alice@example.test'], keepCopy: true };
    assert.equal((await strict.directory.setForwarding(bobNow, 'bob@example.test', local)).ok, true);
    assert.equal((await d.setForwarding(localAdminContext(), 'bob@example.test', null)).ok, true);
    await strict.flush();
    assert.equal((await deliver('keep me')).ok, true);
    assert.deepEqual([await count(alice, 'keep me'), await count(bobNow, 'keep me')], [0, 1]);
  });

  test('sending mail and deleting it are in the audit log (who, how much; never to whom)', async () => {
    const fresh = await svc.signIn.reauthenticate(bob, 'bob-password-1');
    assert.ok(fresh.ok);
    const sent = await svc.submission.submit(fresh.value, {
      mailFrom: 'bob@example.test',
      recipients: ['alice@example.test', 'someone@remote.test'],
      raw: Buffer.from('From: bob@example.test\r\nTo: alice@example.test\r\nSubject: hi\r\n\r\nhello\r\n'),
      received: () => '',
    });
    assert.ok(sent.ok, JSON.stringify(sent));
    const box = await svc.mail.createMailbox(bob, 'Old');
    assert.ok(box.ok);
    await svc.mail.append(bob, box.value.id, Buffer.from('Subject: old\r\n\r\nx\r\n'), {
      flags: [],
      receivedAt: null,
    });
    assert.ok((await svc.mail.deleteMailbox(bob, box.value.id)).ok);
    await new Promise((r) => setTimeout(r, 200)); // the audit path writes in batches
    const found = await svc.audit.search(localAdminContext(), { actionPrefix: 'mail', limit: 100 });
    assert.ok(found.ok);
    const records = found.value.map((r) => JSON.parse(r.text) as Record<string, any>);
    const send = records.find((r) => r.action === 'mail.send');
    assert.deepEqual([send?.detail.local, send?.detail.remote], [1, 1]);
    assert.ok(!JSON.stringify(send).includes('someone@remote.test'), 'recipients are not recorded');
    const del = records.find((r) => r.action === 'mail.delete' && r.detail.wholeMailbox);
    assert.equal(del?.detail.messages, 1);
  });
  test('remote images: only an image the message refers to, for its owner; kept a while; limited per hour', async () => {
    const hits: string[] = [];
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const host = createServer((req, res) => {
      hits.push(req.url ?? '');
      // Every answer claims to be a PNG; one is a web page.
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(req.url === '/page.png' ? '<html><script>alert(1)</script>' : png);
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const H = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    try {
      const images = servicesWith({ imageNetworks: ['127.0.0.1/32'], imageFetchesPerHour: 3 });
      const inbox = await images.mail.listMailboxes(alice);
      assert.ok(inbox.ok);
      const box = inbox.value.find((m) => m.name === 'INBOX')!.id;
      const added = await images.mail.append(
        alice,
        box,
        Buffer.from(
          `Subject: pictures\r\nContent-Type: text/html\r\n\r\n${['a', 'b', 'c', 'page']
            .map((n) => `<img src="${H}/${n}.png">`)
            .join('')}\r\n`,
        ),
        { flags: [], receivedAt: null },
      );
      assert.ok(added.ok);
      const entries = await images.mail.listEntries(alice, box);
      assert.ok(entries.ok);
      const id = entries.value.find((e) => e.uid === added.value.uid)!.messageId;
      const a = await images.images.fetch(alice, id, `${H}/a.png`);
      assert.ok(a.ok);
      assert.equal(a.value.type, 'image/png');
      // Kept: asked again, the sender's server hears nothing.
      assert.ok((await images.images.fetch(alice, id, `${H}/a.png`)).ok);
      assert.deepEqual(hits, ['/a.png']);
      // Someone else's message, or an address it does not hold, is never fetched.
      assert.deepEqual(await images.images.fetch(bob, id, `${H}/b.png`), { ok: false, error: 'not-found' });
      assert.deepEqual(await images.images.fetch(alice, id, `${H}/other.png`), {
        ok: false,
        error: 'not-in-message',
      });
      // Bytes that are no image are refused whatever the type said.
      assert.deepEqual(await images.images.fetch(alice, id, `${H}/page.png`), {
        ok: false,
        error: 'not-image',
      });
      assert.ok((await images.images.fetch(alice, id, `${H}/b.png`)).ok);
      // Three fetches an hour: the fourth waits for the next hour.
      assert.deepEqual(await images.images.fetch(alice, id, `${H}/c.png`), { ok: false, error: 'limited' });
      assert.deepEqual(hits, ['/a.png', '/page.png', '/b.png']);
      clock.t += 3_600_001;
      assert.ok((await images.images.fetch(alice, id, `${H}/c.png`)).ok);
      await new Promise((r) => setTimeout(r, 200)); // the audit path writes in batches
      const found = await images.audit.search(localAdminContext(), {
        actionPrefix: 'mail.image',
        limit: 100,
      });
      assert.ok(found.ok);
      const reasons = found.value.map(
        (r) => (JSON.parse(r.text) as { detail: { reason?: string } }).detail.reason,
      );
      for (const reason of ['not-in-message', 'not-image', 'limited'])
        assert.ok(reasons.includes(reason), reason);
    } finally {
      host.closeAllConnections();
      host.close();
    }
  });
});
