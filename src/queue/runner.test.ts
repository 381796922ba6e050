import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../core/log.ts';
import { openSqliteStore } from '../store/sqlite/store.ts';
import type { Store } from '../store/types.ts';
import { backoffMs, startQueueRunner } from './runner.ts';

test('backoff doubles from a minute and stops at four hours', () => {
  assert.equal(backoffMs(0), 60_000);
  assert.equal(backoffMs(1), 120_000);
  assert.equal(backoffMs(5), 32 * 60_000);
  assert.equal(backoffMs(30), 4 * 3_600_000);
});

/** A store holding alice@a.test and one message from her to `to`, queued at `now`. */
async function queued(store: Store, to: string, now: number): Promise<void> {
  await store.createDomain('a.test', 0);
  const a = await store.createAccount({
    address: 'alice@a.test',
    domain: 'a.test',
    displayName: '',
    passwordHash: 'x',
    quotaBytes: 0,
    mailboxes: [],
    now: 0,
  });
  assert.ok(typeof a === 'object');
  const w = store.blobs.create();
  await w.write(Buffer.from('From: alice@a.test\r\nSubject: waiting\r\n\r\nbody\r\n'));
  await store.enqueueOutbound({
    accountId: a.id,
    sender: 'alice@a.test',
    blob: await w.finish(),
    recipients: [to],
    now,
    expiresAt: now + 5 * 86_400_000,
  });
}

test('R16: an MX answer naming only inside addresses is never connected to; the message fails back to its sender', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-runner-'));
  const store = openSqliteStore({ dir });
  // A receiver on loopback, where the MX answer points (as a name for the loopback, a mapped
  // form of it, a private and a documentation address).
  let connections = 0;
  const receiver = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    await queued(store, 'bob@evil.test', 1_800_000_000_000);
    const notices: string[] = [];
    const runner = startQueueRunner({
      store,
      resolver: {
        mx: async () => [{ exchange: 'mx.evil.test', priority: 10 }],
        addresses: async () => ['127.0.0.1', '::ffff:127.0.0.1', '10.0.0.1', '2001:db8::25'],
        resolve: async () => [],
      },
      routes: new Map(),
      smartHost: null,
      mxPort: (receiver.address() as AddressInfo).port,
      allowPrivate: false,
      hostname: 'mx.a.test',
      clock: { now: () => 1_800_000_000_000 },
      log: silentLogger(),
      notify: async (to, raw) => {
        notices.push(`${to} ${raw.toString()}`);
      },
      delayNoticeMs: 0,
      intervalMs: 3_600_000,
      timeoutMs: 5000,
    });
    await runner.stop();
    assert.equal(connections, 0);
    assert.equal((await store.listOutbound()).length, 0);
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, /^alice@a\.test /);
    assert.match(notices[0]!, /no mail server for evil\.test/);
  } finally {
    receiver.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a receiver that stays down: retried with backoff, one delay notice after the set age, then a failure report at expiry', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-runner-'));
  const store = openSqliteStore({ dir });
  try {
    const t0 = 1_800_000_000_000;
    await queued(store, 'bob@down.test', t0);
    const clock = { t: t0, now: () => clock.t };
    const notices: string[] = [];
    // One pass of the runner at the clock's time; port 9 on loopback refuses connections.
    const pass = async (): Promise<void> => {
      const runner = startQueueRunner({
        store,
        resolver: { mx: async () => [], addresses: async () => [], resolve: async () => [] },
        routes: new Map([['down.test', { host: '127.0.0.1', port: 9 }]]),
        smartHost: null,
        mxPort: 25,
        allowPrivate: false,
        hostname: 'mx.a.test',
        clock,
        log: silentLogger(),
        notify: async (to, raw) => {
          notices.push(`${to} ${raw.toString()}`);
        },
        delayNoticeMs: 4 * 3_600_000,
        intervalMs: 3_600_000,
        timeoutMs: 5000,
      });
      await runner.stop(); // waits for the pass it started
    };
    const state = async () => (await store.listOutbound())[0]?.recipients[0];

    await pass();
    assert.equal((await state())?.attempts, 1);
    assert.equal((await state())?.nextAttemptAt, t0 + 60_000, 'first retry after a minute');
    clock.t = t0 + 30_000;
    await pass();
    assert.equal((await state())?.attempts, 1, 'not due yet');
    clock.t = t0 + 5 * 3_600_000;
    await pass();
    assert.equal((await state())?.attempts, 2);
    assert.equal(notices.length, 1, 'one delay notice once the message is 4 hours old');
    assert.match(notices[0]!, /^alice@a\.test /);
    assert.match(notices[0]!, /Subject: Delayed Mail \(still being retried\)/);
    assert.match(notices[0]!, /Action: delayed\r\nStatus: 4\.4\.7\r\nWill-Retry-Until: /);
    clock.t = t0 + 10 * 3_600_000;
    await pass();
    assert.equal(notices.length, 1, 'never a second delay notice');
    clock.t = t0 + 5 * 86_400_000 + 1;
    await pass();
    assert.equal(await state(), undefined, 'expired messages leave the queue');
    assert.equal(notices.length, 2);
    assert.match(notices[1]!, /Subject: Undelivered Mail Returned to Sender/);
    assert.match(notices[1]!, /Action: failed/);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
