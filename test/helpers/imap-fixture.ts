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
