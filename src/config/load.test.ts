import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'smol-toml';
import { UsageError } from '../core/errors.ts';
import { renderConfigDoc } from './doc.ts';
import { defaultConfig, parseHostPort, validateConfig } from './load.ts';

const load = (text: string) => validateConfig(parse(text) as Record<string, unknown>);
const refuses = (text: string, message: RegExp) =>
  assert.throws(
    () => load(text),
    (e: unknown) => e instanceof UsageError && message.test(e.message),
  );

test('defaults come from the schema', () => {
  const c = load('');
  assert.deepEqual(c, defaultConfig());
  assert.equal(c.smtp.maxMessageSize, 50 * 1024 * 1024);
  assert.equal(c.listeners.smtp, '0.0.0.0:25');
});

test('values are read and typed', () => {
  const c = load(
    'hostname = "mx.example.org"\n[smtp]\nmaxRecipients = 20\n[listeners]\nimaps = "[::1]:993"\n',
  );
  assert.equal(c.hostname, 'mx.example.org');
  assert.equal(c.smtp.maxRecipients, 20);
  assert.equal(c.listeners.imaps, '[::1]:993');
});

test('unknown keys are refused with their name', () => {
  refuses('colour = "blue"', /unknown key colour/);
  refuses('[smtp]\nmaxSize = 1', /unknown key smtp\.maxSize/);
  refuses('[nosuch]\nx = 1', /unknown key nosuch/);
});

test('wrong types are refused', () => {
  refuses('[smtp]\nmaxRecipients = "many"', /smtp\.maxRecipients must be an integer, got a string/);
  refuses('[smtp]\nmaxRecipients = 1.5', /must be an integer/);
  refuses('hostname = 5', /hostname must be a string/);
  refuses('smtp = 5', /\[smtp\] must be a table/);
  refuses('[log]\nlevel = "loud"', /log\.level must be one of/);
  refuses('[smtp]\nmaxRecipients = 0', /between 1 and 10000/);
});

test('bad listener addresses and ports are refused', () => {
  refuses('[listeners]\nsmtp = "127.0.0.1:70000"', /port 70000 is out of range/);
  refuses('[listeners]\nsmtp = "127.0.0.1"', /expected HOST:PORT/);
  refuses('[listeners]\nsmtp = "bad host:25"', /not an IP address or host name/);
  refuses('[listeners]\nsmtp = "[1::2::3]:25"', /not an IPv6 address/);
  assert.deepEqual(parseHostPort('localhost:2525', 'x'), { host: 'localhost', port: 2525 });
});

test('docs/config.md is generated from the schema and up to date (run `npm run docs`)', () => {
  const committed = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
  assert.equal(committed, renderConfigDoc());
});
