import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Origin } from './principal.ts';
import { createThrottle, type ThrottleSettings } from './throttle.ts';

const SETTINGS: ThrottleSettings = {
  windowMs: 60_000,
  freeFailures: 2,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  blockSourceAfter: 20,
};

/** A throttle on a hand-driven clock whose waits are recorded and pass at once. */
function rig(settings = SETTINGS) {
  let now = 1_000_000;
  const waits: number[] = [];
  const throttle = createThrottle({
    clock: { now: () => now },
    settings,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  const from = (remote: string): Origin => ({ protocol: 'imap', remote, sessionId: 's' });
  /** One attempt: the wait it had, then its outcome counted. */
  const attempt = async (remote: string, name: string, good = false): Promise<number | 'throttled'> => {
    const before = waits.length;
    const r = await throttle.gate(from(remote), name);
    if (!r.ok) return r.error;
    throttle.record(from(remote), name, good);
    return waits.length > before ? waits.at(-1)! : 0;
  };
  return {
    throttle,
    attempt,
    from,
    waits,
    advance(ms: number) {
      now += ms;
    },
  };
}

test('free failures cost nothing, then each failure doubles the wait up to the ceiling', async () => {
  const r = rig();
  const got: (number | string)[] = [];
  for (let i = 0; i < 9; i++) {
    got.push(await r.attempt('192.0.2.1', 'alice@example.test'));
    r.advance(5000); // far apart: no queueing, only the penalty
  }
  assert.deepEqual(got, [0, 0, 0, 100, 200, 400, 800, 1000, 1000]);
});

test('failures of one name from many sources slow that name down (AU-02)', async () => {
  const r = rig();
  for (let i = 0; i < 4; i++) {
    await r.attempt(`198.51.100.${i}`, 'bob@example.test');
    r.advance(5000);
  }
  assert.equal(
    await r.attempt('198.51.100.99', 'bob@example.test'),
    200,
    'a fresh source waits for the name',
  );
  assert.equal(await r.attempt('198.51.100.99', 'carol@example.test'), 0, 'another name does not');
});

test('one source spraying many names is slowed, then refused without any check', async () => {
  const r = rig();
  const got: (number | string)[] = [];
  for (let i = 0; i < 25; i++) {
    got.push(await r.attempt('203.0.113.7', `user${i}@example.test`));
    r.advance(2000);
  }
  assert.deepEqual(got.slice(0, 5), [0, 0, 0, 100, 200]);
  assert.equal(got[19], 1000);
  assert.deepEqual(got.slice(20), ['throttled', 'throttled', 'throttled', 'throttled', 'throttled']);
  assert.equal(await r.attempt('203.0.113.8', 'user1@example.test'), 0, 'a neighbour address is not refused');
  r.advance(60_000);
  assert.equal(await r.attempt('203.0.113.7', 'new@example.test'), 0, 'failures age out of the window');
});

test('parallel attempts of one source queue behind each other (AU-04)', async () => {
  const r = rig();
  for (let i = 0; i < 4; i++) {
    await r.attempt('192.0.2.9', `x${i}`);
    r.advance(5000);
  }
  const before = r.waits.length;
  // Four attempts at the same instant: each waits for the one before it, plus the penalty.
  await Promise.all([0, 1, 2, 3].map((i) => r.throttle.gate(r.from('192.0.2.9'), `y${i}`)));
  assert.deepEqual(r.waits.slice(before), [200, 400, 600, 800]);
});

test('too many waiting attempts of one source are refused', async () => {
  let release: () => void = () => {};
  const blocked = new Promise<void>((resolve) => {
    release = resolve;
  });
  const throttle = createThrottle({ clock: { now: () => 5000 }, settings: SETTINGS, sleep: () => blocked });
  const o = { protocol: 'web' as const, remote: '192.0.2.50', sessionId: 's' };
  for (let i = 0; i < 3; i++) throttle.record(o, `n${i}`, false);
  const pending = Array.from({ length: 20 }, (_, i) => throttle.gate(o, `m${i}`));
  assert.deepEqual(await throttle.gate(o, 'one-more'), { ok: false, error: 'throttled' });
  release();
  assert.ok((await Promise.all(pending)).every((x) => x.ok));
});

test('a success clears the failures of its name, not of its source', async () => {
  const r = rig();
  for (let i = 0; i < 4; i++) {
    await r.attempt('192.0.2.20', 'dave@example.test');
    r.advance(5000);
  }
  assert.equal(await r.attempt('192.0.2.20', 'dave@example.test', true), 200);
  r.advance(5000);
  assert.equal(await r.attempt('192.0.2.21', 'dave@example.test'), 0, 'the name starts again');
  r.advance(5000);
  assert.equal(await r.attempt('192.0.2.20', 'eve@example.test'), 200, 'the source still pays');
});

test('names are compared without case or surrounding space', async () => {
  const r = rig();
  const names = ['Alice@Example.Test', ' alice@example.test', 'ALICE@EXAMPLE.TEST'];
  for (const [i, n] of names.entries()) await r.attempt(`192.0.2.${i + 100}`, n);
  assert.equal(await r.attempt('192.0.2.200', 'alice@example.test'), 100);
});
