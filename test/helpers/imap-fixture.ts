/**
 * A running server with two users and some mail, for the IMAP conformance tests.
 */
import { readFileSync } from 'node:fs';
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
