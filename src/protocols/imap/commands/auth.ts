/**
 * @module Commands of any state and of the not-authenticated state: CAPABILITY, NOOP, LOGOUT, ID,
 * ENABLE, STARTTLS, LOGIN, AUTHENTICATE (RFC 9051 §6.1, §6.2; RFC 2971 ID; RFC 5161 ENABLE;
 * RFC 4959 SASL-IR; RFC 4616 PLAIN).
 * Trust: credentials are passed to the directory service as values (ATTACKS.md IM-08); failures
 * get one answer whatever the reason (AU-03); no authentication before TLS (AU-05).
 */
import { ImapNo, MAX_AUTH_FAILURES } from '../errors.ts';
import type { Session } from '../session.ts';
import { ImapSyntaxError } from '../wire/tokens.ts';
import { ANY, AUTHED, type ImapCommand, NOT_AUTHED } from './types.ts';

const FAILED = 'Authentication failed';

async function login(s: Session, tag: string, username: string, password: string): Promise<void> {
  if (username.includes('\0') || password.includes('\0')) throw new ImapNo('AUTHENTICATIONFAILED', FAILED);
  const r = await s.services.directory.authenticate(s.origin, username, password);
  if (!r.ok && r.error === 'throttled') {
    // Refused before any check: the source has failed too often (ATTACKS.md AU-02).
    s.send(`${tag} NO [UNAVAILABLE] Too many failed sign-ins from this address, try again later`);
    s.send('* BYE Too many authentication failures');
    s.close();
    return;
  }
  if (!r.ok) {
    s.authFailures++;
    s.send(`${tag} NO [AUTHENTICATIONFAILED] ${FAILED}`);
    if (s.authFailures >= MAX_AUTH_FAILURES) {
      s.send('* BYE Too many authentication failures');
      s.close();
    }
    return;
  }
  if (!s.authenticated(r.value)) {
    s.send(`${tag} NO [LIMIT] Too many connections for this user`);
    return;
  }
  s.send(`${tag} OK [CAPABILITY ${s.capabilities().join(' ')}] Logged in`);
}

function requireTls(s: Session): void {
  if (!s.authAllowed) throw new ImapNo('PRIVACYREQUIRED', 'use STARTTLS first');
}

const b64 = (text: string): Buffer => {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new ImapSyntaxError('invalid base64');
  return Buffer.from(text, 'base64');
};

export const CAPABILITY: ImapCommand = {
  states: ANY,
  async run(s, tag, args) {
    args.end();
    s.untagged(`CAPABILITY ${s.capabilities().join(' ')}`);
    s.send(`${tag} OK CAPABILITY completed`);
  },
};

export const NOOP: ImapCommand = {
  states: ANY,
  async run(s, tag, args) {
    args.end();
    await s.refresh(true);
    s.send(`${tag} OK NOOP completed`);
  },
};

export const LOGOUT: ImapCommand = {
  states: ANY,
  async run(s, tag, args) {
    args.end();
    s.logout();
    s.send(`${tag} OK LOGOUT completed`);
    s.close();
  },
};

export const ID: ImapCommand = {
  states: ANY,
  async run(s, tag, args) {
    // RFC 2971: NIL or a list of up to 30 field/value pairs.
    if (args.isList()) {
      const list = args.list();
      const pairs: string[] = [];
      while (!list.done) {
        if (pairs.length === 60) throw new ImapSyntaxError('ID takes at most 30 field/value pairs');
        pairs.push(list.nstring('ID field') ?? '');
      }
      if (pairs.length % 2 === 1) throw new ImapSyntaxError('ID fields come in field/value pairs');
      const name = pairs.findIndex((p, i) => i % 2 === 0 && p.toLowerCase() === 'name');
      s.clientId = name >= 0 ? (pairs[name + 1] ?? '').slice(0, 100) : null;
    } else if (args.atom('NIL').toUpperCase() !== 'NIL') throw new ImapSyntaxError('ID takes a list or NIL');
    args.end();
    s.untagged('ID', ['name', 'Portcullis', 'vendor', 'Portcullis']);
    s.send(`${tag} OK ID completed`);
  },
};

export const ENABLE: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    const done: string[] = [];
    if (args.done) throw new ImapSyntaxError('ENABLE needs a capability');
    while (!args.done) {
      const cap = args.atom('capability');
      if (['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4REV2'].includes(cap) && !s.enabled.has(cap)) {
        s.enabled.add(cap);
        // RFC 7162 §3.2.3: enabling QRESYNC implies CONDSTORE.
        if (cap === 'QRESYNC') s.enabled.add('CONDSTORE');
        done.push(cap === 'IMAP4REV2' ? 'IMAP4rev2' : cap);
      }
    }
    s.untagged(`ENABLED${done.map((c) => ` ${c}`).join('')}`);
    s.send(`${tag} OK ENABLE completed`);
  },
};

export const COMPRESS: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    const mech = args.atom('mechanism');
    args.end();
    if (mech !== 'DEFLATE') throw new ImapNo('CANNOT', `unsupported compression ${mech}`);
    // RFC 4978 §3: a second COMPRESS gets NO [COMPRESSIONACTIVE].
    if (s.compressed) throw new ImapNo('COMPRESSIONACTIVE', 'compression is already active');
    s.send(`${tag} OK DEFLATE active`);
    s.startCompression();
  },
};

export const STARTTLS: ImapCommand = {
  states: NOT_AUTHED,
  async run(s, tag, args) {
    args.end();
    if (s.secure) throw new ImapSyntaxError('TLS is already active');
    s.send(`${tag} OK Begin TLS negotiation now`);
    s.startTls();
  },
};

export const LOGIN: ImapCommand = {
  states: NOT_AUTHED,
  async run(s, tag, args) {
    const user = args.astring('user name');
    const pass = args.astring('password');
    args.end();
    requireTls(s);
    await login(s, tag, user, pass);
  },
};

export const AUTHENTICATE: ImapCommand = {
  states: NOT_AUTHED,
  async run(s, tag, args) {
    const mech = args.atom('mechanism');
    const initial = args.done ? null : args.atom('initial response', false);
    args.end();
    requireTls(s);
    const cancel = (line: string): boolean => {
      if (line === '*') {
        s.send(`${tag} BAD AUTHENTICATE cancelled`);
        return true;
      }
      return false;
    };
    if (mech === 'PLAIN') {
      const finish = async (response: string): Promise<void> => {
        if (cancel(response)) return;
        // RFC 4616: authzid NUL authcid NUL passwd; an authzid other than the user is refused.
        const parts = b64(response === '=' ? '' : response)
          .toString('utf8')
          .split('\0');
        if (parts.length !== 3 || (parts[0] !== '' && parts[0]!.toLowerCase() !== parts[1]!.toLowerCase())) {
          s.send(`${tag} NO [AUTHENTICATIONFAILED] ${FAILED}`);
          return;
        }
        await login(s, tag, parts[1]!, parts[2]!);
      };
      if (initial !== null) return finish(initial);
      s.saslStep = finish;
      s.send('+ ');
      return;
    }
    if (mech === 'LOGIN') {
      let user = '';
      s.saslStep = async (line) => {
        if (cancel(line)) return;
        user = b64(line).toString('utf8');
        s.saslStep = async (pass) => {
          if (cancel(pass)) return;
          await login(s, tag, user, b64(pass).toString('utf8'));
        };
        s.send(`+ ${Buffer.from('Password:').toString('base64')}`);
      };
      s.send(`+ ${Buffer.from('Username:').toString('base64')}`);
      return;
    }
    throw new ImapNo('CANNOT', `unsupported mechanism ${mech}`);
  },
};
