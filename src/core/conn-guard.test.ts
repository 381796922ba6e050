import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientOf, createConnectionGuard } from './conn-guard.ts';

const LIMITS = { perClient: 3, unauthenticatedPerClient: 2, perMinute: 5, exempt: ['127.0.0.0/8', '::1'] };

function rig() {
  let now = 0;
  const guard = createConnectionGuard(LIMITS, { now: () => now });
  return {
    guard,
    advance(ms: number) {
      now += ms;
    },
  };
}

test('clients are IPv4 addresses and IPv6 /64 networks', () => {
  assert.equal(clientOf('192.0.2.1'), '192.0.2.1');
  assert.equal(clientOf('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(clientOf('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(clientOf('2001:db8:1:2::99'), '2001:db8:1:2::/64');
  assert.equal(clientOf('2001:0db8:0001:0002::1'), '2001:db8:1:2::/64');
  assert.equal(clientOf('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientOf('::'), '0:0:0:0::/64');
});

test('concurrent connections per client are capped, and a release frees a place', () => {
  const { guard } = rig();
  const a = [1, 2, 3].map(() => guard.admit('192.0.2.1', false));
  assert.ok(a.every((x) => typeof x !== 'string'));
  assert.equal(guard.admit('192.0.2.1', false), 'too-many');
  assert.notEqual(typeof guard.admit('192.0.2.2', false), 'string', 'another client is not affected');
  const first = a[0] as Exclude<(typeof a)[0], string>;
  first.release();
  first.release(); // twice is once
  assert.notEqual(typeof guard.admit('192.0.2.1', false), 'string');
  assert.equal(guard.admit('192.0.2.1', false), 'too-many');
});

test('unauthenticated connections have their own cap; signing in frees the place (AU-04)', () => {
  const { guard } = rig();
  const x = guard.admit('2001:db8::1', true);
  const y = guard.admit('2001:db8::2', true); // the same /64
  if (typeof x === 'string' || typeof y === 'string') throw new Error('refused');
  assert.equal(guard.admit('2001:db8::3', true), 'too-many-unauthenticated');
  const mx = guard.admit('2001:db8::3', false);
  if (typeof mx === 'string') throw new Error('an MX connection is held back by the login cap');
  mx.release();
  x.authenticated();
  x.authenticated(); // twice is once
  assert.notEqual(typeof guard.admit('2001:db8::4', true), 'string');
  assert.equal(guard.admit('2001:db8::5', true), 'too-many');
});

test('new connections per minute are capped (DS-03)', () => {
  const { guard, advance } = rig();
  for (let i = 0; i < 5; i++) {
    const a = guard.admit('198.51.100.1', false);
    if (typeof a === 'string') throw new Error(a);
    a.release();
    advance(1000);
  }
  assert.equal(guard.admit('198.51.100.1', false), 'too-fast');
  advance(56_001);
  assert.notEqual(typeof guard.admit('198.51.100.1', false), 'string', 'the oldest left the minute');
});

test('exempt networks are not counted', () => {
  const { guard } = rig();
  for (let i = 0; i < 50; i++) assert.notEqual(typeof guard.admit('127.0.0.1', true), 'string');
  for (let i = 0; i < 50; i++) assert.notEqual(typeof guard.admit('::ffff:127.0.0.2', true), 'string');
  for (let i = 0; i < 50; i++) assert.notEqual(typeof guard.admit('::1', true), 'string');
  assert.equal(guard.tracked, 0);
});

test('quiet clients are forgotten, so a flood of addresses cannot grow memory without bound', () => {
  const { guard, advance } = rig();
  for (let i = 0; i < 12_000; i++) {
    const a = guard.admit(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, false);
    if (typeof a === 'string') throw new Error(a);
    a.release();
  }
  advance(61_000);
  const a = guard.admit('192.0.2.77', false);
  assert.notEqual(typeof a, 'string');
  assert.equal(guard.tracked, 1);
});
