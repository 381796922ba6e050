/**
 * The mass-read rule of the detector on a hand-driven clock: an account is alerted past the
 * threshold, then only when it reads three times more than in any earlier window (its baseline).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../core/log.ts';
import { openSqliteStore } from '../store/sqlite/store.ts';
import { createDetector } from './alerts.ts';
import { anonymousContext } from './principal.ts';

test('mass reads are measured against the account baseline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-alerts-'));
  const store = openSqliteStore({ dir });
  let now = 1_000_000;
  const detector = createDetector({
    store,
    clock: { now: () => now },
    log: silentLogger(),
    audit: () => {},
    settings: {
      windowMs: 60_000,
      failuresPerAccount: 10,
      failuresPerSource: 20,
      sprayAccounts: 5,
      massReadMessages: 10,
      massReadBytes: 1_000_000,
    },
  });
  const ctx = anonymousContext({ protocol: 'imap', remote: '192.0.2.1', sessionId: 's' });
  const other = anonymousContext({ protocol: 'jmap', remote: '192.0.2.2', sessionId: 't' });
  const read = async (n: number, bytes = 100, who = ctx, account = 7) => {
    for (let i = 0; i < n; i++) detector.observeRead(who, account, 1, bytes);
    await detector.settle();
    return (await store.listAlerts(0, 100)).filter((a) => a.kind === 'mail.mass-read');
  };
  try {
    assert.equal((await read(9)).length, 0, 'below the threshold');
    const first = await read(21);
    assert.equal(first.length, 1, 'a first window past the threshold');
    assert.equal(first[0]!.detail['firstSync'], false, 'no credential: not a new device');
    now += 61_000;
    assert.equal((await read(80)).length, 1, 'eighty is within three times the thirty of before');
    assert.equal((await read(15)).length, 2, 'ninety-five is not');
    assert.equal((await read(0)).at(-1)!.detail['baseline'], 30);
    // Volume counts too: three large messages of another account, read by two sessions.
    now += 600_000;
    await read(1, 200_000, other, 8);
    assert.equal((await read(1, 300_000, ctx, 8)).length, 2, 'half a megabyte is below the byte threshold');
    const large = await read(2, 300_000, ctx, 8);
    assert.equal(large.length, 3);
    assert.deepEqual(
      [
        large[2]!.detail['messages'],
        large[2]!.detail['bytes'],
        large[2]!.detail['session'],
        large[2]!.detail['sessionMessages'],
      ],
      [4, 1_100_000, 's', 3],
      'one session did most of it',
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
