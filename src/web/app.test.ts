import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalPath } from './app.ts';

test('PX-04: only canonical paths pass; percent-encoding only for harmless segment content', () => {
  for (const ok of [
    '/',
    '/jmap/api',
    '/jmap/download/a1/b3.2/figures.pdf',
    '/jmap/download/a1/b3/%E2%82%AC%20figures.pdf',
    '/x/',
  ])
    assert.equal(canonicalPath(ok), true, ok);
  for (const bad of [
    'jmap',
    '//jmap',
    '/jmap//api',
    '/jmap/../admin',
    '/jmap/./api',
    '/%2e%2e/admin',
    '/%2E/admin',
    '/api%2fadmin',
    '/api%5cadmin',
    '/admin%00.js',
    '/admin;.js',
    '/a\\b',
    '/%c0%ae%c0%ae/admin',
    '/%zz',
    '/a%0d%0aSet-Cookie:x',
    '/caf\u00e9',
    `/${'a'.repeat(3000)}`,
  ])
    assert.equal(canonicalPath(bad), false, bad);
});
