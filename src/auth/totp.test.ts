import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRecoveryCodes, newTotpSecret, recoveryCodeHash, totpCode, totpStep, totpUri } from './totp.ts';

// RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", whose 8-digit code at T = 59 s is
// 94287082 and at T = 1111111109 s is 07081804; 6-digit codes are their last six digits.
const base32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890" in base32

test('codes match the RFC 6238 vectors', () => {
  assert.equal(totpCode(base32, 59_000), '287082');
  assert.equal(totpCode(base32, 1_111_111_109_000), '081804');
});

test('a code is accepted in its step and the neighbouring ones, and names its step', () => {
  const now = 1_111_111_109_000;
  assert.equal(totpStep(base32, '081804', now), 1_111_111_080_000);
  assert.equal(totpStep(base32, '081 804', now + 30_000), 1_111_111_080_000, 'one step late');
  assert.equal(totpStep(base32, '081804', now + 90_000), null, 'too late');
  assert.equal(totpStep(base32, '081805', now), null);
  for (const bad of ['', '12345', '1234567', 'abcdef', '08180４'])
    assert.equal(totpStep(base32, bad, now), null, bad);
});

test('secrets are fresh and the URI carries issuer, account and parameters', () => {
  const a = newTotpSecret();
  assert.match(a, /^[A-Z2-7]{32}$/);
  assert.notEqual(a, newTotpSecret());
  const uri = new URL(totpUri(a, 'alice@example.test', 'mail.example.test'));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.searchParams.get('secret'), a);
  assert.equal(uri.searchParams.get('issuer'), 'mail.example.test');
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.match(decodeURIComponent(uri.pathname), /alice@example\.test/);
});

test('recovery codes: ten distinct, hashed in normal form only', () => {
  const codes = newRecoveryCodes();
  assert.equal(new Set(codes).size, 10);
  for (const c of codes) assert.match(c, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  const c = codes[0]!;
  assert.equal(recoveryCodeHash(c.toUpperCase().replace(/-/g, ' ')), recoveryCodeHash(c));
  assert.equal(recoveryCodeHash('short'), null);
  assert.equal(recoveryCodeHash('0000-0000-0000-0000'), null, '0 is not in the alphabet');
});
