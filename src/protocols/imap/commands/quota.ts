/**
 * @module QUOTA (RFC 9208): one quota root "" per account, with the STORAGE resource in units of
 * 1024 octets, from the account quota the administrator sets. Users cannot change it.
 */
import { ImapNo } from '../errors.ts';
import type { Session } from '../session.ts';
import { findMailbox } from './mailbox.ts';
import { AUTHED, type ImapCommand } from './types.ts';

async function quotaLine(s: Session): Promise<string | null> {
  const q = await s.services.mail.quota(s.ctx!);
  if (!q.ok || q.value.quotaBytes === 0) return null;
  return `QUOTA "" (STORAGE ${Math.ceil(q.value.usedBytes / 1024)} ${Math.floor(q.value.quotaBytes / 1024)})`;
}

export const GETQUOTAROOT: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    const name = s.readMailboxName(args);
    args.end();
    const box = await findMailbox(s, name);
    const line = await quotaLine(s);
    // Without a quota the mailbox has no quota root (RFC 9208 §4.3.2).
    s.untagged('QUOTAROOT', s.mailboxName(box.name), ...(line ? [Buffer.alloc(0)] : []));
    if (line) s.untagged(line);
    s.send(`${tag} OK GETQUOTAROOT completed`);
  },
};

export const GETQUOTA: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    const root = args.astring('quota root');
    args.end();
    const line = root === '' ? await quotaLine(s) : null;
    if (!line) throw new ImapNo('NONEXISTENT', 'no such quota root');
    s.untagged(line);
    s.send(`${tag} OK GETQUOTA completed`);
  },
};

export const SETQUOTA: ImapCommand = {
  states: AUTHED,
  async run(_s, _tag, args) {
    args.astring('quota root');
    args.list('resource limits');
    args.end();
    throw new ImapNo('NOPERM', 'quotas are set by the administrator');
  },
};
