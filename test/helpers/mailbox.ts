/**
 * Reads an account's mail through the services layer, authenticated as that user, for tests that
 * check what was delivered (until IMAP exists, this is the reading path).
 */
import { openApp } from '../../src/main.ts';

/** A delivered message as the owner sees it. */
export interface StoredMessage {
  uid: number;
  raw: Buffer;
  subject: string;
  structure: unknown;
  envelope: unknown;
  flags: string[];
}

/** Everything in one mailbox of `address`, read with the user's own password. */
export async function readMailbox(
  dataDir: string,
  address: string,
  password: string,
  mailbox = 'INBOX',
): Promise<StoredMessage[]> {
  const app = openApp(dataDir);
  try {
    const auth = await app.services.directory.authenticate(
      { protocol: 'imap', remote: 'test', sessionId: 'test' },
      address,
      password,
    );
    if (!auth.ok) throw new Error(`cannot log in as ${address}`);
    const ctx = auth.value;
    const boxes = await app.services.mail.listMailboxes(ctx);
    if (!boxes.ok) throw new Error('cannot list mailboxes');
    const box = boxes.value.find((b) => b.name === mailbox);
    if (!box) throw new Error(`no mailbox ${mailbox}`);
    const entries = await app.services.mail.listEntries(ctx, box.id);
    if (!entries.ok) throw new Error('cannot list messages');
    const out: StoredMessage[] = [];
    for (const e of entries.value) {
      const m = await app.services.mail.getMessage(ctx, e.messageId);
      const raw = await app.services.mail.readRaw(ctx, e.messageId);
      if (!m.ok || !raw.ok) throw new Error('cannot read message');
      out.push({
        uid: e.uid,
        raw: raw.value,
        subject: m.value.subject,
        structure: m.value.structure,
        envelope: m.value.envelope,
        flags: e.flags,
      });
    }
    return out;
  } finally {
    await app.close();
  }
}

/** The message as sent: the stored bytes after the trace fields the server prepended. */
export function withoutTrace(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  if (!text.startsWith('Received: ')) throw new Error('stored message does not start with a Received header');
  // Our Received field, then the Received-SPF and Authentication-Results of the inbound checks.
  let start = 0;
  do {
    let i = text.indexOf('\r\n', start);
    while (text[i + 2] === '\t' || text[i + 2] === ' ') i = text.indexOf('\r\n', i + 2);
    start = i + 2;
  } while (/^(Received-SPF|Authentication-Results):/i.test(text.slice(start, start + 40)));
  return raw.subarray(start);
}
