/**
 * litmus (Debian), the WebDAV compliance suite, against a calendar home: the basic, copymove and
 * props suites, with each test's result recorded here. Every suite begins by making a plain
 * collection and filling it with arbitrary files; Portcullis stores calendars and address books
 * (MKCALENDAR, extended MKCOL) and their iCalendar and vCard objects, not files, so it refuses
 * that first step with 403, and litmus stops there (a suite that cannot begin ends the run). The test pins that outcome:
 * litmus connects and authenticates, each suite gets a clear refusal rather than an error, and a
 * change in what passes shows up here. The WebDAV behaviour a calendar server needs (PROPFIND
 * depths, PROPPATCH all-or-nothing, MOVE with Overwrite, conditional PUT and DELETE) is tested
 * with real calendar clients and in test/attacks/dav.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir, useServer } from '../helpers/server.ts';

const USER = { address: 'lit@example.test', password: 'litmus-password-1' };

/** The result of each test litmus ran, by suite. */
const RECORDED: Record<string, Record<string, string>> = { basic: { init: 'pass', begin: 'FAIL' } };

describe('litmus interop', () => {
  const ctx = useServer({ domains: ['example.test'], users: [USER] }, ['http=127.0.0.1:0']);

  test('basic, copymove and props suites against a calendar home', () => {
    const dir = tempDir('portcullis-litmus-');
    try {
      const url = `http://127.0.0.1:${ctx.server.ports['http']}/dav/calendars/${encodeURIComponent(USER.address)}/`;
      const r = spawnSync('litmus', [url, USER.address, USER.password], {
        cwd: dir.path,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, TESTS: 'basic copymove props' },
      });
      const results: Record<string, Record<string, string>> = {};
      let suite = '';
      for (const line of r.stdout.split('\n')) {
        const start = /^-> running `([a-z]+)'/.exec(line);
        if (start) suite = start[1]!;
        // A result line repeats its name before the outcome: `\r 1. begin.... \r 1. begin.... FAIL (…`.
        for (const m of line.matchAll(/\d+\. ([a-z_0-9]+)\.+ (pass|FAIL|SKIPPED|WARNING)/g))
          if (suite) (results[suite] ??= {})[m[1]!] = m[2]!;
      }
      assert.deepEqual(results, RECORDED, r.stdout);
      assert.match(r.stdout, /MKCOL .*litmus\/' for tests to proceed/);
      assert.match(r.stdout, /403 Forbidden/);
      const trace = readFileSync(join(dir.path, 'debug.log'), 'utf8');
      assert.doesNotMatch(trace, /HTTP\/1\.1 5\d\d/, 'no server error');
      assert.match(trace, /HTTP\/1\.1 403/);
    } finally {
      dir.remove();
    }
  });
});
