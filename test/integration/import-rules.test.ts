/**
 * The layer rules of STYLE.md §2 are enforced by dependency-cruiser: the real tree passes, and a
 * fixture tree with one violation of each kind is caught rule by rule.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/server.ts';

const depcruise = (cwd: string) =>
  spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
      'src',
      '--config',
      join(ROOT, '.dependency-cruiser.cjs'),
      '--output-type',
      'json',
    ],
    {
      cwd,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

test('the source tree follows the import rules', () => {
  const r = depcruise(ROOT);
  const result = JSON.parse(r.stdout) as { summary: { violations: Violation[] } };
  assert.deepEqual(result.summary.violations, []);
});

test('each kind of forbidden import is caught', () => {
  const r = depcruise(join(ROOT, 'test/fixtures/import-rules'));
  const found = (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations.map(
    (v) => `${v.rule.name}: ${v.from} -> ${v.to}`,
  );
  for (const want of [
    'protocol-imports: src/protocols/imap/bad.ts -> src/store/types.ts',
    'protocol-imports: src/protocols/imap/bad.ts -> src/protocols/smtp/server.ts',
    'no-admin-context-on-request-paths: src/protocols/imap/bad.ts -> src/services/admin.ts',
    'store-backends-behind-factory: src/protocols/imap/bad.ts -> src/store/sqlite/store.ts',
    'core-imports: src/core/bad.ts -> src/store/types.ts',
  ]) {
    assert.ok(found.includes(want), `${want} in ${JSON.stringify(found, null, 1)}`);
  }
});
