import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalAddress, canonicalDomain } from './address.ts';

describe('canonicalAddress', () => {
  const good: [string, string][] = [
    ['Bob@Example.TEST', 'bob@example.test'],
    ['bob+tag@example.test', 'bob+tag@example.test'],
    ['first.last@sub.example.test', 'first.last@sub.example.test'],
    ['zoë@bücher.test', 'zoë@xn--bcher-kva.test'],
    ['bob@example.test.', 'bob@example.test'],
  ];
  for (const [input, want] of good) {
    test(`accepts ${input}`, () => {
      const r = canonicalAddress(input);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.address, want);
    });
  }
  // ATTACKS.md SM-04: every routing trick is refused before any relay decision.
  const bad = [
    'x%ext.test@example.test',
    '@example.test:x@ext.test',
    '"x@ext.test"@example.test',
    'ext.test!x@example.test',
    'x@ext.test@example.test',
    'x@[1.2.3.4]',
    'x@127.0.0.1',
    'x@',
    '@example.test',
    'no-at-sign',
    '.x@example.test',
    'x..y@example.test',
    'x@-bad-.test',
    `${'a'.repeat(65)}@example.test`,
    'x\0@example.test',
    'x\r\n@example.test',
    'a b@example.test',
  ];
  for (const input of bad) {
    test(`refuses ${JSON.stringify(input)}`, () => assert.equal(canonicalAddress(input).ok, false));
  }
});

test('canonicalDomain', () => {
  assert.equal(canonicalDomain('EXAMPLE.test'), 'example.test');
  assert.equal(canonicalDomain('münchen.test'), 'xn--mnchen-3ya.test');
  assert.equal(canonicalDomain('1.2.3.4'), null);
  assert.equal(canonicalDomain('a..b'), null);
  assert.equal(canonicalDomain(''), null);
  for (const repaired of [
    'a\r\nb.test',
    'a\tb.test',
    'a b.test',
    'ex\u0000ample.test',
    'exa\u00admple.test',
    'a\u200b.test',
    'a\ufeff.test',
    'a\u00a0b.test',
  ])
    assert.equal(canonicalDomain(repaired), null, JSON.stringify(repaired));
});
