/**
 * ATTACKS.md LG-05 (file integrity): a file dropped into the server's code while it runs is
 * found by the periodic check against the manifest taken at start, audited and alerted once; a
 * file changed while it was stopped is found at the next start. The server runs from a copy of
 * the code in a temporary folder, so the test can write into "its" code. LG-01 (reads) is in
 * test/integration/audit.test.ts, LG-03 (persistence) in replay.test.ts and auth.test.ts, LG-04
 * (tampering with the log) in both.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliOk, makeDataDir, ROOT, type RunningServer, startServer } from '../helpers/server.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LG-05: the integrity of the server code', () => {
  let code: string;
  let data: { path: string; remove(): void };
  let server: RunningServer | null = null;
  before(() => {
    code = mkdtempSync(join(tmpdir(), 'portcullis-code-'));
    for (const p of ['bin', 'src', 'webmail/dist', 'package.json', 'package-lock.json', 'tsconfig.json'])
      cpSync(join(ROOT, p), join(code, p), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(code, 'node_modules'));
    data = makeDataDir({ domains: ['example.test'], config: '[audit]\nintegrityCheckSeconds = 1' });
  });
  after(async () => {
    await server?.stop();
    data.remove();
    rmSync(code, { recursive: true, force: true });
  });
  type Alert = { kind: string; severity: string; summary: string; detail: Record<string, string> };
  const alerts = () =>
    cliOk(data.path, ['alerts', 'list', '--json'])
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Alert)
      .filter((a) => a.kind === 'integrity');
  const start = () => startServer(data.path, ['http=127.0.0.1:0'], join(code, 'bin/portcullis.js'));

  test('a web shell dropped into the code while the server runs is alerted once; a change while stopped, at the next start', async () => {
    server = await start();
    assert.deepEqual(alerts(), [], 'a first start has nothing to compare with');
    writeFileSync(join(code, 'src/web/errors.aspx.js'), 'export default (req) => eval(req.query.c);\n');
    const until = Date.now() + 15_000;
    while (
      Date.now() < until &&
      !server.logs.some((l) => l['msg'] === 'alert: files in the server code changed while it runs')
    )
      await sleep(200);
    await sleep(2500);
    const [shell, ...more] = alerts();
    assert.equal(more.length, 0, 'one alert, however many checks ran since');
    assert.equal(shell?.kind, 'integrity');
    assert.equal(shell?.severity, 'high');
    assert.equal(shell?.detail['added'], 'src/web/errors.aspx.js');
    // The dropped file is never served.
    const r = await fetch(`http://127.0.0.1:${server.ports['http']}/src/web/errors.aspx.js`);
    assert.equal(r.status, 404);
    await server.stop();

    appendFileSync(join(code, 'src/web/app.ts'), '\n// changed while stopped\n');
    // The webmail the server serves is covered too.
    appendFileSync(join(code, 'webmail/dist/index.html'), '<script src="https://evil.test/x.js"></script>');
    server = await start();
    const atStart = alerts().find((a) => a.severity === 'medium');
    assert.equal(atStart?.kind, 'integrity');
    assert.equal(atStart?.detail['changed'], 'src/web/app.ts webmail/dist/index.html');
    assert.equal(atStart?.detail['added'], 'src/web/errors.aspx.js', 'the shell is still there: said again');
    const audit = cliOk(data.path, ['audit', 'search', '--action', 'system.integrity']);
    assert.equal(audit.trim().split('\n').length, 3, audit);
    assert.match(cliOk(data.path, ['audit', 'verify']), /^audit log intact/);
  });
});
