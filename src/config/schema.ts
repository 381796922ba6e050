/**
 * @module Configuration schema: every field with its type, default and documentation.
 * The same table validates `portcullis.toml` on load and generates docs/config.md, so the two
 * cannot drift apart (STYLE.md R12). Values are data, never code (ATTACKS.md R7): no field is put
 * into a shell command or evaluated; the only paths are the TLS files an administrator names.
 */
import { LOG_LEVELS } from '../core/log.ts';

/** Names of the network listeners Portcullis knows. */
export const LISTENER_NAMES = [
  'smtp',
  'submission',
  'submissions',
  'imap',
  'imaps',
  'http',
  'https',
] as const;
export type ListenerName = (typeof LISTENER_NAMES)[number];

interface FieldBase<T> {
  doc: string;
  default: T;
}
/** A string field, optionally limited to a set of values. */
export interface StringField extends FieldBase<string> {
  kind: 'string';
  values?: readonly string[];
  /** Further check of a value: what is wrong with it, or null. */
  check?: (value: string) => string | null;
}
/** An integer field with an inclusive range. */
export interface IntField extends FieldBase<number> {
  kind: 'int';
  min: number;
  max: number;
}
/** A boolean field. */
export interface BoolField extends FieldBase<boolean> {
  kind: 'bool';
}
/** A listening address `HOST:PORT`, or empty for "off". */
export interface HostPortField extends FieldBase<string> {
  kind: 'hostport';
}
export type Field = StringField | IntField | BoolField | HostPortField;

/** What is wrong with a `store` value, or null: `sqlite` or a PostgreSQL connection URL. */
export function storeProblem(value: string): string | null {
  if (value === 'sqlite') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected sqlite or postgres://USER@HOST:PORT/DATABASE';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    return 'expected sqlite or postgres://USER@HOST:PORT/DATABASE';
  if (!url.hostname || url.pathname.length < 2) return 'a PostgreSQL URL needs a host and a database';
  return null;
}

/** The schema: sections of fields. Top-level fields live in the section named ''. */
export const SCHEMA = {
  '': {
    hostname: {
      kind: 'string',
      doc: 'Host name this server announces in SMTP greetings, Received headers and its TLS certificate. `init --hostname` sets it.',
      default: 'localhost',
    },
    store: {
      kind: 'string',
      check: storeProblem,
      doc: 'Where mail and accounts are kept. `sqlite` is the embedded store: a SQLite database and a folder of content-addressed message files inside the data folder. `postgres://USER:PASSWORD@HOST:PORT/DATABASE` keeps everything, message bytes included, in that PostgreSQL database, which any number of Portcullis nodes can share (docs/scaling.md). `init --store` sets it.',
      default: 'sqlite',
    },
  },
  tls: {
    cert: {
      kind: 'string',
      doc: 'PEM certificate chain file. Empty: the self-signed certificate `init` generated in the data folder.',
      default: '',
    },
    key: {
      kind: 'string',
      doc: 'PEM private key file for `cert`. Empty: the key `init` generated in the data folder.',
      default: '',
    },
  },
  listeners: {
    smtp: {
      kind: 'hostport',
      doc: 'MX listener receiving mail for local domains, `HOST:PORT` (port 25 on the internet). Empty: off.',
      default: '0.0.0.0:25',
    },
    submission: {
      kind: 'hostport',
      doc: 'Mail submission with STARTTLS (port 587). Empty: off.',
      default: '',
    },
    submissions: {
      kind: 'hostport',
      doc: 'Mail submission over implicit TLS (port 465). Empty: off.',
      default: '',
    },
    imap: { kind: 'hostport', doc: 'IMAP with STARTTLS (port 143). Empty: off.', default: '' },
    imaps: { kind: 'hostport', doc: 'IMAP over implicit TLS (port 993). Empty: off.', default: '' },
    http: { kind: 'hostport', doc: 'HTTP without TLS, for a trusted front end. Empty: off.', default: '' },
    https: { kind: 'hostport', doc: 'HTTPS (port 443). Empty: off.', default: '' },
  },
  smtp: {
    maxMessageSize: {
      kind: 'int',
      min: 1024,
      max: 2 * 1024 * 1024 * 1024,
      doc: 'Largest message accepted, in bytes. Advertised with SIZE (RFC 1870); a larger declared size gets 552 at MAIL FROM and a larger message gets 552 after DATA without being kept in memory.',
      default: 50 * 1024 * 1024,
    },
    maxRecipients: {
      kind: 'int',
      min: 1,
      max: 10000,
      doc: 'Recipients accepted per message; further RCPT commands get 452 4.5.3 (RFC 5321 §4.5.3.1.8 asks for at least 100).',
      default: 100,
    },
    maxConnections: {
      kind: 'int',
      min: 1,
      max: 100000,
      doc: 'Simultaneous SMTP connections per listener; further clients get 421.',
      default: 1000,
    },
    idleTimeout: {
      kind: 'int',
      min: 5,
      max: 3600,
      doc: 'Seconds a client may stay silent between commands before the server closes the connection (RFC 5321 §4.5.3.2.7 suggests 5 minutes).',
      default: 300,
    },
    maxReceivedHeaders: {
      kind: 'int',
      min: 5,
      max: 1000,
      doc: 'Messages carrying more Received headers than this are refused as a mail loop (RFC 5321 §6.3).',
      default: 50,
    },
  },
  imap: {
    plaintextAuth: {
      kind: 'bool',
      doc: 'Allow LOGIN and AUTHENTICATE without TLS on the `imap` listener. Honoured only when that listener is bound to a loopback address (for a local webmail or tests); never on the network.',
      default: false,
    },
    preAuthTimeout: {
      kind: 'int',
      min: 5,
      max: 600,
      doc: 'Seconds a client may stay silent before logging in.',
      default: 60,
    },
    idleTimeout: {
      kind: 'int',
      min: 1800,
      max: 86400,
      doc: 'Seconds an authenticated client may stay silent; RFC 9051 §5.4 asks for at least 30 minutes.',
      default: 1800,
    },
    commandBudget: {
      kind: 'int',
      min: 1,
      max: 600000,
      doc: 'Milliseconds of work one FETCH, SEARCH, SORT or THREAD may take; past it the command ends with NO [LIMIT] and the client may ask for less (ATTACKS.md IM-06).',
      default: 30000,
    },
    maxConnections: {
      kind: 'int',
      min: 1,
      max: 100000,
      doc: 'Simultaneous IMAP connections per listener; further clients get BYE [UNAVAILABLE].',
      default: 5000,
    },
    maxConnectionsPerUser: {
      kind: 'int',
      min: 1,
      max: 10000,
      doc: 'Simultaneous authenticated IMAP sessions per account, over all listeners; a further login gets NO [LIMIT] (ATTACKS.md IM-11).',
      default: 50,
    },
  },
  submission: {
    externalForwarding: {
      kind: 'bool',
      doc: 'Whether accounts may forward their mail to addresses outside the local domains (`portcullis user forward`, `/auth/forwarding`). Off: such a forward is refused and the attempt audited (ATTACKS.md SV-06).',
      default: true,
    },
    maxMessagesPerHour: {
      kind: 'int',
      min: 1,
      max: 100000,
      doc: 'Messages one account may send per hour over submission; beyond it MAIL FROM gets 450 4.7.1 until the hour has passed (a stolen password sends little).',
      default: 500,
    },
    maxRecipients: {
      kind: 'int',
      min: 1,
      max: 10000,
      doc: 'Recipients of one submitted message; further RCPT commands get 452.',
      default: 100,
    },
  },
  outbound: {
    routes: {
      kind: 'string',
      doc: 'Fixed routes for remote mail, as `DOMAIN=HOST:PORT` pairs separated by spaces: mail for DOMAIN goes to HOST:PORT instead of its MX (like a transport map). For a partner server, a split network, or tests.',
      default: '',
    },
    relay: {
      kind: 'string',
      doc: "Smart host `HOST:PORT` that receives all other remote mail, with TLS required; empty: deliver to each domain's MX.",
      default: '',
    },
    delayNotice: {
      kind: 'int',
      min: 0,
      max: 120,
      doc: 'Hours after which the sender of a message still waiting for delivery gets one delay notice (RFC 3464, Action: delayed). 0: none.',
      default: 4,
    },
    mxPort: {
      kind: 'int',
      min: 1,
      max: 65535,
      doc: 'Port of the MX hosts remote mail is delivered to. 25 on the internet; another value only on a closed network or in tests.',
      default: 25,
    },
    allowPrivate: {
      kind: 'bool',
      doc: 'Deliver to MX hosts whose addresses are not public (loopback, private, link-local, CGNAT, documentation or reserved; an internal network). Off: DNS cannot steer the server to such addresses; the ranges are those the remote-image fetcher refuses (ATTACKS.md R16).',
      default: false,
    },
    relayUser: {
      kind: 'string',
      doc: 'User name for AUTH PLAIN at the smart host; empty: no AUTH.',
      default: '',
    },
    relayPassword: { kind: 'string', doc: 'Password for AUTH PLAIN at the smart host.', default: '' },
    interval: {
      kind: 'int',
      min: 1,
      max: 3600,
      doc: 'Seconds between looks at the outbound queue for deliveries that are due.',
      default: 15,
    },
  },
  http: {
    publicUrl: {
      kind: 'string',
      doc: "Base URL clients are told to use for JMAP (e.g. `https://mail.example.org`). Empty: the listener's scheme and the Host the client asked for (a plain host and port only).",
      default: '',
    },
    sessionIdle: {
      kind: 'int',
      doc: 'Minutes without a request after which a web session ends.',
      default: 480,
      min: 5,
      max: 43_200,
    },
    sessionLifetime: {
      kind: 'int',
      doc: 'Hours after sign-in after which a web session ends, active or not.',
      default: 336,
      min: 1,
      max: 8_760,
    },
    imageNetworks: {
      kind: 'string',
      doc: "Addresses or networks (CIDR, separated by spaces) that the webmail's remote images may be fetched from besides public addresses, e.g. `10.1.2.0/24` for an intranet image server. Empty: loopback, private, link-local and every other inside address are refused (ATTACKS.md R16, WB-08).",
      default: '',
    },
  },
  inbound: {
    authenticate: {
      kind: 'bool',
      doc: 'Check SPF, DKIM, DMARC and ARC of mail arriving at the MX listener and record the results in an Authentication-Results header (RFC 8601). Off: mail is filed without checks.',
      default: true,
    },
    dmarcReject: {
      kind: 'bool',
      doc: "Refuse at SMTP time (550 5.7.1) mail that fails DMARC of a domain publishing `p=reject`. Off: such mail is filed to Junk, like mail failing a `p=quarantine` domain's DMARC.",
      default: false,
    },
  },
  dns: {
    servers: {
      kind: 'string',
      doc: 'Name servers to ask, as `IP` or `IP:PORT` (IPv6 in brackets with a port) separated by spaces. Empty: those of the system (/etc/resolv.conf). SPF, DKIM and DMARC checks are only as good as the resolver: use a validating one.',
      default: '',
    },
  },
  alerts: {
    window: {
      kind: 'int',
      doc: 'Minutes over which the detector counts events.',
      default: 10,
      min: 1,
      max: 1440,
    },
    failuresPerAccount: {
      kind: 'int',
      doc: 'Failed sign-ins of one account within the window that raise an alert.',
      default: 10,
      min: 2,
      max: 100_000,
    },
    failuresPerSource: {
      kind: 'int',
      doc: 'Failed sign-ins from one address within the window that raise an alert.',
      default: 20,
      min: 2,
      max: 100_000,
    },
    sprayAccounts: {
      kind: 'int',
      doc: 'Distinct accounts one address fails to sign in to within the window that raise a password-spraying alert.',
      default: 5,
      min: 2,
      max: 100_000,
    },
    massReadMessages: {
      kind: 'int',
      doc: 'Messages of one account read within the window (any protocol) that raise a mass-access alert, once they are also three times the most the account read in an earlier window.',
      default: 1000,
      min: 10,
      max: 100_000_000,
    },
    massReadMB: {
      kind: 'int',
      doc: "MiB of one account's mail read within the window that raise a mass-access alert (a few large messages), with the same baseline rule.",
      default: 500,
      min: 1,
      max: 10_000_000,
    },
    webhook: {
      kind: 'string',
      doc: 'An http(s) URL every alert is also POSTed to as JSON (kind, severity, account, summary, detail); redirects are not followed. Empty: none.',
      default: '',
    },
    webhookSecret: {
      kind: 'string',
      doc: 'When set, each webhook body is signed: `X-Portcullis-Signature: sha256=` and the HMAC-SHA256 of the body under this secret. The configuration file must then be readable by its owner only (mode 600), or nothing starts.',
      default: '',
    },
  },
  limits: {
    authWindow: {
      kind: 'int',
      doc: 'Minutes over which failed sign-ins are counted for throttling, per user name and per client address, over every protocol.',
      default: 15,
      min: 1,
      max: 1440,
    },
    authFreeFailures: {
      kind: 'int',
      doc: 'Failed sign-ins of one user name or address within the window that cost nothing; each one beyond makes the next attempt wait.',
      default: 5,
      min: 0,
      max: 1000,
    },
    authDelay: {
      kind: 'int',
      doc: 'Milliseconds the first throttled attempt waits; each further failure doubles the wait. Attempts of one name or address wait in turn, so parallel connections gain nothing.',
      default: 500,
      min: 1,
      max: 60_000,
    },
    authMaxDelay: {
      kind: 'int',
      doc: 'Seconds a throttled attempt waits at most.',
      default: 20,
      min: 1,
      max: 600,
    },
    authBlockAfter: {
      kind: 'int',
      doc: 'Failed sign-ins from one address within the window after which it is refused without any check (IMAP `NO [UNAVAILABLE]`, SMTP 454, HTTP 429) until they age out.',
      default: 100,
      min: 2,
      max: 1_000_000,
    },
    connectionsPerClient: {
      kind: 'int',
      doc: 'Concurrent connections of one client (an IPv4 address or an IPv6 /64) over all listeners.',
      default: 100,
      min: 1,
      max: 1_000_000,
    },
    unauthenticatedPerClient: {
      kind: 'int',
      doc: 'Concurrent IMAP and submission connections of one client that have not signed in yet.',
      default: 10,
      min: 1,
      max: 1_000_000,
    },
    connectionsPerMinute: {
      kind: 'int',
      doc: 'New connections of one client per minute over all listeners.',
      default: 300,
      min: 1,
      max: 1_000_000,
    },
    loginDeadline: {
      kind: 'int',
      doc: 'Seconds an IMAP or submission connection has to sign in, however active it is.',
      default: 120,
      min: 5,
      max: 3600,
    },
    memoryBudgetMB: {
      kind: 'int',
      doc: 'Memory (MiB) all connections together may hold in large buffers: IMAP APPEND literals, JMAP requests and uploads, submitted messages. One that does not fit is refused for now (IMAP `NO [UNAVAILABLE]`, HTTP 503, SMTP 452), so many connections driven to their largest buffers cannot exhaust memory.',
      default: 512,
      min: 16,
      max: 1_048_576,
    },
    minFreeDiskMB: {
      kind: 'int',
      doc: 'Free space (MiB) on the data volume below which new mail is refused for now, so senders retry later and nothing accepted is lost: SMTP 452 at RCPT TO, IMAP `NO [UNAVAILABLE]` for APPEND, JMAP `overQuota` and 503 for uploads. 0: no watermark.',
      default: 256,
      min: 0,
      max: 1_048_576,
    },
    exempt: {
      kind: 'string',
      doc: 'Networks the connection limits do not apply to, as `ADDRESS` or `ADDRESS/PREFIX` separated by spaces: by default loopback, where a local front end connects. Sign-in throttling applies to every address.',
      default: '127.0.0.0/8 ::1',
    },
  },
  audit: {
    checkpointMinutes: {
      kind: 'int',
      doc: 'Minutes between audit checkpoints taken by `serve`: each `SEQ:HASH` is logged, recorded and sent to `alerts.webhook` when set, so that a copy lives off this machine for `audit verify --checkpoint`. 0: none.',
      default: 60,
      min: 0,
      max: 10_080,
    },
    integrityCheckSeconds: {
      kind: 'int',
      doc: 'Seconds between checks of the server code (`bin/`, `src/`, the built webmail, the package files) against the SHA-256 manifest taken at start; a file added, changed or removed raises a high `integrity` alert. At start the code is compared with the previous start (a medium alert, as after an upgrade). 0: only at start.',
      default: 600,
      min: 0,
      max: 86_400,
    },
    retentionDays: {
      kind: 'int',
      doc: 'Days audit records are kept; older ones are removed daily, and the removal is itself recorded so the chain stays verifiable. 0: kept for ever.',
      default: 180,
      min: 0,
      max: 36_500,
    },
  },
  log: {
    level: {
      kind: 'string',
      values: LOG_LEVELS,
      doc: 'Least severe log level written to standard output as JSON lines.',
      default: 'info',
    },
  },
} as const satisfies Record<string, Record<string, Field>>;

type Schema = typeof SCHEMA;
type ValueOf<F> = F extends { kind: 'int' }
  ? number
  : F extends { kind: 'bool' }
    ? boolean
    : F extends { kind: 'string'; values: readonly (infer V)[] }
      ? V
      : string;
type SectionValues<S> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** The validated configuration, typed from the schema. */
export type Config = SectionValues<Schema['']> & {
  -readonly [S in Exclude<keyof Schema, ''>]: SectionValues<Schema[S]>;
};
