/**
 * mbsync (Debian isync) syncs every folder to a Maildir and back: server folders, messages and
 * flags arrive locally; a local folder, message and flag change reach the server; a further run
 * changes nothing on either side.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { BOB, type ImapFixture, imapFixture } from '../helpers/imap-fixture.ts';
import { tempDir } from '../helpers/server.ts';

function mbsync(config: string): string {
  const r = spawnSync('mbsync', ['-c', config, '-a'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `mbsync failed: ${r.stderr}${r.stdout}`);
  return r.stdout + r.stderr;
}

/** Message files per local folder, with their Maildir flags. */
function localState(root: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const walk = (dir: string, name: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (['cur', 'new', 'tmp'].includes(e.name)) {
        if (e.name !== 'tmp')
          for (const f of readdirSync(join(dir, e.name))) (out[name] ??= []).push(`${e.name}/${f}`);
      } else walk(join(dir, e.name), name ? `${name}/${e.name}` : e.name);
    }
  };
  walk(root, '');
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}

async function serverState(port: number): Promise<Record<string, string[]>> {
  const c = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user: BOB.user, pass: BOB.pass },
    logger: false,
  });
  c.on('error', () => {});
  await c.connect();
  const out: Record<string, string[]> = {};
  try {
    for (const box of await c.list()) {
      const lock = await c.getMailboxLock(box.path);
      try {
        out[box.path] = [];
        if (c.mailbox && c.mailbox.exists > 0) {
          for await (const m of c.fetch('1:*', { uid: true, flags: true, envelope: true })) {
            out[box.path]!.push(`${m.uid} ${m.envelope?.subject} ${[...(m.flags ?? [])].sort().join(' ')}`);
          }
        }
      } finally {
        lock.release();
      }
    }
  } finally {
    await c.logout();
  }
  return out;
}

describe('mbsync (isync) interop', () => {
  let f: ImapFixture;
  let dir: { path: string; remove(): void };
  let config: string;
  let maildir: string;
  before(async () => {
    f = await imapFixture([
      'Subject: first\r\nMessage-ID: <first@x>\r\n\r\none\r\n',
      'Subject: second\r\nMessage-ID: <second@x>\r\n\r\ntwo\r\n',
    ]);
    const c = await f.login();
    await c.cmd('CREATE Projects/2026');
    await c.cmd('SELECT INBOX');
    await c.cmd('STORE 1 +FLAGS (\\Seen \\Flagged)');
    await c.cmd('COPY 2 Projects/2026');
    c.close();
    dir = tempDir('portcullis-mbsync-');
    maildir = join(dir.path, 'mail');
    mkdirSync(maildir);
    config = join(dir.path, 'mbsyncrc');
    const cert = join(f.dataDir, 'tls/cert.pem');
    writeFileSync(
      config,
      [
        'IMAPAccount test',
        'Host 127.0.0.1',
        `Port ${f.imaps}`,
        `User ${BOB.user}`,
        `Pass ${BOB.pass}`,
        'SSLType IMAPS',
        `CertificateFile ${cert}`,
        '',
        'IMAPStore remote',
        'Account test',
        '',
        'MaildirStore local',
        `Path ${maildir}/`,
        `Inbox ${maildir}/INBOX`,
        'SubFolders Verbatim',
        '',
        'Channel test',
        'Far :remote:',
        'Near :local:',
        'Patterns *',
        'Create Both',
        'Expunge Both',
        'SyncState *',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await f.stop();
    dir.remove();
  });

  test('first run copies every folder, message and flag to the Maildir', () => {
    mbsync(config);
    const local = localState(maildir);
    assert.deepEqual(Object.keys(local).sort(), ['INBOX', 'Projects/2026']);
    assert.equal(local['INBOX']!.length, 2);
    assert.ok(
      local['INBOX']!.some((n) => /:2,FS$/.test(n)),
      'flags arrive as Maildir flags',
    );
    for (const box of ['Archive', 'Drafts', 'Junk', 'Sent', 'Trash', 'Projects']) {
      assert.ok(readdirSync(maildir).includes(box.split('/')[0]!), `${box} exists locally`);
    }
  });

  test('local changes reach the server: a new folder and message, a flag, a deletion', async () => {
    mkdirSync(join(maildir, 'Local', 'cur'), { recursive: true });
    mkdirSync(join(maildir, 'Local', 'new'));
    mkdirSync(join(maildir, 'Local', 'tmp'));
    writeFileSync(
      join(maildir, 'Local', 'new', '1.local'),
      'Subject: written locally\r\nMessage-ID: <local@x>\r\n\r\nhi\r\n',
    );
    const inbox = join(maildir, 'INBOX');
    const { renameSync } = await import('node:fs');
    for (const sub of ['cur', 'new']) {
      for (const name of readdirSync(join(inbox, sub))) {
        if (name.endsWith(':2,')) renameSync(join(inbox, sub, name), join(inbox, sub, `${name}R`));
      }
    }
    mbsync(config);
    const server = await serverState(f.imaps);
    assert.deepEqual(server['Local'], ['1 written locally ']);
    assert.ok(
      server['INBOX']!.some((l) => /^2 second \\Answered$/.test(l)),
      JSON.stringify(server['INBOX']),
    );
  });

  test('a further run changes nothing on either side', async () => {
    const beforeLocal = localState(maildir);
    const beforeServer = await serverState(f.imaps);
    mbsync(config);
    assert.deepEqual(localState(maildir), beforeLocal);
    assert.deepEqual(await serverState(f.imaps), beforeServer);
  });
});
