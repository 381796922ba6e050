/**
 * DKIM signing on the way out and SPF/DKIM/DMARC checks on the way in, through the services with
 * a zone in memory: what the Authentication-Results say, where the message is filed, and when it
 * is refused (including the `l=` trick of ATTACKS.md SM-13).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dkimSign } from 'mailauth';
import { type Zone, zoneResolver } from '../../test/helpers/dns.ts';
import { systemClock } from '../core/clock.ts';
import { silentLogger } from '../core/log.ts';
import { openSqliteStore } from '../store/sqlite/store.ts';
import type { Store } from '../store/types.ts';
import { localAdminContext } from './admin.ts';
import { anonymousContext, createServices, type Services } from './index.ts';

const zone: Zone = {
  'a.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
  '_dmarc.a.test': { TXT: ['v=DMARC1; p=reject'] },
  'q.test': { TXT: ['v=spf1 ip4:192.0.2.9 -all'] },
  '_dmarc.q.test': { TXT: ['v=DMARC1; p=quarantine'] },
};

function bundle(store: Store, dmarcReject: boolean): Services {
  return createServices({
    store,
    clock: systemClock,
    log: silentLogger(),
    resolver: zoneResolver(zone),
    settings: {
      maxMessageSize: 1 << 20,
      maxReceivedHeaders: 50,
      hostname: 'mx.b.test',
      maxMessagesPerHour: 100,
      inbound: { dmarcReject },
      sessions: { idleMs: 3_600_000, lifetimeMs: 86_400_000 },
    },
  });
}

const message = (from: string, body = 'Hello Bob.\r\n') =>
  Buffer.from(
    `From: ${from}\r\nTo: bob@b.test\r\nSubject: lunch\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@a.test>\r\n\r\n${body}`,
  );

describe('inbound checks and DKIM signing', () => {
  let dir: string;
  let store: Store;
  let svc: Services;
  let strict: Services;
  let bobId: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-auth-'));
    store = openSqliteStore({ dir });
    svc = bundle(store, false);
    strict = bundle(store, true);
    const admin = localAdminContext();
    for (const d of ['a.test', 'b.test']) await svc.directory.addDomain(admin, d);
    const bob = await svc.directory.addUser(admin, 'bob@b.test', 'bob-password-1');
    assert.ok(bob.ok);
    bobId = bob.value.id;
    const keys = await svc.dkim.generate(admin, 'a.test');
    assert.ok(keys.ok);
    assert.deepEqual(
      keys.value.map((k) => k.algorithm),
      ['ed25519', 'rsa'],
    );
    for (const k of keys.value) {
      assert.match(k.name, /^pc\d{8}[er]\._domainkey\.a\.test$/);
      zone[k.name] = { TXT: [k.record] };
    }
    assert.equal((await svc.dkim.generate(admin, 'a.test')).ok, false, 'same-day selectors exist');
    assert.equal((await svc.dkim.generate(admin, 'c.test')).ok, false, 'not a local domain');
    const listed = await svc.dkim.list(admin, 'a.test');
    assert.ok(listed.ok);
    assert.deepEqual(listed.value, keys.value);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Delivers raw bytes as if from a client at `ip`; returns the result and the filed copy. */
  async function receive(services: Services, raw: Buffer, ip: string, mailFrom: string) {
    const ctx = anonymousContext({ protocol: 'smtp', remote: ip, sessionId: 's' });
    const intake = services.delivery.begin(ctx, {
      mailFrom,
      recipients: ['bob@b.test'],
      prefix: () => Buffer.from('Received: from test\r\n'),
      client: { ip, helo: 'mail.a.test' },
    });
    for (let i = 0; i < raw.length; i += 7) await intake.write(raw.subarray(i, i + 7));
    const r = await intake.commit();
    const boxes = await store.listMailboxes(bobId);
    let last: { id: number; box: string; text: string } | undefined;
    for (const box of boxes) {
      for (const e of await store.listMailboxEntries(bobId, box.id)) {
        if (last && last.id > e.messageId) continue;
        const m = await store.getMessage(bobId, e.messageId);
        last = { id: e.messageId, box: box.name, text: (await store.blobs.read(m!.blobHash)).toString() };
      }
    }
    return { r, last };
  }

  test('signed by a.test from its SPF address: dkim, spf and dmarc pass; filed to INBOX', async () => {
    const raw = message('Alice <alice@a.test>');
    const signed = Buffer.concat([Buffer.from(await svc.dkim.sign(raw, 'a.test')), raw]);
    assert.equal(signed.toString().match(/^DKIM-Signature:/gm)?.length, 2, 'Ed25519 and RSA');
    assert.doesNotMatch(signed.toString(), /\bl=/, 'never l=');
    const { r, last } = await receive(svc, signed, '192.0.2.1', 'alice@a.test');
    assert.ok(r.ok);
    assert.equal(last?.box, 'INBOX');
    const text = last!.text;
    assert.ok(text.startsWith('Received: from test\r\nReceived-SPF: pass'), text.slice(0, 200));
    assert.match(text, /Authentication-Results: mx\.b\.test;/);
    assert.match(text, /dkim=pass header\.i=@a\.test header\.s=pc\d{8}e header\.a=ed25519-sha256/);
    assert.match(text, /dkim=pass header\.i=@a\.test header\.s=pc\d{8}r header\.a=rsa-sha256/);
    assert.match(text, /spf=pass/);
    assert.match(text, /dmarc=pass/);
    assert.ok(text.endsWith('Hello Bob.\r\n'));
  });

  test('a forged From of a p=reject domain goes to Junk, or is refused when configured', async () => {
    const forged = message('Alice <alice@a.test>', 'Please wire money.\r\n');
    const junk = await receive(svc, forged, '203.0.113.5', 'mallory@evil.test');
    assert.ok(junk.r.ok);
    assert.equal(junk.last?.box, 'Junk');
    assert.match(junk.last!.text, /dkim=none/);
    assert.match(junk.last!.text, /dmarc=fail/);
    const refused = await receive(strict, forged, '203.0.113.5', 'mallory@evil.test');
    assert.deepEqual(refused.r, { ok: false, error: 'dmarc-reject' });
    assert.equal(refused.last?.text, junk.last?.text, 'nothing filed');
  });

  test('a p=quarantine failure goes to Junk even when rejection is configured', async () => {
    const { r, last } = await receive(strict, message('q@q.test'), '203.0.113.5', 'q@q.test');
    assert.ok(r.ok);
    assert.equal(last?.box, 'Junk');
    assert.match(last!.text, /spf=fail/);
  });

  test('SM-13: a valid l= signature with content appended is neutral and does not align', async () => {
    const keys = await store.listDkimKeys('a.test');
    const raw = message('alice@a.test', 'Signed part.\r\n');
    const key = { signingDomain: 'a.test', selector: keys[1]!.selector, privateKey: keys[1]!.privateKey };
    const { signatures } = await dkimSign(raw, { ...key, signatureData: [{ ...key, maxBodyLength: 14 }] });
    assert.match(signatures, /\bl=14/);
    const tampered = Buffer.concat([Buffer.from(signatures), raw, Buffer.from('Appended: click here.\r\n')]);
    const { r, last } = await receive(svc, tampered, '203.0.113.5', 'x@evil.test');
    assert.ok(r.ok);
    assert.match(last!.text, /dkim=neutral \(\d+ body bytes after l=\) header\.d=a\.test/);
    assert.match(last!.text, /dmarc=fail/);
    assert.equal(last?.box, 'Junk');
    // The same signature over the untouched message still passes.
    const intact = Buffer.concat([Buffer.from(signatures), raw]);
    const ok = await receive(svc, intact, '203.0.113.5', 'x@evil.test');
    assert.match(ok.last!.text, /dkim=pass/);
    assert.equal(ok.last?.box, 'INBOX');
  });

  test('results that claim to be ours are renamed; those of other hosts are kept', async () => {
    const forged = Buffer.from(
      'Authentication-Results: MX.B.TEST; dkim=pass header.d=a.test; dmarc=pass\r\n' +
        'Authentication-Results: (comment)\r\n mx.b.test; spf=pass\r\n' +
        'Authentication-Results: relay.other.test; spf=pass\r\n' +
        'From: mallory@evil.test\r\nSubject: trust me\r\n\r\nbody\r\n',
    );
    const { r, last } = await receive(svc, forged, '203.0.113.5', 'mallory@evil.test');
    assert.ok(r.ok);
    const text = last!.text;
    assert.equal(text.match(/^X-Untrusted-Authentication-Results: MX\.B\.TEST; dkim=pass/gm)?.length, 1);
    assert.match(text, /^X-Untrusted-Authentication-Results: \(comment\)\r\n mx\.b\.test; spf=pass/m);
    assert.match(text, /^Authentication-Results: relay\.other\.test; spf=pass/m);
    assert.equal(text.match(/^Authentication-Results: mx\.b\.test;/gm)?.length, 1, 'only our own');
    assert.ok(text.endsWith('\r\n\r\nbody\r\n'));
    // A message that is all header (no blank line) is stored whole.
    const bare = await receive(svc, Buffer.from('Subject: no body\r\n'), '203.0.113.5', 'x@evil.test');
    assert.ok(bare.r.ok);
    assert.ok(bare.last!.text.endsWith('\r\nSubject: no body\r\n'));
  });

  test('only the administrator manages keys', async () => {
    const user = anonymousContext({ protocol: 'smtp', remote: '1.2.3.4', sessionId: 'x' });
    assert.equal((await svc.dkim.generate(user, 'a.test')).ok, false);
    assert.equal((await svc.dkim.list(user)).ok, false);
    assert.equal((await svc.dkim.remove(user, 'a.test', 'x')).ok, false);
    const admin = localAdminContext();
    assert.equal((await svc.dkim.remove(admin, 'a.test', 'nope')).ok, false);
  });
});
