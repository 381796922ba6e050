/**
 * @module The store contract's behavioural suite (STYLE.md R11). Every backend runs it:
 * `storeConformance('sqlite', factory)`. It uses only the Store interface.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { GENESIS_HASH, verifyChain } from '../core/audit-chain.ts';
import {
  type MessageCache,
  type NewDelivery,
  OVER_QUOTA,
  type SpecialUse,
  type StagedBlob,
  type Store,
} from './types.ts';

/** Opens a store on a fresh location; `reopen` opens the same location again after close. */
export interface StoreFactory {
  open(): Promise<{ store: Store; reopen(): Promise<Store>; cleanup(): Promise<void> }>;
}

const MAILBOXES: { name: string; specialUse: SpecialUse | null }[] = [
  { name: 'INBOX', specialUse: '\\Inbox' },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Projects', specialUse: null },
];

function cache(over: Partial<MessageCache> = {}): MessageCache {
  return {
    subject: 'hello',
    fromAddress: 'a@x.test',
    sentAt: 1_700_000_000_000,
    messageIdHeader: null,
    references: [],
    hasAttachment: false,
    preview: 'preview',
    envelope: '{}',
    structure: '{}',
    header: Buffer.from('Subject: hello\r\n\r\n'),
    searchText: { subject: 'hello', addresses: 'a@x.test', body: 'body text' },
    ...over,
  };
}

async function putBlob(store: Store, text: string | Buffer) {
  const w = store.blobs.create();
  await w.write(Buffer.isBuffer(text) ? text : Buffer.from(text));
  return w.finish();
}

/** Registers the conformance tests for one backend. */
export function storeConformance(
  name: string,
  factory: StoreFactory,
  options: { skip?: string | false } = {},
): void {
  describe(`store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    const withStore = (title: string, fn: (store: Store, reopen: () => Promise<Store>) => Promise<void>) =>
      test(title, async () => {
        const s = await factory.open();
        let current = s.store;
        try {
          await fn(current, async () => {
            await current.close();
            current = await s.reopen();
            return current;
          });
        } finally {
          await current.close();
          await s.cleanup();
        }
      });

    const account = async (store: Store, address = 'alice@example.test') => {
      const domain = address.slice(address.indexOf('@') + 1);
      await store.createDomain(domain, 1);
      const a = await store.createAccount({
        address,
        domain,
        displayName: '',
        passwordHash: 'hash',
        quotaBytes: 0,
        mailboxes: MAILBOXES,
        now: 1_700_000_000_000,
      });
      assert.ok(typeof a === 'object');
      return a;
    };
    const deliver = (
      accountId: number,
      blob: StagedBlob,
      c = cache(),
      mailbox: SpecialUse | { id: number } = '\\Inbox',
    ): NewDelivery => ({
      accountId,
      mailbox,
      blob,
      receivedAt: 1_700_000_000_000,
      cache: c,
      flags: [],
    });

    withStore('domains: create, duplicate, list, delete, in use', async (store) => {
      assert.equal(await store.createDomain('b.test', 1), 'ok');
      assert.equal(await store.createDomain('a.test', 2), 'ok');
      assert.equal(await store.createDomain('a.test', 3), 'exists');
      assert.deepEqual(
        (await store.listDomains()).map((d) => d.name),
        ['a.test', 'b.test'],
      );
      assert.equal((await store.getDomain('a.test'))?.createdAt, 2);
      assert.equal(await store.getDomain('c.test'), null);
      await account(store, 'x@a.test');
      assert.equal(await store.deleteDomain('a.test'), 'in-use');
      assert.equal(await store.deleteDomain('b.test'), 'ok');
      assert.equal(await store.deleteDomain('b.test'), 'not-found');
    });

    withStore(
      'DKIM keys: add, duplicate, missing domain, list, remove, go with the domain',
      async (store) => {
        await store.createDomain('a.test', 1);
        await store.createDomain('b.test', 1);
        const key = {
          domain: 'a.test',
          selector: 's1',
          algorithm: 'ed25519',
          privateKey: 'PEM',
          createdAt: 5,
        } as const;
        assert.equal(await store.addDkimKey(key), 'ok');
        assert.equal(await store.addDkimKey(key), 'exists');
        assert.equal(await store.addDkimKey({ ...key, domain: 'c.test' }), 'no-domain');
        assert.equal(await store.addDkimKey({ ...key, selector: 's0', algorithm: 'rsa' }), 'ok');
        assert.equal(await store.addDkimKey({ ...key, domain: 'b.test' }), 'ok');
        assert.deepEqual(await store.listDkimKeys('a.test'), [
          { ...key, selector: 's0', algorithm: 'rsa' },
          key,
        ]);
        assert.equal((await store.listDkimKeys()).length, 3);
        assert.equal(await store.removeDkimKey('a.test', 's0'), 'ok');
        assert.equal(await store.removeDkimKey('a.test', 's0'), 'not-found');
        assert.equal(await store.deleteDomain('b.test'), 'ok');
        assert.deepEqual(
          (await store.listDkimKeys()).map((k) => `${k.domain}/${k.selector}`),
          ['a.test/s1'],
        );
      },
    );

    withStore('app passwords: add, find by hash, touch, list, remove, go with the account', async (store) => {
      const a = await account(store);
      const p = {
        accountId: a.id,
        id: 'ap1',
        kind: 'app' as const,
        label: 'phone',
        scopes: ['imap', 'smtp'] as ('imap' | 'smtp')[],
        secretHash: 'f'.repeat(64),
        createdAt: 10,
        expiresAt: null,
        lastUsedAt: null,
      };
      assert.equal(await store.addAppPassword(p), 'ok');
      assert.equal(await store.addAppPassword({ ...p, accountId: a.id + 99 }), 'not-found');
      await store.addAppPassword({
        ...p,
        id: 'ap2',
        kind: 'token',
        scopes: ['dav'],
        secretHash: 'e'.repeat(64),
        createdAt: 11,
        expiresAt: 99,
      });
      assert.deepEqual(await store.findAppPassword(a.id, 'f'.repeat(64)), p);
      assert.equal(await store.findAppPassword(a.id + 1, 'f'.repeat(64)), null, 'per account');
      assert.equal((await store.getPassword(a.id))?.kind, 'password', 'the account password is untouched');
      await store.touchAppPassword(a.id, 'ap1', 50);
      assert.deepEqual(
        (await store.listAppPasswords(a.id)).map((x) => [x.id, x.kind, x.scopes, x.expiresAt, x.lastUsedAt]),
        [
          ['ap1', 'app', ['imap', 'smtp'], null, 50],
          ['ap2', 'token', ['dav'], 99, null],
        ],
      );
      assert.equal(await store.removeAppPassword(a.id, 'ap1'), 'ok');
      assert.equal(await store.removeAppPassword(a.id, 'ap1'), 'not-found');
      assert.equal(await store.findAppPassword(a.id, 'f'.repeat(64)), null);
      assert.equal(await store.deleteAccount(a.id), 'ok');
      assert.deepEqual(await store.listAppPasswords(a.id), []);
    });

    withStore('web sessions: find by token hash per account, expire, touch, revoke', async (store) => {
      const a = await account(store);
      const w = {
        accountId: a.id,
        id: 's1',
        tokenHash: 'a'.repeat(64),
        csrf: 'c1',
        createdAt: 10,
        authenticatedAt: 10,
        lastSeenAt: 10,
        expiresAt: 100,
        remote: '127.0.0.1',
        userAgent: 'test',
      };
      assert.equal(await store.createWebSession(w), 'ok');
      assert.equal(await store.createWebSession({ ...w, accountId: a.id + 99 }), 'not-found');
      await store.createWebSession({ ...w, id: 's2', tokenHash: 'b'.repeat(64), createdAt: 11 });
      assert.deepEqual(await store.findWebSession(a.id, 'a'.repeat(64), 50), w);
      assert.equal(await store.findWebSession(a.id + 1, 'a'.repeat(64), 50), null, 'per account');
      assert.equal(await store.findWebSession(a.id, 'a'.repeat(64), 100), null, 'expired');
      await store.touchWebSession(a.id, 's1', 60, 200);
      await store.reauthenticateWebSession(a.id, 's1', 70);
      const s1 = await store.findWebSession(a.id, 'a'.repeat(64), 150);
      assert.deepEqual([s1?.lastSeenAt, s1?.expiresAt, s1?.authenticatedAt], [60, 200, 70]);
      assert.deepEqual(
        (await store.listWebSessions(a.id, 150)).map((x) => x.id),
        ['s1'],
        's2 expired',
      );
      assert.deepEqual(
        (await store.listWebSessions(a.id, 50)).map((x) => x.id),
        ['s1', 's2'],
      );
      assert.equal(await store.purgeWebSessions(150), 1);
      await store.createWebSession({ ...w, id: 's3', tokenHash: 'c'.repeat(64), expiresAt: 500 });
      await store.createWebSession({ ...w, id: 's4', tokenHash: 'd'.repeat(64), expiresAt: 500 });
      assert.equal(await store.removeWebSessions(a.id, 's3'), 2);
      assert.deepEqual(
        (await store.listWebSessions(a.id, 0)).map((x) => x.id),
        ['s3'],
      );
      assert.equal(await store.removeWebSession(a.id, 's3'), 'ok');
      assert.equal(await store.removeWebSession(a.id, 's3'), 'not-found');
      await store.createWebSession({ ...w, id: 's5', tokenHash: 'e'.repeat(64), expiresAt: 500 });
      assert.equal(await store.deleteAccount(a.id), 'ok');
      assert.deepEqual(await store.listWebSessions(a.id, 0), []);
    });

    withStore('TOTP: pending, confirm with recovery codes, one use per step, remove', async (store) => {
      const a = await account(store);
      assert.equal(await store.getTotp(a.id), null);
      assert.equal(await store.setPendingTotp(a.id, 'SECRET1', 1), 'ok');
      assert.equal(await store.setPendingTotp(a.id, 'SECRET2', 2), 'ok', 'a new enrolment replaces');
      assert.deepEqual(await store.getTotp(a.id), { secret: 'SECRET2', confirmed: false, lastStepAt: null });
      assert.equal(await store.useTotpStep(a.id, 30_000), false, 'a pending secret signs in nobody');
      assert.equal(await store.confirmTotp(a.id, 30_000, ['h1', 'h2'], 3), 'ok');
      assert.equal(await store.confirmTotp(a.id, 30_000, ['h3'], 3), 'not-found', 'nothing pending');
      assert.deepEqual(await store.getTotp(a.id), { secret: 'SECRET2', confirmed: true, lastStepAt: 30_000 });
      assert.equal(await store.setPendingTotp(a.id, 'SECRET3', 4), 'exists');
      assert.equal(await store.useTotpStep(a.id, 30_000), false, 'the confirming step is used');
      assert.equal(await store.useTotpStep(a.id, 60_000), true);
      assert.equal(await store.useTotpStep(a.id, 60_000), false, 'no replay');
      assert.equal(await store.useTotpStep(a.id, 30_000), false, 'no earlier step');
      assert.equal(await store.countRecoveryCodes(a.id), 2);
      assert.equal(await store.useRecoveryCode(a.id, 'h1'), true);
      assert.equal(await store.useRecoveryCode(a.id, 'h1'), false, 'once');
      assert.equal(await store.useRecoveryCode(a.id + 1, 'h2'), false, 'per account');
      assert.equal(await store.countRecoveryCodes(a.id), 1);
      assert.equal((await store.getPassword(a.id))?.kind, 'password');
      assert.deepEqual(await store.listAppPasswords(a.id), [], 'not app passwords');
      assert.equal(await store.removeTotp(a.id), 'ok');
      assert.equal(await store.getTotp(a.id), null);
      assert.equal(await store.countRecoveryCodes(a.id), 0);
      assert.equal(await store.removeTotp(a.id), 'not-found');
    });

    withStore('accounts: create with mailboxes, duplicate, missing domain, lookup', async (store) => {
      const a = await account(store);
      assert.equal(a.address, 'alice@example.test');
      assert.equal(
        await store.createAccount({
          address: a.address,
          domain: 'example.test',
          displayName: '',
          passwordHash: 'h',
          quotaBytes: 0,
          mailboxes: [],
          now: 1,
        }),
        'exists',
      );
      assert.equal(
        await store.createAccount({
          address: 'z@nowhere.test',
          domain: 'nowhere.test',
          displayName: '',
          passwordHash: 'h',
          quotaBytes: 0,
          mailboxes: [],
          now: 1,
        }),
        'no-domain',
      );
      assert.equal((await store.getAccountByAddress('alice@example.test'))?.id, a.id);
      assert.equal((await store.getAccount(a.id))?.address, a.address);
      assert.equal(await store.getAccount(a.id + 1000), null);
      assert.deepEqual(
        (await store.listAccounts('example.test')).map((x) => x.address),
        ['alice@example.test'],
      );
      assert.deepEqual(await store.listAccounts('other.test'), []);
      const boxes = await store.listMailboxes(a.id);
      assert.deepEqual(
        boxes.map((b) => [b.name, b.specialUse]),
        [
          ['INBOX', '\\Inbox'],
          ['Projects', null],
          ['Sent', '\\Sent'],
          ['Trash', '\\Trash'],
        ],
      );
      for (const b of boxes) {
        assert.equal(b.uidNext, 1);
        assert.ok(b.uidValidity > 0);
        assert.equal(b.messages, 0);
      }
      assert.equal(new Set(boxes.map((b) => b.id)).size, boxes.length);
    });

    withStore('passwords: read and replace', async (store) => {
      const a = await account(store);
      assert.equal((await store.getPassword(a.id))?.secret, 'hash');
      assert.equal(await store.setPassword(a.id, 'new', 5), 'ok');
      assert.equal((await store.getPassword(a.id))?.secret, 'new');
      assert.equal(await store.setPassword(a.id + 99, 'x', 5), 'not-found');
      assert.equal(await store.setQuota(a.id, 1024 * 1024), 'ok');
      assert.equal((await store.getAccount(a.id))?.quotaBytes, 1024 * 1024);
      assert.equal(await store.setQuota(a.id + 99, 1), 'not-found');
    });

    withStore('aliases: add, duplicate, catch-all, list, remove, cascade', async (store) => {
      const a = await account(store);
      const b = await account(store, 'bob@example.test');
      assert.equal(await store.addAlias('info@example.test', a.id, 1), 'ok');
      assert.equal(await store.addAlias('info@example.test', b.id, 1), 'ok');
      assert.equal(await store.addAlias('info@example.test', b.id, 1), 'exists');
      assert.equal(await store.addAlias('@example.test', a.id, 1), 'ok');
      assert.equal(await store.addAlias('x@unknown.test', a.id, 1), 'no-domain');
      assert.deepEqual(
        await store.aliasTargets('info@example.test'),
        [a.id, b.id].sort((x, y) => x - y),
      );
      assert.deepEqual(await store.aliasTargets('@example.test'), [a.id]);
      assert.deepEqual(await store.aliasTargets('nobody@example.test'), []);
      assert.deepEqual(
        (await store.listAliases('example.test')).map((x) => `${x.source}>${x.target}`),
        [
          '@example.test>alice@example.test',
          'info@example.test>alice@example.test',
          'info@example.test>bob@example.test',
        ],
      );
      assert.equal(await store.removeAlias('info@example.test', b.id), 'ok');
      assert.deepEqual(await store.aliasTargets('info@example.test'), [a.id]);
      assert.equal(await store.removeAlias('info@example.test', null), 'ok');
      assert.equal(await store.removeAlias('info@example.test', null), 'not-found');
      assert.equal(await store.deleteAccount(a.id), 'ok');
      assert.deepEqual(
        await store.aliasTargets('@example.test'),
        [],
        'aliases of a deleted account go with it',
      );
    });

    withStore('blobs: content-addressed, deduplicated, abortable, hash-checked', async (store, reopen) => {
      const w = store.blobs.create();
      await w.write(Buffer.from('hello '));
      await w.write(Buffer.from('world'));
      assert.equal(w.size, 11);
      const ref = await store.blobs.persist(await w.finish());
      assert.equal(ref.hash, 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
      assert.equal((await store.blobs.read(ref.hash)).toString(), 'hello world');
      assert.ok(await store.blobs.has(ref.hash));
      assert.equal((await store.blobs.persist(await putBlob(store, 'hello world'))).hash, ref.hash);
      // A large blob streams through the blob folder and reads back identical.
      const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'x');
      big.write('start', 0);
      const bigRef = await store.blobs.persist(await putBlob(store, big));
      assert.equal(bigRef.size, big.length);
      const aborted = store.blobs.create();
      await aborted.write(Buffer.from('never'));
      await aborted.abort();
      assert.equal(await store.blobs.has('0'.repeat(64)), false);
      await assert.rejects(store.blobs.read('../../etc/passwd'));
      await assert.rejects(store.blobs.read('A'.repeat(64)));
      const empty = await store.blobs.create().finish();
      assert.equal(empty.size, 0);
      const again = await reopen();
      assert.equal((await again.blobs.read(ref.hash)).toString(), 'hello world');
      assert.ok((await again.blobs.read(bigRef.hash)).equals(big));
      const both = await again.blobs.readMany([bigRef.hash, ref.hash, ref.hash]);
      assert.equal(both.size, 2);
      assert.equal(both.get(ref.hash)?.toString(), 'hello world');
      assert.ok(both.get(bigRef.hash)?.equals(big));
      await assert.rejects(again.blobs.readMany([ref.hash, '../../etc/passwd']));
    });

    withStore('blobs: a prefix given at the end goes in front, small or large', async (store) => {
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      for (const body of [Buffer.from('body\r\n'), Buffer.alloc(2 * 1024 * 1024 + 3, 'y')]) {
        const prefix = Buffer.from('Authentication-Results: x; none\r\n');
        const w = store.blobs.create();
        await w.write(body.subarray(0, 5));
        await w.write(body.subarray(5));
        const ref = await store.blobs.persist(await w.finish(prefix));
        const whole = Buffer.concat([prefix, body]);
        assert.equal(ref.size, whole.length);
        assert.equal(ref.hash, sha(whole));
        assert.ok((await store.blobs.read(ref.hash)).equals(whole));
      }
    });

    withStore('a staged blob becomes durable with the delivery that references it', async (store, reopen) => {
      const a = await account(store);
      const staged = await putBlob(store, 'Subject: staged\r\n\r\nbody');
      const large = await putBlob(store, Buffer.alloc(600 * 1024, 'y'));
      const [d1, d2] = await store.deliver([deliver(a.id, staged), deliver(a.id, large)]);
      const again = await reopen();
      const m1 = await again.getMessage(a.id, d1!.messageId);
      const m2 = await again.getMessage(a.id, d2!.messageId);
      assert.equal((await again.blobs.read(m1!.blobHash)).toString(), 'Subject: staged\r\n\r\nbody');
      assert.equal((await again.blobs.read(m2!.blobHash)).length, 600 * 1024);
    });

    withStore(
      'DAV collections: objects, conditions, time ranges, sync changes and the change log',
      async (store) => {
        const a = await account(store);
        const b = await account(store, 'bob@example.test');
        const input = {
          name: 'work',
          displayName: 'Work',
          description: '',
          color: '#00f',
          components: 'VEVENT',
        };
        const cal = await store.createCollection(a.id, 'calendar', input, 5);
        assert.ok(typeof cal === 'object');
        assert.equal(await store.createCollection(a.id, 'calendar', input, 5), 'exists');
        assert.deepEqual(await store.listCollections(b.id, 'calendar'), [], 'another account sees none');
        const obj = (
          name: string,
          uid: string,
          startsAt: number | null,
          endsAt: number | null,
          data = `DATA ${uid}`,
        ) => ({
          name,
          uid,
          component: 'VEVENT',
          data,
          startsAt,
          endsAt,
          exact: endsAt !== null,
        });
        const one = await store.putDavObject(a.id, cal.id, obj('one.ics', 'u1', 100, 200), {
          ifNoneMatch: true,
        });
        assert.ok(typeof one === 'object' && one.created);
        assert.match(one.object.etag, /^"[0-9a-f]{32}"$/);
        assert.equal(one.object.exact, true);
        const two = await store.putDavObject(a.id, cal.id, obj('two.ics', 'u2', 1000, null), {});
        assert.ok(typeof two === 'object');
        assert.equal(
          await store.putDavObject(a.id, cal.id, obj('one.ics', 'u1', 100, 200), { ifNoneMatch: true }),
          'precondition-failed',
        );
        assert.equal(
          await store.putDavObject(a.id, cal.id, obj('one.ics', 'u1', 100, 200), { ifMatch: '"nope"' }),
          'precondition-failed',
        );
        assert.equal(
          await store.putDavObject(a.id, cal.id, obj('three.ics', 'u1', 1, 2), {}),
          'uid-conflict',
        );
        assert.equal(
          await store.putDavObject(a.id, cal.id, obj('three.ics', 'u3', 1, 2), { maxObjects: 2 }),
          'too-many',
        );
        assert.equal(await store.putDavObject(b.id, cal.id, obj('x.ics', 'ux', 1, 2), {}), 'not-found');
        const since = (await store.listCollections(a.id, 'calendar'))[0]!.modseq;
        const replaced = await store.putDavObject(a.id, cal.id, obj('one.ics', 'u1', 150, 250, 'NEW'), {
          ifMatch: one.object.etag,
        });
        assert.ok(
          typeof replaced === 'object' && !replaced.created && replaced.object.etag !== one.object.etag,
        );
        const names = async (range?: { start: number; end: number }) =>
          (await store.listDavObjects(a.id, cal.id, range)).map((o) => o.name);
        assert.deepEqual(await names(), ['one.ics', 'two.ics']);
        assert.deepEqual(await names({ start: 0, end: 160 }), ['one.ics']);
        assert.deepEqual(await names({ start: 300, end: 2000 }), ['two.ics']);
        assert.deepEqual(await names({ start: 5000, end: 6000 }), ['two.ics'], 'open-ended');
        assert.deepEqual(
          (await store.getDavObjects(a.id, cal.id, ['two.ics', 'missing.ics'])).map((o) => o.uid),
          ['u2'],
        );
        assert.deepEqual(await store.getDavObjects(b.id, cal.id, ['two.ics']), []);
        assert.equal(await store.deleteDavObject(a.id, cal.id, 'two.ics', '"nope"'), 'precondition-failed');
        assert.equal(await store.deleteDavObject(a.id, cal.id, 'two.ics'), 'ok');
        assert.equal(await store.deleteDavObject(a.id, cal.id, 'two.ics'), 'not-found');
        const changes = await store.davChanges(a.id, cal.id, since);
        assert.deepEqual([changes.changed.map((o) => o.name), changes.removed], [['one.ics'], ['two.ics']]);
        const after = (await store.listCollections(a.id, 'calendar'))[0]!;
        assert.ok(after.modseq > since, 'the CTag moved');
        assert.equal(await store.highestModseq(a.id), after.modseq);
        const log = await store.changesSince(a.id, since, 100);
        assert.deepEqual(
          log.map((c) => [c.type, c.op]),
          [
            ['CalendarObject', 'update'],
            ['CalendarObject', 'destroy'],
          ],
        );
        // MOVE: to a new name, onto an existing one only with overwrite, never across kinds.
        const home = await store.createCollection(a.id, 'calendar', { ...input, name: 'home' }, 6);
        const book = await store.createCollection(
          a.id,
          'addressbook',
          { ...input, name: 'work', components: 'VCARD' },
          6,
        );
        assert.ok(
          typeof home === 'object' && typeof book === 'object',
          'a name is unique within its kind only',
        );
        await store.putDavObject(a.id, home.id, obj('busy.ics', 'u9', 1, 2), {});
        const beforeMove = (await store.listCollections(a.id, 'calendar')).find(
          (c) => c.name === 'home',
        )!.modseq;
        const move = (to: number, name: string, overwrite: boolean) =>
          store.moveDavObject(
            a.id,
            { collectionId: cal.id, name: 'one.ics' },
            { collectionId: to, name },
            { overwrite },
          );
        assert.equal(await move(home.id, 'busy.ics', false), 'precondition-failed');
        assert.equal(await move(book.id, 'one.ics', true), 'not-found', 'not into an address book');
        assert.equal(await move(cal.id, 'one.ics', false), 'same');
        const moved = await move(home.id, 'moved.ics', false);
        assert.ok(typeof moved === 'object' && moved.created && moved.object.uid === 'u1');
        assert.deepEqual(await names(), []);
        assert.deepEqual((await store.davChanges(a.id, cal.id, beforeMove)).removed, ['one.ics']);
        assert.deepEqual(
          (await store.davChanges(a.id, home.id, beforeMove)).changed.map((o) => o.name),
          ['moved.ics'],
        );
        const back = await store.moveDavObject(
          a.id,
          { collectionId: home.id, name: 'moved.ics' },
          { collectionId: home.id, name: 'busy.ics' },
          { overwrite: true },
        );
        assert.ok(typeof back === 'object' && !back.created);
        assert.deepEqual(
          (await store.listDavObjects(a.id, home.id)).map((o) => [o.name, o.uid]),
          [['busy.ics', 'u1']],
        );
        const card = await store.putDavObject(
          a.id,
          book.id,
          { ...obj('c.vcf', 'u1', null, null), component: 'VCARD' },
          {},
        );
        assert.ok(typeof card === 'object', 'UIDs are unique per collection');
        assert.equal((await store.findDavObject(a.id, 'addressbook', 'u1'))?.name, 'c.vcf');
        assert.equal((await store.findDavObject(a.id, 'calendar', 'u1'))?.name, 'busy.ics');
        assert.equal(await store.findDavObject(b.id, 'calendar', 'u1'), null);
        assert.equal(await store.getInvitationPolicy(a.id), 'auto');
        assert.equal(await store.setInvitationPolicy(a.id, 'authenticated'), 'ok');
        assert.equal(await store.getInvitationPolicy(a.id), 'authenticated');
        assert.equal(await store.getInvitationPolicy(b.id), 'auto');
        assert.equal(await store.setInvitationPolicy(999_999, 'off'), 'not-found');
        // Shares: granted, changed, listed both ways, refused for oneself or strangers, revoked.
        assert.equal(await store.setShare(a.id, home.id, b.id, 'read'), 'ok');
        assert.equal(await store.setShare(a.id, home.id, b.id, 'write'), 'ok');
        assert.equal(await store.setShare(a.id, home.id, a.id, 'read'), 'not-found');
        assert.equal(await store.setShare(a.id, home.id, 999_999, 'read'), 'not-found');
        assert.equal(
          await store.setShare(b.id, home.id, a.id, 'read'),
          'not-found',
          "not another's collection",
        );
        assert.deepEqual(
          (await store.listShares(a.id, home.id)).map((x) => [x.granteeAddress, x.access]),
          [['bob@example.test', 'write']],
        );
        const mine = await store.sharedWith(b.id, 'calendar');
        assert.deepEqual(
          mine.map((x) => [x.ownerId, x.ownerAddress, x.collection.name, x.access]),
          [[a.id, (await store.getAccount(a.id))!.address, 'home', 'write']],
        );
        assert.deepEqual(await store.sharedWith(b.id, 'addressbook'), []);
        assert.equal(await store.setShare(a.id, home.id, b.id, null), 'ok');
        assert.deepEqual(await store.sharedWith(b.id, 'calendar'), []);
        await store.setShare(a.id, home.id, b.id, 'read');
        const bookLog = await store.changesSince(a.id, back.object.modseq, 100);
        assert.deepEqual(
          bookLog.map((c) => [c.type, c.op]),
          [['ContactCard', 'create']],
        );
        assert.deepEqual(
          (await store.listCollections(a.id, 'addressbook')).map((c) => c.name),
          ['work'],
        );
        assert.equal(await store.deleteCollection(b.id, cal.id), 'not-found');
        assert.equal(await store.deleteCollection(a.id, cal.id), 'ok');
        assert.deepEqual(
          (await store.listCollections(a.id, 'calendar')).map((c) => c.name),
          ['home'],
        );
        assert.deepEqual(await store.listDavObjects(a.id, cal.id), []);
        assert.equal(await store.deleteCollection(a.id, home.id), 'ok');
        assert.deepEqual(
          await store.sharedWith(b.id, 'calendar'),
          [],
          'a removed collection is no longer shared',
        );
      },
    );

    withStore('deliver withinQuota: checked and reserved as the message is filed', async (store) => {
      const a = await account(store);
      const blob = await putBlob(store, 'Subject: q\r\n\r\n0123456789');
      await store.setQuota(a.id, blob.size * 2);
      const tries = await Promise.allSettled(
        Array.from({ length: 5 }, () => store.deliver([{ ...deliver(a.id, blob), withinQuota: true }])),
      );
      assert.equal(tries.filter((t) => t.status === 'fulfilled').length, 2);
      for (const t of tries)
        if (t.status === 'rejected') assert.equal((t.reason as Error).message, OVER_QUOTA);
      assert.equal((await store.getAccount(a.id))!.usedBytes, blob.size * 2);
      // Delivery from outside is filed whatever the quota.
      assert.equal((await store.deliver([deliver(a.id, blob)])).length, 1);
    });

    withStore('deliver: UIDs, modseq, counts and the change log', async (store) => {
      const a = await account(store);
      const blob = await putBlob(store, 'Subject: one\r\n\r\nbody');
      const before = await store.highestModseq(a.id);
      const [d1] = await store.deliver([deliver(a.id, blob)]);
      const [d2] = await store.deliver([deliver(a.id, blob, cache({ subject: 'two' }))]);
      assert.ok(d1 && d2);
      assert.equal(d1.uid, 1);
      assert.equal(d2.uid, 2);
      assert.ok(d1.modseq > before && d2.modseq > d1.modseq);
      assert.equal(await store.highestModseq(a.id), d2.modseq);
      const inbox = (await store.listMailboxes(a.id)).find((b) => b.specialUse === '\\Inbox')!;
      assert.equal(inbox.uidNext, 3);
      assert.equal(inbox.messages, 2);
      assert.equal(inbox.unseen, 2);
      assert.equal(inbox.bytes, blob.size * 2);
      assert.equal(inbox.modseq, d2.modseq);
      const entries = await store.listMailboxEntries(a.id, inbox.id);
      assert.deepEqual(
        entries.map((e) => [e.uid, e.messageId, e.modseq]),
        [
          [1, d1.messageId, d1.modseq],
          [2, d2.messageId, d2.modseq],
        ],
      );
      const changes = await store.changesSince(a.id, before, 100);
      assert.deepEqual(
        changes.filter((c) => c.type === 'Email').map((c) => [c.modseq, c.objectId, c.op, c.uid]),
        [
          [d1.modseq, d1.messageId, 'create', 1],
          [d2.modseq, d2.messageId, 'create', 2],
        ],
      );
      assert.deepEqual(await store.changesSince(a.id, d2.modseq, 100), []);
      // When each object first appeared in the log (JMAP /changes asks this).
      const at = await store.creationOf(a.id, 'Email', [d1.messageId, d2.messageId, 9999], d1.modseq);
      assert.deepEqual([...at.born], [d1.messageId]);
      assert.deepEqual([...at.unlogged], [9999]);
      const m = await store.getMessage(a.id, d2.messageId);
      assert.equal(m?.subject, 'two');
      assert.equal(m?.blobHash, blob.hash);
      assert.equal((await store.getAccount(a.id))?.usedBytes, blob.size * 2);
      const sent = await store.deliver([deliver(a.id, blob, cache(), '\\Sent')]);
      assert.equal(sent[0]?.uid, 1, 'UIDs are per mailbox');
    });

    withStore(
      'deliver: concurrent callers share commits and get distinct UIDs; one failure stays local',
      async (store) => {
        const a = await account(store);
        const b = await account(store, 'bob@example.test');
        const blob = await putBlob(store, 'x');
        const results = await Promise.allSettled([
          ...Array.from({ length: 50 }, () => store.deliver([deliver(a.id, blob), deliver(b.id, blob)])),
          store.deliver([deliver(a.id + b.id + 100, blob)]),
        ]);
        const failed = results.filter((r) => r.status === 'rejected');
        assert.equal(failed.length, 1, 'only the delivery to a missing account fails');
        const uids = results.flatMap((r) =>
          r.status === 'fulfilled' ? r.value.filter((d) => d.accountId === a.id).map((d) => d.uid) : [],
        );
        assert.deepEqual(
          [...uids].sort((x, y) => x - y),
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
      },
    );

    withStore('threads follow References and In-Reply-To', async (store) => {
      const a = await account(store);
      const blob = await putBlob(store, 'y');
      const [root] = await store.deliver([deliver(a.id, blob, cache({ messageIdHeader: 'root@x' }))]);
      const [reply] = await store.deliver([
        deliver(a.id, blob, cache({ messageIdHeader: 'reply@x', references: ['root@x'] })),
      ]);
      const [other] = await store.deliver([deliver(a.id, blob, cache({ messageIdHeader: 'other@x' }))]);
      const t = async (id: number) => (await store.getMessage(a.id, id))?.threadId;
      assert.equal(await t(reply!.messageId), await t(root!.messageId));
      assert.notEqual(await t(other!.messageId), await t(root!.messageId));
      assert.deepEqual(await store.findByMessageIdHeader(a.id, 'reply@x'), [reply!.messageId]);
    });

    withStore('full-text search is per account', async (store) => {
      const a = await account(store);
      const b = await account(store, 'bob@example.test');
      const blob = await putBlob(store, 'z');
      const text = (subject: string, body: string) =>
        cache({ subject, searchText: { subject, addresses: 'carol@x.test', body } });
      const [m1] = await store.deliver([
        deliver(a.id, blob, text('Invoice March', 'please pay the café bill')),
      ]);
      await store.deliver([deliver(a.id, blob, text('Lunch', 'noon at the usual place'))]);
      await store.deliver([deliver(b.id, blob, text('Invoice April', 'bob only'))]);
      assert.deepEqual(
        (await store.searchText(a.id, 'invoice', 10)).map((h) => h.messageId),
        [m1!.messageId],
      );
      assert.deepEqual(
        (await store.searchText(a.id, 'cafe', 10)).map((h) => h.messageId),
        [m1!.messageId],
        'diacritics folded',
      );
      assert.equal((await store.searchText(a.id, 'carol', 10)).length, 2);
      assert.equal((await store.searchText(a.id, 'carol', 10, 'addresses')).length, 2);
      assert.equal((await store.searchText(a.id, 'carol', 10, 'body')).length, 0, 'one field only');
      assert.equal((await store.searchText(a.id, 'invoice', 10, 'subject')).length, 1);
      assert.equal((await store.searchText(a.id, 'invoice', 10, 'body')).length, 0);
      assert.equal((await store.searchText(a.id, 'april', 10)).length, 0, 'other accounts are not searched');
      assert.deepEqual(
        await store.searchText(a.id, '"*) OR (', 10),
        [],
        'query syntax is quoted, not interpreted',
      );
    });

    withStore('deleting an account removes its mail and releases unshared blobs', async (store, reopen) => {
      const a = await account(store);
      const b = await account(store, 'bob@example.test');
      const shared = await putBlob(store, 'shared');
      const own = await putBlob(store, 'own');
      await store.deliver([deliver(a.id, shared), deliver(b.id, shared), deliver(a.id, own)]);
      assert.equal(await store.deleteAccount(a.id), 'ok');
      assert.equal(await store.deleteAccount(a.id), 'not-found');
      assert.equal(await store.getAccountByAddress('alice@example.test'), null);
      assert.equal(await store.blobs.has(own.hash), false);
      assert.equal(await store.blobs.has(shared.hash), true);
      const again = await reopen();
      const inbox = (await again.listMailboxes(b.id)).find((x) => x.specialUse === '\\Inbox')!;
      assert.equal(inbox.messages, 1);
      assert.equal((await again.searchText(b.id, 'body', 10)).length, 1);
    });

    withStore(
      'account ids are never reused, even after the newest account is removed',
      async (store, reopen) => {
        const a = await account(store);
        const b = await account(store, 'bob@example.test');
        assert.equal(await store.deleteAccount(b.id), 'ok');
        const c = await account(store, 'carol@example.test');
        assert.ok(c.id > b.id, `account id ${c.id} reused`);
        const again = await reopen();
        assert.equal(await again.deleteAccount(c.id), 'ok');
        const d = await account(again, 'dave@example.test');
        assert.ok(d.id > c.id && d.id > a.id, `account id ${d.id} reused after reopening`);
      },
    );

    withStore(
      'mailboxes: create, rename with children, subscribe, delete; UIDVALIDITY never reused',
      async (store) => {
        const a = await account(store);
        const work = await store.createMailbox(a.id, 'Work', 1_800_000_000_000);
        assert.ok(typeof work === 'object');
        assert.equal(await store.createMailbox(a.id, 'Work', 1_800_000_000_000), 'exists');
        const child = await store.createMailbox(a.id, 'Work/2026', 1_800_000_000_000);
        assert.ok(typeof child === 'object');
        assert.equal(await store.renameMailbox(a.id, work.id, 'Projects'), 'exists');
        assert.equal(await store.renameMailbox(a.id, work.id, 'Jobs'), 'ok');
        const names = (await store.listMailboxes(a.id)).map((b) => b.name);
        assert.ok(names.includes('Jobs') && names.includes('Jobs/2026') && !names.includes('Work/2026'));
        assert.equal(await store.setSubscribed(a.id, work.id, false), 'ok');
        assert.equal((await store.listMailboxes(a.id)).find((b) => b.id === work.id)?.subscribed, false);
        const blob = await putBlob(store, 'm');
        await store.deliver([deliver(a.id, blob, cache(), { id: child.id })]);
        assert.equal(await store.deleteMailbox(a.id, child.id), 'ok');
        assert.equal(await store.deleteMailbox(a.id, child.id), 'not-found');
        const again = await store.createMailbox(a.id, 'Jobs/2026', 1_800_000_000_000);
        assert.ok(typeof again === 'object');
        assert.ok(again.uidValidity > child.uidValidity, 'a re-created mailbox gets a new UIDVALIDITY');
      },
    );

    withStore('flags: set, add, remove, UNCHANGEDSINCE conflicts, one modseq per update', async (store) => {
      const a = await account(store);
      const blob = await putBlob(store, 'f');
      const [d1, d2] = await store.deliver([deliver(a.id, blob), deliver(a.id, blob)]);
      const inbox = d1!.mailboxId;
      const add = await store.updateFlags(a.id, inbox, [1, 2, 99], 'add', ['\\Seen', '$Work'], null);
      assert.equal(add.updated.length, 2);
      assert.deepEqual(add.updated[0]!.flags, ['$Work', '\\Seen']);
      assert.ok(add.modseq > d2!.modseq);
      assert.equal(add.updated[1]!.modseq, add.modseq);
      const same = await store.updateFlags(a.id, inbox, [1], 'add', ['\\Seen'], null);
      assert.deepEqual(same.updated, [], 'no change, no new modseq');
      const cond = await store.updateFlags(a.id, inbox, [1, 2], 'remove', ['$Work'], d2!.modseq);
      assert.deepEqual(cond.conflicts, [1, 2], 'both changed after the given modseq');
      const ok = await store.updateFlags(a.id, inbox, [1], 'set', ['\\Flagged'], add.modseq);
      assert.deepEqual(
        ok.updated.map((e) => e.flags),
        [['\\Flagged']],
      );
      const box = (await store.listMailboxes(a.id)).find((b) => b.id === inbox)!;
      assert.equal(box.unseen, 1);
      assert.equal(box.modseq, ok.modseq);
      const delta = await store.mailboxDelta(a.id, inbox, add.modseq);
      assert.deepEqual(
        delta.entries.map((e) => e.uid),
        [1],
      );
      assert.equal(delta.highestModseq, ok.modseq);
    });

    withStore('expunge removes only \\Deleted entries and records them; orphans go', async (store) => {
      const a = await account(store);
      const blob = await putBlob(store, 'e');
      const ds = await store.deliver([deliver(a.id, blob), deliver(a.id, blob), deliver(a.id, blob)]);
      const inbox = ds[0]!.mailboxId;
      const before = await store.highestModseq(a.id);
      await store.updateFlags(a.id, inbox, [1, 3], 'add', ['\\Deleted'], null);
      assert.deepEqual((await store.expunge(a.id, inbox, [3, 2])).uids, [3], 'only listed and \\Deleted');
      assert.deepEqual((await store.expunge(a.id, inbox, null)).uids, [1]);
      assert.deepEqual(
        (await store.listMailboxEntries(a.id, inbox)).map((e) => e.uid),
        [2],
      );
      assert.equal(
        await store.getMessage(a.id, ds[0]!.messageId),
        null,
        'a message in no mailbox is deleted',
      );
      const delta = await store.mailboxDelta(a.id, inbox, before);
      assert.deepEqual(delta.expunged, [1, 3]);
      assert.deepEqual((await store.expunge(a.id, inbox, null)).uids, []);
    });

    withStore('copy and move keep the message, give new UIDs and report the mapping', async (store) => {
      const a = await account(store);
      const blob = await putBlob(store, 'c');
      const ds = await store.deliver([deliver(a.id, blob), deliver(a.id, blob)]);
      const inbox = ds[0]!.mailboxId;
      const boxes = await store.listMailboxes(a.id);
      const trash = boxes.find((b) => b.specialUse === '\\Trash')!;
      await store.updateFlags(a.id, inbox, [2], 'add', ['\\Seen'], null);
      const copy = await store.copyEntries(a.id, inbox, [2, 1, 50], trash.id, false);
      assert.ok(typeof copy === 'object');
      assert.deepEqual(copy.mapping, [
        [2, 1],
        [1, 2],
      ]);
      assert.equal(copy.uidValidity, trash.uidValidity);
      const trashEntries = await store.listMailboxEntries(a.id, trash.id);
      assert.deepEqual(
        trashEntries.map((e) => [e.uid, e.flags]),
        [
          [1, ['\\Seen']],
          [2, []],
        ],
      );
      const move = await store.copyEntries(a.id, inbox, [1], trash.id, true);
      assert.ok(typeof move === 'object');
      assert.deepEqual(move.mapping, [[1, 3]]);
      assert.deepEqual(
        (await store.listMailboxEntries(a.id, inbox)).map((e) => e.uid),
        [2],
      );
      assert.ok(await store.getMessage(a.id, ds[0]!.messageId), 'moved message still exists');
      assert.equal(await store.copyEntries(a.id, inbox, [2], 9999, false), 'not-found');
      assert.equal((await store.getMessages(a.id, [ds[0]!.messageId, ds[1]!.messageId, 777])).length, 2);
      const keys = await store.listMessageKeys(a.id);
      const messages = await store.getMessages(
        a.id,
        keys.map((k) => k.id),
      );
      assert.deepEqual(
        keys.sort((x, y) => x.id - y.id),
        messages
          .sort((x, y) => x.id - y.id)
          .map((m) => ({
            id: m.id,
            receivedAt: m.receivedAt,
            sentAt: m.sentAt,
            size: m.size,
            threadId: m.threadId,
          })),
      );
      assert.ok(keys.some((k) => k.id === ds[0]!.messageId));
      assert.deepEqual(await store.listMessageKeys(a.id + 1000), []);
      const headers = await store.getHeaders(a.id, [ds[0]!.messageId, 777]);
      assert.deepEqual([...headers.keys()], [ds[0]!.messageId]);
      assert.equal(headers.get(ds[0]!.messageId)?.toString(), 'Subject: hello\r\n\r\n');
      assert.equal((await store.getHeaders(a.id + 1000, [ds[0]!.messageId])).size, 0);
    });

    withStore('submissions: recorded, follow their queue entry, logged, removable', async (store) => {
      const a = await account(store);
      const blob = await putBlob(store, 'Subject: out\r\n\r\nbody');
      const m = await store.enqueueOutbound({
        accountId: a.id,
        sender: 'alice@example.test',
        blob,
        recipients: ['x@remote.test', 'y@remote.test'],
        now: 1,
        expiresAt: 1_000_000,
      });
      const before = await store.highestModseq(a.id);
      const s = await store.addSubmission({
        accountId: a.id,
        identityId: 'i1',
        messageId: 42,
        threadId: 7,
        mailFrom: 'alice@example.test',
        sendAt: 5,
        outboundId: m.id,
        local: ['bob@example.test'],
        remote: ['x@remote.test', 'y@remote.test'],
      });
      assert.ok(s !== 'not-found');
      assert.ok(s.modseq > before);
      const status = async () =>
        (await store.getSubmissions(a.id, [s.id]))[0]!.recipients.map((r) => `${r.address} ${r.delivered}`);
      assert.deepEqual(await status(), [
        'bob@example.test yes',
        'x@remote.test queued',
        'y@remote.test queued',
      ]);
      await store.recordAttempt(m.id, [
        { address: 'x@remote.test', outcome: 'delivered', error: null, nextAttemptAt: 0 },
        { address: 'y@remote.test', outcome: 'deferred', error: '451 4.3.0 later', nextAttemptAt: 99 },
      ]);
      assert.deepEqual(await status(), ['bob@example.test yes', 'x@remote.test yes', 'y@remote.test queued']);
      const reply = (await store.getSubmissions(a.id, null))[0]!.recipients[2]!.smtpReply;
      assert.equal(reply, '451 4.3.0 later');
      await store.recordAttempt(m.id, [
        { address: 'y@remote.test', outcome: 'failed', error: '550 5.1.1 no such user', nextAttemptAt: 0 },
      ]);
      assert.deepEqual(await status(), ['bob@example.test yes', 'x@remote.test yes', 'y@remote.test no']);
      const log = await store.changesSince(a.id, before, 100);
      assert.deepEqual(
        log.filter((c) => c.type === 'EmailSubmission').map((c) => c.op),
        ['create', 'update', 'update'],
      );
      assert.deepEqual(await store.getSubmissions(a.id + 1, null), [], 'per account');
      // The queue entry is gone now; a later record of it can only say "unknown".
      const late = await store.addSubmission({
        accountId: a.id,
        identityId: 'i1',
        messageId: 43,
        threadId: 8,
        mailFrom: 'alice@example.test',
        sendAt: 6,
        outboundId: m.id,
        local: [],
        remote: ['z@remote.test'],
      });
      assert.ok(late !== 'not-found');
      assert.deepEqual(
        (await store.getSubmissions(a.id, [late.id]))[0]!.recipients.map((r) => r.delivered),
        ['unknown'],
      );
      assert.notEqual(await store.removeSubmission(a.id, s.id), 'not-found');
      assert.equal(await store.removeSubmission(a.id, s.id), 'not-found');
      assert.deepEqual(
        (await store.getSubmissions(a.id, null)).map((x) => x.id),
        [late.id],
      );
      assert.equal(
        await store.addSubmission({
          ...{ identityId: 'i', messageId: 1, threadId: 1, mailFrom: '', sendAt: 0 },
          accountId: a.id + 99,
          outboundId: null,
          local: [],
          remote: [],
        }),
        'not-found',
      );
    });

    withStore('identities: create, replace, list, remove, logged', async (store) => {
      const a = await account(store);
      assert.deepEqual(await store.listIdentities(a.id), []);
      const base = {
        accountId: a.id,
        name: 'Alice',
        email: 'alice@example.test',
        replyTo: [{ name: null, email: 'team@example.test' }],
        bcc: null,
        textSignature: '-- \nAlice',
        htmlSignature: '',
      };
      const primary = await store.putIdentity({ ...base, id: 0 });
      assert.ok(primary !== 'not-found');
      assert.equal(primary.id, 0);
      const other = await store.putIdentity({ ...base, id: null, email: 'sales@example.test' });
      assert.ok(other !== 'not-found');
      assert.ok(other.id > 0);
      await store.putIdentity({ ...base, id: 0, name: 'Alice A.' });
      const list = await store.listIdentities(a.id);
      assert.deepEqual(
        list.map((i) => [i.id, i.name, i.email, i.replyTo, i.bcc]),
        [
          [0, 'Alice A.', 'alice@example.test', [{ name: null, email: 'team@example.test' }], null],
          [other.id, 'Alice', 'sales@example.test', [{ name: null, email: 'team@example.test' }], null],
        ],
      );
      assert.deepEqual(await store.listIdentities(a.id + 1), []);
      assert.notEqual(await store.removeIdentity(a.id, other.id), 'not-found');
      assert.equal(await store.removeIdentity(a.id, other.id), 'not-found');
      const log = await store.changesSince(a.id, primary.modseq - 1, 10);
      assert.deepEqual(
        log.map((c) => `${c.type} ${c.objectId === 0 ? 0 : 'n'} ${c.op}`),
        ['Identity 0 update', 'Identity n create', 'Identity 0 update', 'Identity n destroy'],
      );
      assert.equal(await store.putIdentity({ ...base, accountId: a.id + 99, id: null }), 'not-found');
    });

    withStore(
      'audit log: one chain across appends, filtered reads, pruning keeps the chain verifiable',
      async (store, reopen) => {
        const ev = (at: number, action: string, accountId: number | null) => ({
          at,
          accountId,
          action,
          fields: { outcome: 'ok', account: accountId, detail: { n: at } },
        });
        assert.deepEqual(await store.auditBounds(), {
          start: { seq: 0, hash: GENESIS_HASH },
          head: { seq: 0, hash: GENESIS_HASH },
        });
        assert.equal(await store.appendAudit([ev(1000, 'auth.login', 1), ev(2000, 'auth.signin', 2)]), 2);
        assert.equal(await store.appendAudit([ev(3000, 'mail.read', 1)]), 3);
        const all = await store.readAudit({ limit: 10 });
        assert.deepEqual(
          all.map((e) => [e.seq, e.action, e.accountId]),
          [
            [1, 'auth.login', 1],
            [2, 'auth.signin', 2],
            [3, 'mail.read', 1],
          ],
        );
        assert.deepEqual(JSON.parse(all[0]!.text), {
          account: 1,
          action: 'auth.login',
          at: '1970-01-01T00:00:01.000Z',
          detail: { n: 1000 },
          outcome: 'ok',
          prev_hash: GENESIS_HASH,
          seq: 1,
        });
        assert.equal(verifyChain(all, 0, GENESIS_HASH).break, null);
        assert.deepEqual(
          (await store.readAudit({ accountId: 1, limit: 10 })).map((e) => e.seq),
          [1, 3],
        );
        assert.deepEqual(
          (await store.readAudit({ actionPrefix: 'auth', limit: 10 })).map((e) => e.seq),
          [1, 2],
        );
        assert.deepEqual(
          (await store.readAudit({ actionPrefix: 'auth.sign', limit: 10 })).map((e) => e.seq),
          [],
          'whole name parts only',
        );
        assert.deepEqual(
          (await store.readAudit({ since: 2000, limit: 10 })).map((e) => e.seq),
          [2, 3],
        );
        assert.deepEqual(
          (await store.readAudit({ afterSeq: 1, limit: 1 })).map((e) => e.seq),
          [2],
        );
        const pruned = await store.pruneAudit(2500);
        assert.deepEqual(pruned, { removed: 2, start: { seq: 2, hash: all[1]!.hash } });
        const again = await reopen();
        const bounds = await again.auditBounds();
        assert.deepEqual(bounds, {
          start: { seq: 2, hash: all[1]!.hash },
          head: { seq: 3, hash: all[2]!.hash },
        });
        assert.equal(await again.appendAudit([ev(4000, 'auth.login', null)]), 4, 'the chain goes on');
        const left = await again.readAudit({ limit: 10 });
        assert.equal(verifyChain(left, bounds.start.seq, bounds.start.hash).break, null);
        assert.deepEqual(await again.pruneAudit(0), { removed: 0, start: bounds.start });
      },
    );

    withStore('vacation response: stored per account, logged', async (store) => {
      const a = await account(store);
      assert.equal(await store.getVacation(a.id), null);
      const v = {
        isEnabled: true,
        fromDate: 10,
        toDate: null,
        subject: 'Away',
        textBody: 'Back Monday.',
        htmlBody: null,
      };
      const r = await store.setVacation(a.id, v);
      assert.ok(r !== 'not-found');
      assert.deepEqual(await store.getVacation(a.id), v);
      await store.setVacation(a.id, { ...v, isEnabled: false });
      assert.equal((await store.getVacation(a.id))?.isEnabled, false);
      assert.equal(await store.getVacation(a.id + 1), null);
      assert.equal(await store.setVacation(a.id + 99, v), 'not-found');
      const log = await store.changesSince(a.id, r.modseq - 1, 10);
      assert.deepEqual(
        log.map((c) => `${c.type} ${c.op}`),
        ['VacationResponse update', 'VacationResponse update'],
      );
    });

    withStore('forwarding: stored per account, replaced, removed; gone with the account', async (store) => {
      const a = await account(store);
      assert.equal(await store.getForwarding(a.id), null);
      const f = { targets: ['out@remote.test', 'b@example.test'], keepCopy: false, updatedAt: 5 };
      assert.equal(await store.setForwarding(a.id, f), 'ok');
      assert.deepEqual(await store.getForwarding(a.id), f);
      assert.equal(await store.setForwarding(a.id, { ...f, keepCopy: true, updatedAt: 6 }), 'ok');
      assert.deepEqual(await store.getForwarding(a.id), { ...f, keepCopy: true, updatedAt: 6 });
      assert.equal(await store.getForwarding(a.id + 1), null);
      assert.equal(await store.setForwarding(a.id + 99, f), 'not-found');
      assert.equal(await store.setForwarding(a.id + 99, null), 'not-found');
      assert.equal(await store.setForwarding(a.id, null), 'ok');
      assert.equal(await store.getForwarding(a.id), null);
      await store.setForwarding(a.id, f);
      assert.equal(await store.deleteAccount(a.id), 'ok');
      assert.equal(await store.getForwarding(a.id), null);
    });

    withStore(
      'outbound queue: per-recipient state, retries, removal when done; survives reopen',
      async (store, reopen) => {
        const a = await account(store);
        const blob = await putBlob(store, 'Subject: out\r\n\r\nbody');
        const t0 = 1_800_000_000_000;
        const m = await store.enqueueOutbound({
          accountId: a.id,
          sender: 'alice@example.test',
          blob,
          recipients: ['x@remote.test', 'y@remote.test', 'x@remote.test'],
          now: t0,
          expiresAt: t0 + 5 * 86_400_000,
        });
        assert.deepEqual(
          m.recipients.map((r) => [r.address, r.status, r.attempts]),
          [
            ['x@remote.test', 'queued', 0],
            ['y@remote.test', 'queued', 0],
          ],
          'duplicates collapse',
        );
        assert.equal((await store.blobs.read(blob.hash)).toString(), 'Subject: out\r\n\r\nbody');
        assert.equal((await store.dueOutbound(t0 - 1, 10)).length, 0);
        const again = await reopen();
        const [due] = await again.dueOutbound(t0, 10);
        assert.equal(due?.id, m.id);
        assert.equal(due?.recipients.length, 2);
        await again.recordAttempt(m.id, [
          { address: 'x@remote.test', outcome: 'delivered', error: null, nextAttemptAt: t0 },
          {
            address: 'y@remote.test',
            outcome: 'deferred',
            error: '451 try later',
            nextAttemptAt: t0 + 60_000,
          },
        ]);
        assert.equal((await again.dueOutbound(t0 + 1, 10)).length, 0, 'nothing due before the retry time');
        const later = await again.dueOutbound(t0 + 60_000, 10);
        assert.deepEqual(
          later[0]?.recipients.map((r) => [r.address, r.attempts, r.lastError]),
          [['y@remote.test', 1, '451 try later']],
        );
        assert.equal(await again.retryOutbound(m.id, t0 + 5), 'ok');
        assert.equal((await again.dueOutbound(t0 + 5, 10)).length, 1, 'retry makes it due now');
        assert.equal(await again.retryOutbound(9999, t0), 'not-found');
        await again.recordAttempt(m.id, [
          { address: 'y@remote.test', outcome: 'failed', error: '550 no such user', nextAttemptAt: t0 },
        ]);
        assert.equal(await again.getOutbound(m.id), null, 'done: out of the queue');
        assert.equal(await again.blobs.has(blob.hash), false, 'and its blob released');
      },
    );

    withStore(
      'outbound queue: delete releases the blob; mail of a removed account still goes out',
      async (store) => {
        const a = await account(store);
        const blob = await putBlob(store, 'queued bytes');
        const input = { sender: 'a@x.test', blob, recipients: ['r@remote.test'], now: 1, expiresAt: 2 };
        const kept = await store.enqueueOutbound({ ...input, accountId: a.id });
        const gone = await store.enqueueOutbound({ ...input, accountId: a.id });
        assert.equal(await store.deleteOutbound(gone.id), 'ok');
        assert.equal(await store.deleteOutbound(gone.id), 'not-found');
        assert.equal(await store.blobs.has(blob.hash), true, 'still referenced by the other');
        assert.equal(await store.deleteAccount(a.id), 'ok');
        const left = await store.listOutbound();
        assert.deepEqual(
          left.map((m) => [m.id, m.accountId]),
          [[kept.id, null]],
        );
        assert.equal((await store.blobs.read(blob.hash)).toString(), 'queued bytes');
      },
    );

    withStore(
      'uploads: kept with a blob reference, found per account, expired, gone with the account',
      async (store) => {
        const a = await account(store);
        const b = await account(store, 'bob@example.test');
        const blob = await putBlob(store, 'uploaded bytes');
        const up = await store.addUpload(
          { accountId: a.id, id: 'u1', type: 'text/plain', createdAt: 10 },
          blob,
        );
        assert.ok(typeof up === 'object');
        assert.equal(up.size, blob.size);
        assert.equal(
          await store.addUpload({ accountId: 9999, id: 'u9', type: 'x/y', createdAt: 10 }, blob),
          'not-found',
        );
        await store.addUpload(
          { accountId: b.id, id: 'u2', type: 'text/plain', createdAt: 20 },
          await putBlob(store, 'bob bytes'),
        );
        assert.equal((await store.getUpload(a.id, 'u1'))?.blobHash, blob.hash);
        assert.equal(await store.getUpload(b.id, 'u1'), null, 'per account');
        assert.equal((await store.blobs.read(blob.hash)).toString(), 'uploaded bytes');
        assert.equal(await store.expireUploads(15), 1);
        assert.equal(await store.getUpload(a.id, 'u1'), null);
        assert.equal(await store.blobs.has(blob.hash), false, 'its blob went with it');
        assert.equal(await store.deleteAccount(b.id), 'ok');
        assert.equal(await store.expireUploads(Number.MAX_SAFE_INTEGER), 0, 'the account took its uploads');
      },
    );

    withStore('data survives close and reopen', async (_store, reopen) => {
      const a = await account(_store);
      const blob = await putBlob(_store, 'persist');
      const [d] = await _store.deliver([deliver(a.id, blob)]);
      const again = await reopen();
      assert.equal((await again.getMessage(a.id, d!.messageId))?.blobHash, blob.hash);
      assert.equal((await again.blobs.read(blob.hash)).toString(), 'persist');
      const [d2] = await again.deliver([deliver(a.id, blob)]);
      assert.equal(d2!.uid, 2);
    });
  });
}
