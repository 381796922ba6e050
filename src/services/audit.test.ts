/**
 * The audit path when the store cannot take records (ATTACKS.md LG-01: never dropped silently):
 * records wait and are written once the store recovers, in order, with `audit.degraded` and
 * `audit.recovered` around the gap and a high alert raised while it lasts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testServices } from '../../test/helpers/services.ts';
import { openSqliteStore } from '../store/sqlite/store.ts';
import type { Store } from '../store/types.ts';
import { localAdminContext } from './admin.ts';

test('a failing audit store loses nothing: records wait, an alert is raised, order is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
  const real = openSqliteStore({ dir });
  let failing = true;
  // The real store, except that appending audit records fails while `failing` (a full disk).
  const store = new Proxy(real, {
    get(target, key) {
      if (key === 'appendAudit')
        return async (batch: Parameters<Store['appendAudit']>[0]) => {
          if (failing) throw new Error('SQLITE_FULL: database or disk is full');
          return target.appendAudit(batch);
        };
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const svc = testServices(store);
  const admin = localAdminContext();
  try {
    assert.ok((await svc.directory.addDomain(admin, 'one.test')).ok);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok((await svc.directory.addDomain(admin, 'two.test')).ok);
    const alerts = await svc.alerts.list(admin, 0, 100);
    assert.ok(alerts.ok);
    const alert = alerts.value.find((a) => a.kind === 'audit.degraded');
    assert.ok(alert, 'an alert while the log cannot be written');
    assert.equal(alert.severity, 'high');
    failing = false;
    await new Promise((r) => setTimeout(r, 1500)); // the next retry
    const found = await svc.audit.search(admin, { limit: 100 });
    assert.ok(found.ok);
    const actions = found.value.map((r) => (JSON.parse(r.text) as { action: string }).action);
    const at = (a: string) => actions.indexOf(a);
    for (const a of ['admin.domain.add', 'audit.degraded', 'audit.recovered', 'alert.audit.degraded'])
      assert.ok(at(a) >= 0, `${a} in ${actions.join(', ')}`);
    assert.ok(at('admin.domain.add') < at('audit.degraded'), 'the waiting record comes first');
    assert.equal(actions.filter((a) => a === 'admin.domain.add').length, 2, 'both records written once');
    const verified = await svc.audit.verify(admin, null);
    assert.ok(verified.ok);
    assert.equal(verified.value.problem, null, 'the chain is whole');
  } finally {
    await svc.flush();
    await real.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
