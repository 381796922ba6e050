/**
 * `npm start` runs `portcullis demo`: it initialises the data folder with example.test and a demo
 * user, prints a password that works, and serves on the loopback ports it prints (the webmail among them); the next start
 * prints a new password and the old one stops working.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { BIN, tempDir } from '../helpers/server.ts';

async function runDemo(data: string): Promise<{ password: string; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [BIN, '--data', data, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const password = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${out}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const pw = /password: (\S+)/.exec(out);
      if (
        pw &&
        /"listener":"imaps".*"msg":"listening"/.test(out) &&
        /"listener":"http".*"msg":"listening"/.test(out)
      ) {
        clearTimeout(timer);
        resolve(pw[1]!);
      }
    });
  });
  assert.match(out, /user: +demo@example\.test/);
  assert.match(out, /smtp +127\.0\.0\.1:2525/);
  assert.match(out, /imaps +127\.0\.0\.1:2993/);
  assert.match(out, /webmail: +http:\/\/127\.0\.0\.1:2080\//);
  return {
    password,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

test('the demo prints a working login and renews it at every start', async () => {
  const dir = tempDir();
  const data = join(dir.path, 'data');
  try {
    const first = await runDemo(data);
    const c = await RawImap.open(2993, true);
    assert.equal((await c.cmd(`LOGIN demo@example.test ${first.password}`)).status, 'OK');
    c.close();
    // The webmail is served, and the printed login signs in there too.
    const page = await fetch('http://127.0.0.1:2080/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="app">/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const login = await fetch('http://127.0.0.1:2080/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'demo@example.test', password: first.password }),
    });
    assert.equal(login.status, 200);
    await first.stop();
    const second = await runDemo(data);
    assert.notEqual(second.password, first.password);
    const d = await RawImap.open(2993, true);
    assert.equal((await d.cmd(`LOGIN demo@example.test ${first.password}`)).status, 'NO');
    assert.equal((await d.cmd(`LOGIN demo@example.test ${second.password}`)).status, 'OK');
    d.close();
    await second.stop();
  } finally {
    dir.remove();
  }
});
