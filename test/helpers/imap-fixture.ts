/**
 * A running server with two users and some mail, for the IMAP conformance tests.
 */
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import nodemailer from 'nodemailer';
import { loggedIn, type RawImap } from './imap.ts';
import { makeDataDir, type RunningServer, startServer } from './server.ts';

export const BOB = { user: 'bob@example.test', pass: 'bob-password-1' };
export const ALICE = { user: 'alice@example.test', pass: 'alice-password-1' };

/** A fixture: server, data folder and helpers. */
export interface ImapFixture {
  server: RunningServer;
  /** The data folder (its tls/cert.pem is the server's certificate). */
  dataDir: string;
  imap: number;
  imaps: number;
  deliver(raw: Buffer | string, to?: string): Promise<void>;
  login(who?: { user: string; pass: string }): Promise<RawImap>;
  stop(): Promise<void>;
}

export const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/mail/${name}`, import.meta.url));

/** Starts a server; `messages` are delivered to bob's INBOX in order. */
export async function imapFixture(messages: (Buffer | string)[] = [], config?: string): Promise<ImapFixture> {
  const data = makeDataDir({
    domains: ['example.test'],
    users: [
      { address: BOB.user, password: BOB.pass },
      { address: ALICE.user, password: ALICE.pass },
    ],
    ...(config ? { config } : {}),
  });
  const server = await startServer(data.path, ['smtp=127.0.0.1:0', 'imap=127.0.0.1:0', 'imaps=127.0.0.1:0']);
  const deliver = async (raw: Buffer | string, to = BOB.user): Promise<void> => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    await t.sendMail({ envelope: { from: 'sender@remote.test', to: [to] }, raw });
    t.close();
  };
  for (const m of messages) await deliver(m);
  return {
    server,
    dataDir: data.path,
    imap: server.ports['imap']!,
    imaps: server.ports['imaps']!,
    deliver,
    login: (who = BOB) => loggedIn(server.ports['imaps']!, who.user, who.pass),
    async stop() {
      await server.stop();
      data.remove();
    },
  };
}

/** Starts a fixture before the enclosing suite and stops it after; call the result to reach it. */
export function useImapFixture(messages: (Buffer | string)[] = [], config?: string): () => ImapFixture {
  let f: ImapFixture | null = null;
  before(async () => {
    f = await imapFixture(messages, config);
  });
  after(async () => {
    await f?.stop();
  });
  return () => {
    if (!f) throw new Error('fixture not started');
    return f;
  };
}

/** Logs in as `who` and selects `mailbox`. */
export async function selected(f: ImapFixture, mailbox = 'INBOX', who = BOB): Promise<RawImap> {
  const c = await f.login(who);
  const r = await c.cmd(`SELECT "${mailbox}"`);
  if (r.status !== 'OK') throw new Error(`SELECT ${mailbox}: ${r.text}`);
  return c;
}

/** A small message with the given subject. */
export const note = (subject: string, from = 'a@remote.test'): string =>
  `From: ${from}\r\nTo: bob@example.test\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n`;

/** A message of a conversation: Message-ID <id@x>, a body whose size grows with the id. */
export const conversationMessage = (
  id: string,
  subject: string,
  date: string,
  from: string,
  extra = '',
): string =>
  `Message-ID: <${id}@x>\r\nFrom: ${from}\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nDate: ${date}\r\n${extra}\r\n${'body '.repeat(id.length * 10)}\r\n`;

/** Five messages for SORT and THREAD: "Plans" with three replies, and "Lunch". */
export const CONVERSATION = [
  conversationMessage('a', 'Plans', 'Mon, 02 Nov 2026 10:00:00 +0000', 'carol@x.test'),
  conversationMessage('b', 'Lunch', 'Sun, 01 Nov 2026 10:00:00 +0000', 'alice@x.test'),
  conversationMessage(
    'c',
    'Re: Plans',
    'Tue, 03 Nov 2026 10:00:00 +0000',
    'bob@x.test',
    'In-Reply-To: <a@x>\r\nReferences: <a@x>\r\n',
  ),
  conversationMessage(
    'dd',
    'Re: Re: Plans',
    'Wed, 04 Nov 2026 10:00:00 +0000',
    'dave@x.test',
    'In-Reply-To: <c@x>\r\nReferences: <a@x> <c@x>\r\n',
  ),
  conversationMessage(
    'eee',
    'Re: Plans',
    'Thu, 05 Nov 2026 10:00:00 +0000',
    'erin@x.test',
    'In-Reply-To: <a@x>\r\nReferences: <a@x>\r\n',
  ),
];

/** Five messages for STORE and SEARCH: the MIME fixtures and a small one with X-Priority. */
export const MIXED_MAIL = [
  fixture('alternative-attachment.eml'),
  fixture('nested-rfc822.eml'),
  fixture('encoded-words.eml'),
  fixture('eightbit.eml'),
  'From: Zed <zed@remote.test>\r\nTo: bob@example.test\r\nSubject: tiny\r\nX-Priority: 1\r\nDate: Mon, 02 Nov 2026 08:00:00 +0000\r\n\r\nsmall\r\n',
];
