import assert from 'node:assert/strict';
import { test } from 'node:test';
import { badNetwork, inNetworks, parseNetworks, publicAddress } from './networks.ts';

test('R16: inside addresses, in either family and the IPv6 forms that embed IPv4, are not public', () => {
  for (const ip of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '192.0.2.7',
    '198.51.100.1',
    '203.0.113.9',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:8.8.8.8',
    '::127.0.0.1',
    '64:ff9b::a00:1',
    '2002:a00:1::1',
    '2001:db8::1',
    'fd00::1',
    'fe80::1',
    'ff02::1',
  ])
    assert.equal(publicAddress(ip), false, ip);
  for (const ip of ['93.184.216.34', '172.32.0.1', '8.8.8.8', '2606:4700::1111', '2a00:1450:4001::1'])
    assert.equal(publicAddress(ip), true, ip);
  for (const notAnAddress of ['', 'localhost', '0x7f000001', '2130706433', '127.1'])
    assert.equal(publicAddress(notAnAddress), false, notAnAddress);
});

test('network lists: addresses and ADDRESS/PREFIX networks, each family matched on its own', () => {
  const list = parseNetworks(['10.0.0.0/8', '192.0.2.1', 'fd00::/8', '::1', '::/0']);
  for (const ip of ['10.9.9.9', '192.0.2.1', 'fd12::1', '::1', '2001:db8::1'])
    assert.equal(inNetworks(list, ip), true, ip);
  // `::/0` covers every IPv6 address, mapped ones included, and no IPv4 one.
  for (const ip of ['192.0.2.2', '11.0.0.1', '8.8.8.8', 'example.com'])
    assert.equal(inNetworks(list, ip), false, ip);
  assert.equal(badNetwork(['10.1.2.0/24', 'fd00::/8', '192.0.2.1']), null);
  for (const bad of [
    '10.0.0.0/33',
    'fd00::/129',
    'example.com',
    '10.0.0/8',
    '10.0.0.0/x',
    '10.0.0.0/',
    '10.0.0.0/8/8',
  ]) {
    assert.equal(badNetwork(['10.1.2.0/24', bad]), bad);
    assert.throws(() => parseNetworks([bad]), new RegExp(bad.replace(/[./]/g, '\\$&')));
  }
});
