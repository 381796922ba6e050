/**
 * @module The store contract: record types and the asynchronous, backend-neutral interfaces that
 * the services layer sees (DESIGN.md §2). Every user-data record is keyed by account first, so
 * that one account's data can live on one shard. Backends: sqlite/ (embedded); PostgreSQL later.
 * Trust: callers are the services, which have already authorized the principal; the store checks
 * nothing about who asks, only keeps its own invariants (uniqueness, UIDs, modseq, blob refcounts).
 */

/** A mail domain served by this install. */
export interface Domain {
  name: string;
  createdAt: number;
}

/** A DKIM signing key of a local domain (RFC 6376; Ed25519 per RFC 8463). */
export interface DkimKey {
  domain: string;
  selector: string;
  algorithm: 'ed25519' | 'rsa';
  /** PKCS#8 PEM. */
  privateKey: string;
  createdAt: number;
}

/** A user account. `address` is canonical: lower-case local part and ASCII (punycode) domain. */
export interface Account {
  id: number;
  address: string;
  domain: string;
  displayName: string;
  quotaBytes: number;
  usedBytes: number;
  createdAt: number;
}

/** An alias maps a source (`local@domain`, or `@domain` for catch-all) to one account. */
export interface Alias {
  source: string;
  accountId: number;
  target: string;
  createdAt: number;
}

/** A stored secret that proves identity: the account password, later app passwords and TOTP. */
export interface Credential {
  accountId: number;
  id: string;
  kind: 'password';
  secret: string;
  createdAt: number;
}

/** Protocols an app password may be limited to. */
export const APP_SCOPES = ['imap', 'smtp', 'jmap', 'dav'] as const;
export type AppScope = (typeof APP_SCOPES)[number];

/** An app password (typed into a client with the user name) or a bearer token (sent alone by
 * API clients): a generated secret for one client, limited to some protocols. */
export interface AppPassword {
  accountId: number;
  id: string;
  kind: 'app' | 'token';
  label: string;
  scopes: AppScope[];
  /** SHA-256 (hex) of the password. */
  secretHash: string;
  createdAt: number;
  /** Unix ms after which it no longer works; null: never. */
  expiresAt: number | null;
  lastUsedAt: number | null;
}

/** How far delivery of a sent message to one recipient has got (RFC 8621 §7). */
export interface SubmissionRecipient {
  address: string;
  delivered: 'queued' | 'yes' | 'no' | 'unknown';
  /** The last SMTP reply (or our own description of the outcome). */
  smtpReply: string;
}

/** A record of one message sent by an account (JMAP EmailSubmission). */
export interface SubmissionRecord {
  accountId: number;
  id: number;
  identityId: string;
  messageId: number;
  threadId: number;
  mailFrom: string;
  sendAt: number;
  recipients: SubmissionRecipient[];
}

/** A name and address (Reply-To, Bcc of an identity). */
export interface NamedAddress {
  name: string | null;
  email: string;
}

/** A sending identity (RFC 8621 §6). Id 0 is the account's own address. */
export interface Identity {
  accountId: number;
  id: number;
  name: string;
  email: string;
  replyTo: NamedAddress[] | null;
  bcc: NamedAddress[] | null;
  textSignature: string;
  htmlSignature: string;
}

/** An account's vacation response (RFC 8621 §8). */
export interface VacationResponse {
  isEnabled: boolean;
  fromDate: number | null;
  toDate: number | null;
  subject: string | null;
  textBody: string | null;
  htmlBody: string | null;
}

/** Where an account's mail is forwarded. */
export interface Forwarding {
  /** Canonical addresses, local or remote. */
  targets: string[];
  /** Whether the account keeps its own copy. */
  keepCopy: boolean;
  updatedAt: number;
}

/** One stored audit record: its canonical text and hash (see core/audit-chain.ts). */
export interface AuditEntry {
  seq: number;
  at: number;
  accountId: number | null;
  action: string;
  text: string;
  hash: string;
}

/** An audit event to append: searchable columns and the fields that are hashed. */
export interface AuditInput {
  at: number;
  accountId: number | null;
  action: string;
  fields: Record<string, null | boolean | number | string | Record<string, null | boolean | number | string>>;
}

/** An alert raised by the detector. */
export interface Alert {
  id: number;
  at: number;
  kind: string;
  severity: 'low' | 'medium' | 'high';
  accountId: number | null;
  summary: string;
  detail: Record<string, string | number | boolean | null>;
}

/** Fields of the full-text index. */
export type SearchField = 'subject' | 'addresses' | 'body';

/** A signed-in browser session. The cookie value itself is never stored, only its hash. */
export interface WebSession {
  accountId: number;
  /** Public id, shown in the session list and used to revoke it. */
  id: string;
  /** SHA-256 (hex) of the cookie value. */
  tokenHash: string;
  /** The token the browser must send back in a header with every state-changing request. */
  csrf: string;
  createdAt: number;
  /** When the password (and second factor) were last entered in this session. */
  authenticatedAt: number;
  lastSeenAt: number;
  expiresAt: number;
  remote: string;
  userAgent: string;
}

/** An account's TOTP secret (RFC 6238), pending until the first code confirms it. */
export interface TotpSecret {
  secret: string;
  confirmed: boolean;
  /** Start (Unix ms) of the time step of the last accepted code; null: none yet. */
  lastStepAt: number | null;
}

/** A blob an account uploaded (JMAP), kept for a while until a message uses it. */
export interface Upload {
  accountId: number;
  id: string;
  blobHash: string;
  size: number;
  type: string;
  createdAt: number;
}

/** IMAP special-use attributes (RFC 6154), also JMAP mailbox roles. */
export type SpecialUse = '\\Inbox' | '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive';

/** A mailbox (folder) of an account. Names are logical strings with "/" as separator, never paths. */
export interface Mailbox {
  accountId: number;
  id: number;
  name: string;
  specialUse: SpecialUse | null;
  uidValidity: number;
  uidNext: number;
  modseq: number;
  subscribed: boolean;
  messages: number;
  unseen: number;
  bytes: number;
}

/** Cached facts about a message, computed once at delivery by the mail parser. The store keeps
 * them as given; `envelope` and `structure` are JSON documents owned by mail/. */
export interface MessageCache {
  subject: string;
  fromAddress: string;
  sentAt: number | null;
  messageIdHeader: string | null;
  references: string[];
  hasAttachment: boolean;
  preview: string;
  envelope: string;
  structure: string;
  /** The top-level header block, blank line included; empty when too large to keep. */
  header: Uint8Array;
  /** Text for full-text search: subject, addresses and body text. */
  searchText: { subject: string; addresses: string; body: string };
}

/** A message of an account: one blob, possibly in several mailboxes. */
export interface Message {
  accountId: number;
  id: number;
  blobHash: string;
  size: number;
  receivedAt: number;
  threadId: number;
  subject: string;
  fromAddress: string;
  sentAt: number | null;
  messageIdHeader: string | null;
  hasAttachment: boolean;
  preview: string;
  envelope: string;
  structure: string;
}

/** What sorting a message list needs of a message, without its envelope or structure. */
export type MessageKey = Pick<Message, 'id' | 'receivedAt' | 'sentAt' | 'size' | 'threadId'>;

/** A message's membership in one mailbox: its UID there, flags and modification sequence. */
export interface MailboxEntry {
  accountId: number;
  mailboxId: number;
  uid: number;
  messageId: number;
  flags: string[];
  modseq: number;
}

/** Object types that the change log records. */
export type ChangeType =
  | 'Account'
  | 'Mailbox'
  | 'Email'
  | 'Thread'
  | 'EmailSubmission'
  | 'Identity'
  | 'VacationResponse'
  | 'Calendar'
  | 'CalendarObject'
  | 'AddressBook'
  | 'ContactCard';

/** What invitation mail may do to an account's calendar (scheduling). */
export type InvitationPolicy = 'auto' | 'authenticated' | 'off';

/** What a share lets its grantee do with a collection. */
export type ShareAccess = 'read' | 'write';

/** A collection shared with an account. */
export interface DavShare {
  ownerId: number;
  ownerAddress: string;
  collection: DavCollection;
  granteeId: number;
  granteeAddress: string;
  access: ShareAccess;
}

/** What a DAV collection holds: calendar objects (CalDAV), vCards (CardDAV), or the scheduling
 * messages of an account's schedule inbox (RFC 6638). */
export type CollectionKind = 'calendar' | 'addressbook' | 'inbox';

/** A calendar or an address book. */
export interface DavCollection {
  accountId: number;
  id: number;
  kind: CollectionKind;
  /** The collection's path segment, unique within its kind. */
  name: string;
  displayName: string;
  description: string;
  color: string;
  /** Component types it holds, e.g. `VEVENT VTODO`, or `VCARD`. */
  components: string;
  createdAt: number;
  /** The last change to it or any of its objects (its CTag and sync token). */
  modseq: number;
}

/** An object resource of a collection: one UID's calendar components, or one vCard, as sent. */
export interface DavObject {
  accountId: number;
  collectionId: number;
  id: number;
  /** The resource's path segment within its collection. */
  name: string;
  uid: string;
  component: string;
  data: string;
  etag: string;
  /** First instance start and last instance end (ms), for time-range queries; null: open. */
  startsAt: number | null;
  endsAt: number | null;
  /** True when the span is the one instance's own (UTC, no recurrence): no expansion needed. */
  exact: boolean;
  modseq: number;
}

/** An object to store. */
export interface NewDavObject {
  name: string;
  uid: string;
  component: string;
  data: string;
  startsAt: number | null;
  endsAt: number | null;
  exact: boolean;
}

/** One row of the per-account change log. */
export interface Change {
  accountId: number;
  modseq: number;
  type: ChangeType;
  objectId: number;
  op: 'create' | 'update' | 'destroy';
  mailboxId: number | null;
  uid: number | null;
}

/** A blob that is durable on storage. */
export interface BlobRef {
  hash: string;
  size: number;
}

/**
 * A finished blob. Large blobs are already durable in the blob folder. Small ones are `staged`:
 * their bytes ride along and become durable in the same transaction as the rows that reference
 * them (Store.deliver), so one commit and one fsync cover a whole batch (DESIGN.md §3).
 */
export interface StagedBlob extends BlobRef {
  /** The bytes, present for staged blobs (and for any blob small enough to keep in memory). */
  content?: Buffer;
  staged: boolean;
}

/** Receives a blob's bytes as they arrive. */
export interface BlobWriter {
  write(chunk: Buffer): Promise<void>;
  /** Bytes written so far. */
  readonly size: number;
  /** Completes the blob and computes its address; see StagedBlob for when it is durable. */
  /**
   * Ends the blob. `prefix` goes in front of what was written (trace fields known only once the
   * whole message has arrived, such as Authentication-Results).
   */
  finish(prefix?: Buffer): Promise<StagedBlob>;
  /** Discards what was written. */
  abort(): Promise<void>;
}

/** Content-addressed blob storage (SHA-256). Names are hashes computed here, never input. */
export interface BlobStore {
  create(): BlobWriter;
  /** Makes a finished blob durable on its own (for blobs no delivery references yet). */
  persist(blob: StagedBlob): Promise<BlobRef>;
  read(hash: string): Promise<Buffer>;
  /** Several blobs in one round trip, by hash; every hash must exist. */
  readMany(hashes: string[]): Promise<Map<string, Buffer>>;
  has(hash: string): Promise<boolean>;
  /** Removes blobs that no message references any more. */
  remove(hashes: string[]): Promise<void>;
}

/** What a copy or move did: source → destination UIDs, and the destination's UIDVALIDITY. */
export interface CopyResult {
  mapping: [number, number][];
  uidValidity: number;
  modseq: number;
}

/** One recipient of a queued outbound message and where its delivery stands. */
export interface OutboundRecipient {
  address: string;
  status: 'queued' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

/** A message in the outbound queue. */
export interface OutboundMessage {
  id: number;
  /** The sending account, or null once that account is gone (its mail still goes out). */
  accountId: number | null;
  sender: string;
  blobHash: string;
  size: number;
  createdAt: number;
  expiresAt: number;
  recipients: OutboundRecipient[];
}

/** The outcome of one delivery attempt for one recipient. */
export interface AttemptResult {
  address: string;
  outcome: 'delivered' | 'deferred' | 'failed';
  error: string | null;
  /** When to try again (for deferred). */
  nextAttemptAt: number;
}

/** One message to file for one account in a delivery batch. */
export interface NewDelivery {
  accountId: number;
  /** Mailbox to file into: by special use (`\\Inbox` for ordinary delivery) or by id (APPEND). */
  mailbox: SpecialUse | { id: number };
  /** The message's blob; a staged blob is stored by this delivery's transaction. */
  blob: StagedBlob;
  receivedAt: number;
  cache: MessageCache;
  flags: string[];
  /**
   * File only if the account's quota leaves room for the message, checked and reserved in the
   * same transaction (parallel APPENDs cannot all pass; ATTACKS.md DS-05); otherwise the batch
   * fails with OVER_QUOTA. Deliveries from outside leave this off: their quota is checked when
   * the recipient is accepted, and a message once acknowledged is filed, never lost.
   */
  withinQuota?: boolean;
}

/** The error message of a delivery batch refused because a `withinQuota` message did not fit. */
export const OVER_QUOTA = 'over quota';

/** Where a delivered message landed. */
export interface Delivered {
  accountId: number;
  mailboxId: number;
  messageId: number;
  uid: number;
  modseq: number;
}

/** How a flag update combines with the flags a message has (IMAP STORE FLAGS, +FLAGS, -FLAGS). */
export type FlagOp = 'set' | 'add' | 'remove';

/** Outcome of a flag update. */
export interface FlagUpdate {
  /** Entries whose flags changed, with their new flags and modseq. */
  updated: MailboxEntry[];
  /** UIDs not updated because they changed after `unchangedSince` (RFC 7162 §3.1.3). */
  conflicts: number[];
  modseq: number;
}

/** What changed in one mailbox since a modseq: entries added or changed, UIDs removed. */
export interface MailboxDelta {
  entries: MailboxEntry[];
  expunged: number[];
  highestModseq: number;
}

/** A full-text match. */
export interface SearchHit {
  messageId: number;
  rank: number;
}

/** The store contract. Every method is safe to call concurrently. */
export interface Store {
  readonly blobs: BlobStore;

  // Outbound queue
  /** Queues a message for remote recipients; durable when the promise resolves. */
  enqueueOutbound(input: {
    accountId: number | null;
    sender: string;
    blob: StagedBlob;
    recipients: string[];
    now: number;
    expiresAt: number;
  }): Promise<OutboundMessage>;
  /** Queued messages with recipients due at `now`, oldest first; only the due recipients. A
   * store that several nodes share claims what it returns: until the attempt is recorded, or
   * QUEUE_LEASE_MS has passed, no other caller gets those recipients. */
  dueOutbound(now: number, limit: number): Promise<OutboundMessage[]>;
  /** Records an attempt's outcomes; a message with no recipient left queued leaves the queue
   * and releases its blob (the caller has what it needs for a delivery report). */
  recordAttempt(id: number, results: AttemptResult[]): Promise<void>;
  listOutbound(): Promise<OutboundMessage[]>;
  getOutbound(id: number): Promise<OutboundMessage | null>;
  /** Marks that the sender was told of a delay; true only for the first caller (one notice,
   * however many nodes work the queue). */
  markDelayNotified(id: number): Promise<boolean>;
  /** Makes every queued recipient of a message due now. */
  retryOutbound(id: number, now: number): Promise<'ok' | 'not-found'>;
  /** Removes a message from the queue, whatever its state, and releases its blob. */
  deleteOutbound(id: number): Promise<'ok' | 'not-found'>;

  // Uploads
  /** Keeps an uploaded blob for an account (durable when this resolves). */
  addUpload(upload: Omit<Upload, 'blobHash' | 'size'>, blob: StagedBlob): Promise<Upload | 'not-found'>;
  getUpload(accountId: number, id: string): Promise<Upload | null>;
  /** Removes uploads created before `before`, releasing their blobs; returns how many. */
  expireUploads(before: number): Promise<number>;

  // Directory
  createDomain(name: string, now: number): Promise<'ok' | 'exists'>;
  listDomains(): Promise<Domain[]>;
  getDomain(name: string): Promise<Domain | null>;
  /** Removes a domain that has no accounts and no aliases. */
  deleteDomain(name: string): Promise<'ok' | 'not-found' | 'in-use'>;

  /** Adds a DKIM key to a local domain. */
  addDkimKey(key: DkimKey): Promise<'ok' | 'exists' | 'no-domain'>;
  /** DKIM keys of one domain (all domains when absent), by domain then selector. */
  listDkimKeys(domain?: string): Promise<DkimKey[]>;
  removeDkimKey(domain: string, selector: string): Promise<'ok' | 'not-found'>;

  /** Creates an account with its password credential and default mailboxes, in one transaction. */
  createAccount(input: {
    address: string;
    domain: string;
    displayName: string;
    passwordHash: string;
    quotaBytes: number;
    mailboxes: { name: string; specialUse: SpecialUse | null }[];
    now: number;
  }): Promise<Account | 'exists' | 'no-domain'>;
  getAccount(id: number): Promise<Account | null>;
  getAccountByAddress(address: string): Promise<Account | null>;
  listAccounts(domain?: string): Promise<Account[]>;
  /** Removes an account and everything it owns; unreferenced blobs are removed afterwards. */
  deleteAccount(id: number): Promise<'ok' | 'not-found'>;

  getPassword(accountId: number): Promise<Credential | null>;
  setPassword(accountId: number, hash: string, now: number): Promise<'ok' | 'not-found'>;
  addAppPassword(p: AppPassword): Promise<'ok' | 'not-found'>;
  listAppPasswords(accountId: number): Promise<AppPassword[]>;
  /** The app password or token of an account with this secret hash. */
  findAppPassword(accountId: number, secretHash: string): Promise<AppPassword | null>;
  /** Records a successful use. */
  touchAppPassword(accountId: number, id: string, now: number): Promise<void>;
  removeAppPassword(accountId: number, id: string): Promise<'ok' | 'not-found'>;

  createWebSession(s: WebSession): Promise<'ok' | 'not-found'>;
  /** The unexpired session of an account with this token hash. */
  findWebSession(accountId: number, tokenHash: string, now: number): Promise<WebSession | null>;
  /** Records activity and moves the expiry. */
  touchWebSession(accountId: number, id: string, now: number, expiresAt: number): Promise<void>;
  /** Records that the password was entered again in this session. */
  reauthenticateWebSession(accountId: number, id: string, now: number): Promise<void>;
  listWebSessions(accountId: number, now: number): Promise<WebSession[]>;
  removeWebSession(accountId: number, id: string): Promise<'ok' | 'not-found'>;
  /** Removes every session of an account but `keep`; returns how many went. */
  removeWebSessions(accountId: number, keep: string | null): Promise<number>;
  /** Removes expired sessions of all accounts; returns how many went. */
  purgeWebSessions(now: number): Promise<number>;

  /** Records a sent message; remote recipients take the state of outbound entry `outboundId`
   * (and follow it from then on). Logs an EmailSubmission creation. */
  addSubmission(input: {
    accountId: number;
    identityId: string;
    messageId: number;
    threadId: number;
    mailFrom: string;
    sendAt: number;
    outboundId: number | null;
    local: string[];
    remote: string[];
  }): Promise<{ id: number; modseq: number } | 'not-found'>;
  /** Submission records of an account: the given ids, or all of them (newest last). */
  getSubmissions(accountId: number, ids: number[] | null): Promise<SubmissionRecord[]>;
  /** Removes a submission record (the message stays sent); logs its destruction. */
  removeSubmission(accountId: number, id: number): Promise<{ modseq: number } | 'not-found'>;

  listIdentities(accountId: number): Promise<Identity[]>;
  /** Creates (id null: a new id) or replaces an identity; logs the change. */
  putIdentity(
    identity: Omit<Identity, 'id'> & { id: number | null },
  ): Promise<{ id: number; modseq: number } | 'not-found'>;
  removeIdentity(accountId: number, id: number): Promise<{ modseq: number } | 'not-found'>;

  /** Appends events to the audit chain in one transaction, in order; returns the last seq. */
  appendAudit(events: AuditInput[]): Promise<number>;
  /** Audit records in seq order after `afterSeq`, filtered, at most `limit`. */
  readAudit(filter: {
    afterSeq?: number;
    accountId?: number;
    actionPrefix?: string;
    since?: number;
    limit: number;
  }): Promise<AuditEntry[]>;
  /** Where the stored chain starts (after pruned records) and its newest record. */
  auditBounds(): Promise<{ start: { seq: number; hash: string }; head: { seq: number; hash: string } }>;
  /** Removes records older than `before`, remembering where the chain now starts; returns how
   * many went and the new start. */
  pruneAudit(before: number): Promise<{ removed: number; start: { seq: number; hash: string } }>;

  addAlert(alert: Omit<Alert, 'id'>): Promise<number>;
  /** Alerts from `since` on, newest last. */
  listAlerts(since: number, limit: number): Promise<Alert[]>;
  /** Records that an account signed in from a network; returns whether it was new, and whether
   * the account had any network before. */
  noteNetwork(accountId: number, network: string, now: number): Promise<{ isNew: boolean; hadAny: boolean }>;

  getForwarding(accountId: number): Promise<Forwarding | null>;
  /** Replaces (or with null, removes) an account's forwarding. */
  setForwarding(accountId: number, f: Forwarding | null): Promise<'ok' | 'not-found'>;

  getVacation(accountId: number): Promise<VacationResponse | null>;
  /** Replaces the vacation response; logs a VacationResponse update. */
  setVacation(accountId: number, v: VacationResponse): Promise<{ modseq: number } | 'not-found'>;

  getTotp(accountId: number): Promise<TotpSecret | null>;
  /** Starts enrolment: a pending secret replaces any earlier pending one. A confirmed secret
   * stays until removed. */
  setPendingTotp(accountId: number, secret: string, now: number): Promise<'ok' | 'not-found' | 'exists'>;
  /** Confirms the pending secret at the step of its first code and stores the recovery code
   * hashes, in one transaction. */
  confirmTotp(
    accountId: number,
    stepAt: number,
    recoveryHashes: string[],
    now: number,
  ): Promise<'ok' | 'not-found'>;
  /** Accepts a code's time step only if it is later than the last accepted one (atomic). */
  useTotpStep(accountId: number, stepAt: number): Promise<boolean>;
  /** Consumes a recovery code (atomic); false if there is none with this hash. */
  useRecoveryCode(accountId: number, hash: string): Promise<boolean>;
  countRecoveryCodes(accountId: number): Promise<number>;
  /** Removes the secret (pending or confirmed) and the recovery codes. */
  removeTotp(accountId: number): Promise<'ok' | 'not-found'>;

  /** Sets the storage quota in bytes (0: unlimited). */
  setQuota(accountId: number, bytes: number): Promise<'ok' | 'not-found'>;

  addAlias(source: string, accountId: number, now: number): Promise<'ok' | 'exists' | 'no-domain'>;
  listAliases(domain?: string): Promise<Alias[]>;
  /** Removes one alias (source → account), or every alias of a source when accountId is null. */
  removeAlias(source: string, accountId: number | null): Promise<'ok' | 'not-found'>;
  /** Accounts an alias source resolves to (exact source only; catch-all lookups pass `@domain`). */
  aliasTargets(source: string): Promise<number[]>;

  // Mail
  listMailboxes(accountId: number): Promise<Mailbox[]>;
  /** Files messages for several accounts in one durable transaction (group commit). Concurrent
   * calls share commits; staged blobs are written in the same transaction. */
  deliver(batch: NewDelivery[]): Promise<Delivered[]>;
  getMessage(accountId: number, messageId: number): Promise<Message | null>;
  getMessages(accountId: number, messageIds: number[]): Promise<Message[]>;
  /** The sort keys of every message of an account. */
  listMessageKeys(accountId: number): Promise<MessageKey[]>;
  /** Kept header blocks by message id; messages without one (or of other accounts) are absent. */
  getHeaders(accountId: number, messageIds: number[]): Promise<Map<number, Buffer>>;

  /** Creates a mailbox; the name must be valid and its parent need not exist. */
  createMailbox(accountId: number, name: string, now: number): Promise<Mailbox | 'exists'>;
  /** Renames a mailbox and every mailbox below it (name prefix + "/"). */
  renameMailbox(accountId: number, mailboxId: number, name: string): Promise<'ok' | 'exists' | 'not-found'>;
  /** Deletes a mailbox and its entries; messages left in no mailbox are deleted. */
  deleteMailbox(accountId: number, mailboxId: number): Promise<'ok' | 'not-found'>;
  setSubscribed(accountId: number, mailboxId: number, subscribed: boolean): Promise<'ok' | 'not-found'>;
  /** Changes flags of the given UIDs of a mailbox. */
  updateFlags(
    accountId: number,
    mailboxId: number,
    uids: number[],
    op: FlagOp,
    flags: string[],
    unchangedSince: number | null,
  ): Promise<FlagUpdate>;
  /** Removes the given UIDs that carry \Deleted (all such UIDs when `uids` is null). */
  expunge(
    accountId: number,
    mailboxId: number,
    uids: number[] | null,
  ): Promise<{ uids: number[]; modseq: number }>;
  /** Copies (or moves) entries to another mailbox; returns source → destination UIDs. */
  copyEntries(
    accountId: number,
    fromMailboxId: number,
    uids: number[],
    toMailboxId: number,
    move: boolean,
  ): Promise<CopyResult | 'not-found'>;
  /** Entries changed (modseq > since) and UIDs expunged after `since` in one mailbox. */
  mailboxDelta(accountId: number, mailboxId: number, since: number): Promise<MailboxDelta>;
  listMailboxEntries(accountId: number, mailboxId: number): Promise<MailboxEntry[]>;
  /** Messages whose Message-ID header is `id` (for duplicate checks and threading). */
  findByMessageIdHeader(accountId: number, id: string): Promise<number[]>;
  /** Messages whose text has every word of `query`, in one field or in any. */
  searchText(accountId: number, query: string, limit: number, field?: SearchField): Promise<SearchHit[]>;
  /** Change-log rows after `sinceModseq`, oldest first, at most `limit`. */
  changesSince(accountId: number, sinceModseq: number, limit: number): Promise<Change[]>;
  /** Of `objectIds` of `type`, those whose first create row has a modseq at or below `modseq`
   * (`born`), and those with no create row at all (`unlogged`, made before they were logged). */
  creationOf(
    accountId: number,
    type: ChangeType,
    objectIds: number[],
    modseq: number,
  ): Promise<{ born: Set<number>; unlogged: Set<number> }>;
  highestModseq(accountId: number): Promise<number>;

  /** Bytes free for unprivileged use on the volume that holds message bytes. */
  spaceLeft(): Promise<number>;

  // Calendars and address books
  getInvitationPolicy(accountId: number): Promise<InvitationPolicy>;
  setInvitationPolicy(accountId: number, policy: InvitationPolicy): Promise<'ok' | 'not-found'>;
  listCollections(accountId: number, kind: CollectionKind): Promise<DavCollection[]>;
  createCollection(
    accountId: number,
    kind: CollectionKind,
    input: Pick<DavCollection, 'name' | 'displayName' | 'description' | 'color' | 'components'>,
    now: number,
  ): Promise<DavCollection | 'exists' | 'not-found'>;
  updateCollection(
    accountId: number,
    id: number,
    patch: Partial<Pick<DavCollection, 'displayName' | 'description' | 'color'>>,
  ): Promise<DavCollection | 'not-found'>;
  /** Shares a collection with another account, or with null stops sharing it. */
  setShare(
    accountId: number,
    collectionId: number,
    granteeId: number,
    access: ShareAccess | null,
  ): Promise<'ok' | 'not-found'>;
  /** Who a collection is shared with. */
  listShares(accountId: number, collectionId: number): Promise<DavShare[]>;
  /** Collections of a kind other accounts share with this one. */
  sharedWith(granteeId: number, kind: CollectionKind): Promise<DavShare[]>;
  /** Deletes a collection and its objects. */
  deleteCollection(accountId: number, id: number): Promise<'ok' | 'not-found'>;
  /** Objects of a collection; with a range, only those whose span may overlap it. */
  listDavObjects(
    accountId: number,
    collectionId: number,
    range?: { start: number; end: number },
  ): Promise<DavObject[]>;
  getDavObjects(accountId: number, collectionId: number, names: string[]): Promise<DavObject[]>;
  /** The object with this UID in any of the account's collections of a kind (scheduling). */
  findDavObject(accountId: number, kind: CollectionKind, uid: string): Promise<DavObject | null>;
  /**
   * Creates or replaces the object `input.name`. `ifMatch`: only if its ETag is this;
   * `ifNoneMatch`: only if it does not exist; `maxObjects`: a new object only while the
   * collection holds fewer. Another object of the collection with the same UID is a conflict
   * (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1).
   */
  putDavObject(
    accountId: number,
    collectionId: number,
    input: NewDavObject,
    condition: { ifMatch?: string; ifNoneMatch?: boolean; maxObjects?: number },
  ): Promise<
    | { object: DavObject; created: boolean }
    | 'not-found'
    | 'precondition-failed'
    | 'uid-conflict'
    | 'too-many'
  >;
  deleteDavObject(
    accountId: number,
    collectionId: number,
    name: string,
    ifMatch?: string,
  ): Promise<'ok' | 'not-found' | 'precondition-failed'>;
  /**
   * Moves an object to another name, in its collection or another of the same kind (WebDAV
   * MOVE). An object already at the destination is replaced only with `overwrite`; the old
   * name leaves a tombstone. 'same': source and destination are one resource.
   */
  moveDavObject(
    accountId: number,
    from: { collectionId: number; name: string },
    to: { collectionId: number; name: string },
    condition: { overwrite: boolean; ifMatch?: string; maxObjects?: number },
  ): Promise<
    | { object: DavObject; created: boolean }
    | 'not-found'
    | 'precondition-failed'
    | 'uid-conflict'
    | 'too-many'
    | 'same'
  >;
  /** What changed in a collection after `since` (sync-collection): objects changed and names removed. */
  davChanges(
    accountId: number,
    collectionId: number,
    since: number,
  ): Promise<{ changed: DavObject[]; removed: string[] }>;

  /**
   * Calls `listener` with the account and its new modseq after each commit that changed an
   * account's data, made by any node sharing this store. Absent where one process is all there
   * is (the embedded store): the services announce their own writes. Returns an unsubscriber.
   */
  watchChanges?(listener: (accountId: number, modseq: number) => void): () => void;

  close(): Promise<void>;
}

/** Parts of the store contract that each backend implements in a module of its own. */
export type QueueStore = Pick<
  Store,
  | 'enqueueOutbound'
  | 'dueOutbound'
  | 'recordAttempt'
  | 'markDelayNotified'
  | 'listOutbound'
  | 'getOutbound'
  | 'retryOutbound'
  | 'deleteOutbound'
>;
export type SubmissionStore = Pick<
  Store,
  | 'addSubmission'
  | 'getSubmissions'
  | 'removeSubmission'
  | 'listIdentities'
  | 'putIdentity'
  | 'removeIdentity'
  | 'getVacation'
  | 'setVacation'
  | 'getForwarding'
  | 'setForwarding'
>;
export type DavStore = Pick<
  Store,
  | 'listCollections'
  | 'createCollection'
  | 'updateCollection'
  | 'deleteCollection'
  | 'listDavObjects'
  | 'getDavObjects'
  | 'findDavObject'
  | 'putDavObject'
  | 'deleteDavObject'
  | 'moveDavObject'
  | 'davChanges'
  | 'getInvitationPolicy'
  | 'setInvitationPolicy'
  | 'setShare'
  | 'listShares'
  | 'sharedWith'
>;
