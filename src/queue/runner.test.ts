import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, forbiddenAddress } from './runner.ts';

test('backoff doubles from a minute and stops at four hours', () => {
  assert.equal(backoffMs(0), 60_000);
  assert.equal(backoffMs(1), 120_000);
  assert.equal(backoffMs(5), 32 * 60_000);
  assert.equal(backoffMs(30), 4 * 3_600_000);
});

test('R16: MX answers never send mail to loopback, private, link-local or multicast addresses', () => {
  for (const ip of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    'fd00::1',
    'fe80::1',
    'ff02::1',
  ])
    assert.equal(forbiddenAddress(ip), true, ip);
  for (const ip of ['93.184.216.34', '172.32.0.1', '2001:db8::1', '8.8.8.8'])
    assert.equal(forbiddenAddress(ip), false, ip);
});
