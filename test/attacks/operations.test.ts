/**
 * ATTACKS.md cases of operations and storage: AD-02 (secrets stay out of the configuration
 * file's readers and out of the logs), AD-04 and PX-10 (the server runs as an unprivileged user
 * that cannot write its own code, and nothing in the data folder is ever served), PX-16 (no
 * configuration value or request reaches a shell: there is no way to start a process at all).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { cli, cliOk, makeDataDir, ROOT, startServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const USER = { address: 'ops@example.test', password: 'ops-password-123' };
const NOBODY = { uid: 65534, gid: 65534 };

/** Every file under `dir`, relative to it. */
const files = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' });

describe('operations and storage', () => {
  test('AD-02: secrets live in owner-only files, never in the logs; a readable config with a secret is refused', async () => {
    const data = makeDataDir({ domains: ['example.test'], users: [USER] });
    try {
      const mode = (p: string) => statSync(join(data.path, p)).mode & 0o777;
      assert.equal(mode('.'), 0o700);
      for (const p of ['portcullis.toml', 'secrets/install.key', 'tls/key.pem'].filter((p) =>
        existsSync(join(data.path, p)),
      ))
        assert.equal(mode(p), 0o600, p);
      const key = readFileSync(join(data.path, 'secrets/install.key'), 'utf8').trim();
      const config = join(data.path, 'portcullis.toml');
      assert.ok(!readFileSync(config, 'utf8').includes(key), 'the install key is not in the configuration');

      const secret = 'whsec-0123456789abcdef';
      // Rewritten in place (the file keeps the owner-only mode init gave it), then opened up.
      writeFileSync(
        config,
        `${readFileSync(config, 'utf8')}\n[alerts]\nwebhook = "http://127.0.0.1:9/hook"\nwebhookSecret = "${secret}"\n`,
      );
      chmodSync(config, 0o644);
      const refused = cli(data.path, ['user', 'list']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /webhookSecret.*chmod 600/);
      chmodSync(config, 0o600);
      cliOk(data.path, ['user', 'list']);

      const server = await startServer(data.path, ['imap=127.0.0.1:0']);
      const c = await RawImap.open(server.ports['imap']!, false);
      await c.cmd(`LOGIN "${USER.address}" "wrong-${USER.password}"`);
      c.close();
      await server.stop();
      const logged = JSON.stringify(server.logs);
      for (const s of [secret, key, USER.password]) assert.ok(!logged.includes(s), 'a secret in the log');
      assert.ok(
        server.logs.some((l) => String(l['msg']).startsWith('running as root')) ===
          (process.getuid?.() === 0),
      );
    } finally {
      data.remove();
    }
  });

  test('AD-04, PX-10: run as an unprivileged user, the server works, cannot write its code, and serves nothing of its data', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('starting a process as another user needs root');
    // A copy of the code owned by root and readable by all, as an install under /opt would be.
    const code = mkdtempSync(join(tmpdir(), 'portcullis-opt-'));
    chmodSync(code, 0o755);
    for (const p of ['bin', 'src', 'package.json', 'package-lock.json', 'tsconfig.json', 'node_modules'])
      cpSync(join(ROOT, p), join(code, p), { recursive: true, verbatimSymlinks: true });
    const data = makeDataDir({
      domains: ['example.test'],
      users: [USER],
      config: '[imap]\nplaintextAuth = true',
    });
    for (const p of [dirname(data.path), data.path, ...files(data.path).map((f) => join(data.path, f))])
      chownSync(p, NOBODY.uid, NOBODY.gid);
    try {
      const server = await startServer(
        data.path,
        ['smtp=127.0.0.1:0', 'imap=127.0.0.1:0', 'http=127.0.0.1:0'],
        join(code, 'bin/portcullis.js'),
        NOBODY,
      );
      try {
        const status = readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
        assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
        assert.match(status, /^CapEff:\s+0+$/m, 'no capabilities');
        assert.ok(!server.logs.some((l) => String(l['msg']).startsWith('running as root')));

        const mx = await RawSmtp.open(server.ports['smtp']!);
        await mx.command('EHLO peer.test');
        await mx.command('MAIL FROM:<peer@peer.test>');
        await mx.command(`RCPT TO:<${USER.address}>`);
        await mx.command('DATA');
        mx.write('Subject: unprivileged\r\n\r\nhello\r\n.\r\n');
        assert.equal((await mx.reply()).code, 250);
        mx.close();
        const c = await RawImap.open(server.ports['imap']!, false);
        assert.equal((await c.cmd(`LOGIN "${USER.address}" "${USER.password}"`)).status, 'OK');
        assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 1\)/);
        c.close();

        // What the service's user may do to the code: nothing.
        for (const target of ['src/web/shell.js', 'bin/portcullis.js', 'node_modules/hono/x.js']) {
          const w = spawnSync(
            process.execPath,
            ['-e', `require('fs').writeFileSync(${JSON.stringify(join(code, target))}, 'x')`],
            NOBODY,
          );
          assert.notEqual(w.status, 0, `${target} is writable by the service user`);
          assert.match(w.stderr.toString(), /EACCES/);
        }
        // Nothing of the data folder is reachable over HTTP, however it is spelled.
        const base = `http://127.0.0.1:${server.ports['http']}`;
        for (const path of [...files(data.path), '../data/mail.db', 'secrets%2finstall.key']) {
          const r = await fetch(`${base}/${path}`);
          assert.ok([400, 401, 404].includes(r.status), `${path}: ${r.status}`);
        }
      } finally {
        await server.stop();
      }
    } finally {
      data.remove();
      rmSync(code, { recursive: true, force: true });
    }
  });

  test('PX-16: no module can start a process or evaluate text as code; shell-like settings stay data', () => {
    const sources = files(join(ROOT, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    assert.ok(sources.length > 50);
    const forbidden = [
      /from ['"](node:)?(child_process|vm|worker_threads)['"]/,
      /\beval\s*\(/,
      /\bnew Function\s*\(/,
      /shell:\s*true/,
      /v8\.deserialize/,
    ];
    // The store's own writer thread is the one use of worker_threads.
    const allowed = new Set(['store/sqlite/writer.ts', 'store/sqlite/writer-worker.ts']);
    for (const f of sources) {
      const text = readFileSync(join(ROOT, 'src', f), 'utf8');
      for (const re of forbidden)
        if (re.test(text) && !(allowed.has(f) && re.source.includes('worker_threads')))
          assert.fail(`${f} matches ${re}`);
    }
    const data = makeDataDir({});
    try {
      const marker = join(tmpdir(), `px16-${process.pid}`);
      for (const value of [
        `$(touch ${marker})`,
        `\`touch ${marker}\``,
        `a;touch ${marker}`,
        'a\r\nb',
        '{{7*7}}',
        '${7*7}',
      ]) {
        const r = cli(data.path, ['domain', 'add', value]);
        assert.notEqual(r.code, 0, value);
        const init = cli(join(data.path, 'other'), ['init', '--hostname', value]);
        assert.notEqual(init.code, 0, value);
      }
      assert.ok(!existsSync(marker), 'nothing ran');
    } finally {
      data.remove();
    }
  });
});
