/**
 * The command-line contract (DESIGN.md §6): every command, its output, and one-line errors with a
 * non-zero exit for bad input, never a stack trace.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, cliOk, tempDir } from '../helpers/server.ts';

const noStack = (s: string) =>
  assert.doesNotMatch(s, /\n\s+at |Error:/, `no stack trace in ${JSON.stringify(s)}`);
const oneLineError = (r: { code: number; stdout: string; stderr: string }, pattern: RegExp) => {
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${JSON.stringify(r.stderr)}`);
  noStack(r.stderr);
};

describe('portcullis CLI', () => {
  let tmp: { path: string; remove(): void };
  let data: string;
  before(() => {
    tmp = tempDir();
    data = join(tmp.path, 'data');
  });
  after(() => tmp.remove());

  test('init creates configuration, secret and a SHA-256 certificate with a SAN', () => {
    assert.match(cliOk(data, ['init', '--hostname', 'Mail.Example.Test']), /initialised/);
    const cert = new X509Certificate(readFileSync(join(data, 'tls/cert.pem')));
    assert.match(cert.subjectAltName ?? '', /DNS:mail\.example\.test/);
    assert.ok((cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048);
    // sha256WithRSAEncryption, OID 1.2.840.113549.1.1.11, as DER
    assert.ok(cert.raw.includes(Buffer.from('06092a864886f70d01010b', 'hex')), 'signed with SHA-256');
    assert.ok(!cert.raw.includes(Buffer.from('06092a864886f70d010105', 'hex')), 'not SHA-1');
    for (const f of ['tls/key.pem', 'secrets/install.key', 'portcullis.toml']) {
      assert.equal(statSync(join(data, f)).mode & 0o077, 0, `${f} is private`);
    }
    assert.equal(statSync(data).mode & 0o077, 0);
    assert.match(readFileSync(join(data, 'portcullis.toml'), 'utf8'), /hostname = "mail\.example\.test"/);
  });

  test('every install gets its own secret and key (PX-08)', () => {
    const other = join(tmp.path, 'other');
    cliOk(other, ['init']);
    for (const f of ['secrets/install.key', 'tls/key.pem']) {
      assert.notEqual(readFileSync(join(data, f), 'utf8'), readFileSync(join(other, f), 'utf8'));
    }
  });

  test('init refuses an initialised folder', () => oneLineError(cli(data, ['init']), /already initialised/));

  test('domains: add, list, remove; bad names refused', () => {
    assert.match(cliOk(data, ['domain', 'add', 'Example.TEST']), /domain example\.test added/);
    cliOk(data, ['domain', 'add', 'bücher.test']);
    cliOk(data, ['domain', 'add', 'gone.test']);
    assert.deepEqual(cliOk(data, ['domain', 'list']).trim().split('\n'), [
      'example.test',
      'gone.test',
      'xn--bcher-kva.test',
    ]);
    cliOk(data, ['domain', 'remove', 'gone.test']);
    assert.doesNotMatch(cliOk(data, ['domain', 'list']), /gone/);
    oneLineError(cli(data, ['domain', 'add', 'example.test']), /already exists/);
    oneLineError(cli(data, ['domain', 'add', '../etc']), /not a valid domain/);
    oneLineError(cli(data, ['domain', 'remove', 'nosuch.test']), /not found/);
  });

  test('dkim: generate prints Ed25519 and RSA records, list, delete', () => {
    const printed = cliOk(data, ['dkim', 'generate', 'example.test']);
    const lines = printed
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith(';'));
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      /^pc\d{8}e\._domainkey\.example\.test\. IN TXT \( "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=" \)$/,
    );
    // RSA-2048: the SubjectPublicKeyInfo is 294 bytes, 392 in base64, cut into 255-byte strings.
    assert.match(
      lines[1]!,
      /^pc\d{8}r\._domainkey\.example\.test\. IN TXT \( "v=DKIM1; k=rsa; p=MIIBIjAN[^"]+" "[^"]+" \)$/,
    );
    const listed = cliOk(data, ['dkim', 'list']);
    for (const l of lines) assert.ok(listed.includes(l), 'list prints the same records');
    oneLineError(cli(data, ['dkim', 'generate', 'example.test']), /already has a key/);
    oneLineError(cli(data, ['dkim', 'generate', 'nosuch.test']), /not served here/);
    const selector = /^(pc\d{8}e)/.exec(lines[0]!)![1]!;
    assert.match(cliOk(data, ['dkim', 'delete', 'example.test', selector]), /deleted/);
    oneLineError(cli(data, ['dkim', 'delete', 'example.test', selector]), /not found/);
    assert.equal(cliOk(data, ['dkim', 'list', 'example.test']).match(/IN TXT/g)?.length, 1);
  });
  test('users: add with --password or stdin, list, passwd, remove', () => {
    assert.match(
      cliOk(data, ['user', 'add', 'Alice@Example.Test', '--password', 'alice-password-1']),
      /user alice@example\.test added/,
    );
    cliOk(data, ['user', 'add', 'bob@example.test'], 'bob-password-1\n');
    assert.deepEqual(cliOk(data, ['user', 'list']).trim().split('\n'), [
      'alice@example.test',
      'bob@example.test',
    ]);
    assert.deepEqual(cliOk(data, ['user', 'list', 'xn--bcher-kva.test']).trim(), '');
    assert.match(cliOk(data, ['user', 'passwd', 'bob@example.test'], 'new-bob-password\n'), /changed/);
    oneLineError(
      cli(data, ['user', 'add', 'alice@example.test', '--password', 'whatever-1']),
      /already exists/,
    );
    oneLineError(cli(data, ['user', 'add', 'x@nosuch.test', '--password', 'whatever-1']), /not served here/);
    oneLineError(
      cli(data, ['user', 'add', 'short@example.test', '--password', 'short']),
      /at least 8 characters/,
    );
    oneLineError(
      cli(data, ['user', 'add', 'x%y@example.test', '--password', 'whatever-1']),
      /invalid|routing/,
    );
    oneLineError(cli(data, ['user', 'add', 'nopass@example.test'], ''), /no password given/);
    oneLineError(
      cli(data, ['user', 'passwd', 'nobody@example.test', '--password', 'whatever-1']),
      /not found/,
    );
    oneLineError(cli(data, ['domain', 'remove', 'example.test']), /still has users/);
  });

  test('aliases: add, catch-all, list, remove', () => {
    assert.match(
      cliOk(data, ['alias', 'add', 'Info@example.test', 'alice@example.test']),
      /alias info@example\.test -> alice@example\.test added/,
    );
    cliOk(data, ['alias', 'add', 'info@example.test', 'bob@example.test']);
    cliOk(data, ['alias', 'add', '@example.test', 'bob@example.test']);
    assert.deepEqual(cliOk(data, ['alias', 'list']).trim().split('\n'), [
      '@example.test -> bob@example.test',
      'info@example.test -> alice@example.test',
      'info@example.test -> bob@example.test',
    ]);
    cliOk(data, ['alias', 'remove', 'info@example.test', 'bob@example.test']);
    cliOk(data, ['alias', 'remove', '@example.test']);
    assert.deepEqual(cliOk(data, ['alias', 'list']).trim().split('\n'), [
      'info@example.test -> alice@example.test',
    ]);
    oneLineError(cli(data, ['alias', 'add', 'alice@example.test', 'bob@example.test']), /is a user/);
    oneLineError(cli(data, ['alias', 'add', 'x@example.test', 'nobody@example.test']), /no user/);
    oneLineError(cli(data, ['alias', 'add', 'x@nosuch.test', 'bob@example.test']), /not served here/);
    oneLineError(cli(data, ['alias', 'remove', 'nothing@example.test']), /not found/);
  });

  test('removing a user removes their aliases and login', () => {
    cliOk(data, ['user', 'add', 'temp@example.test', '--password', 'temp-password']);
    cliOk(data, ['alias', 'add', 'tmp@example.test', 'temp@example.test']);
    assert.match(cliOk(data, ['user', 'remove', 'temp@example.test']), /removed/);
    assert.doesNotMatch(cliOk(data, ['alias', 'list']), /tmp@/);
    assert.doesNotMatch(cliOk(data, ['user', 'list']), /temp@/);
  });

  test('bad arguments: one line, non-zero exit, no stack trace', () => {
    const unknown = cli(data, ['frobnicate']);
    assert.equal(unknown.code, 2);
    noStack(unknown.stderr);
    const missing = cli(data, ['user', 'add']);
    assert.equal(missing.code, 2);
    noStack(missing.stderr);
    oneLineError(cli(data, ['serve', '--listen', 'pop3=127.0.0.1:110']), /NAME one of/);
    oneLineError(cli(data, ['serve', '--listen', 'smtp=127.0.0.1:99999']), /out of range/);
    oneLineError(
      cli(join(tmp.path, 'nothing-here'), ['user', 'list']),
      /no configuration .* run "portcullis init/,
    );
    assert.equal(cli(data, ['--help']).code, 0);
  });

  test('a bad configuration file stops with a message naming the key', () => {
    const other = join(tmp.path, 'badconf');
    cliOk(other, ['init']);
    writeFileSync(join(other, 'portcullis.toml'), '[smtp]\nmaxRecipients = "lots"\n');
    oneLineError(cli(other, ['domain', 'list']), /smtp\.maxRecipients must be an integer/);
    writeFileSync(join(other, 'portcullis.toml'), 'hostname = \n');
    oneLineError(cli(other, ['domain', 'list']), /not valid TOML/);
  });

  test('serve refuses a port that is in use with one line', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      oneLineError(cli(data, ['serve', '--listen', `smtp=127.0.0.1:${port}`]), /in use/);
    } finally {
      blocker.close();
    }
  });
});
