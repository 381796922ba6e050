/**
 * @module What both backends share about rows: turning a row into a record of the store
 * contract (the column names are the same in SQLite and PostgreSQL; booleans are 0/1 in one and
 * true/false in the other), and the small rules both apply the same way (flag arithmetic, the
 * change-log types of DAV collections, ETags, how a queue outcome reads in a submission).
 */
import { createHash } from 'node:crypto';
import type {
  Account,
  Alert,
  Alias,
  AppPassword,
  AppScope,
  AuditEntry,
  Change,
  ChangeType,
  CollectionKind,
  Credential,
  DavCollection,
  DavObject,
  DavShare,
  DkimKey,
  FlagOp,
  Forwarding,
  Identity,
  MailboxEntry,
  Message,
  MessageKey,
  NamedAddress,
  OutboundMessage,
  OutboundRecipient,
  ShareAccess,
  SubmissionRecipient,
  TotpSecret,
  Upload,
  VacationResponse,
  WebSession,
} from './types.ts';

/** One row as a driver returns it. */
export type Row = Record<string, unknown>;

/** A boolean column: 0/1 in SQLite, true/false in PostgreSQL. */
export const bool = (v: unknown): boolean => v === 1 || v === true;

const orNull = <T>(v: unknown): T | null => (v as T | null | undefined) ?? null;

export const toAccount = (r: Row): Account => ({
  id: r['id'] as number,
  address: r['address'] as string,
  domain: r['domain'] as string,
  displayName: r['display_name'] as string,
  quotaBytes: r['quota_bytes'] as number,
  usedBytes: r['used_bytes'] as number,
  createdAt: r['created_at'] as number,
});

export const toWebSession = (r: Row): WebSession => ({
  accountId: r['account_id'] as number,
  id: r['id'] as string,
  tokenHash: r['token_hash'] as string,
  csrf: r['csrf'] as string,
  createdAt: r['created_at'] as number,
  authenticatedAt: r['authenticated_at'] as number,
  lastSeenAt: r['last_seen_at'] as number,
  expiresAt: r['expires_at'] as number,
  remote: r['remote'] as string,
  userAgent: r['user_agent'] as string,
});

export const toAppPassword = (r: Row): AppPassword => ({
  accountId: r['account_id'] as number,
  id: r['id'] as string,
  kind: r['kind'] as AppPassword['kind'],
  label: r['label'] as string,
  scopes: (r['scopes'] as string).split(' ').filter(Boolean) as AppScope[],
  secretHash: r['secret'] as string,
  createdAt: r['created_at'] as number,
  expiresAt: orNull(r['expires_at']),
  lastUsedAt: orNull(r['last_used_at']),
});

/** The columns of a Message (the kept header block is read only by getHeaders). */
export const MESSAGE_COLUMNS =
  'account_id, id, blob_hash, size, received_at, thread_id, subject, from_address, sent_at, message_id_hdr, has_attachment, preview, envelope, structure';

/** Columns of MessageKey, in the order toMessageKey reads them. */
export const MESSAGE_KEY_COLUMNS = 'id, received_at, sent_at, size, thread_id';

export const toMessageKey = (r: Row): MessageKey => ({
  id: r['id'] as number,
  receivedAt: r['received_at'] as number,
  sentAt: orNull(r['sent_at']),
  size: r['size'] as number,
  threadId: r['thread_id'] as number,
});

export const toMessage = (r: Row): Message => ({
  ...toMessageKey(r),
  accountId: r['account_id'] as number,
  blobHash: r['blob_hash'] as string,
  subject: r['subject'] as string,
  fromAddress: r['from_address'] as string,
  messageIdHeader: orNull(r['message_id_hdr']),
  hasAttachment: bool(r['has_attachment']),
  preview: r['preview'] as string,
  envelope: r['envelope'] as string,
  structure: r['structure'] as string,
});

export const toEntry = (accountId: number, r: Row): MailboxEntry => ({
  accountId,
  mailboxId: r['mailbox_id'] as number,
  uid: r['uid'] as number,
  messageId: r['message_id'] as number,
  flags: r['flags'] === '' ? [] : (r['flags'] as string).split(' '),
  modseq: r['modseq'] as number,
});

/** A message's flags after a STORE (as stored: distinct, sorted, space-separated). */
export function nextFlags(op: FlagOp, current: string, flags: string[]): string {
  const have = current === '' ? [] : current.split(' ');
  const list =
    op === 'set' ? flags : op === 'add' ? [...have, ...flags] : have.filter((f) => !flags.includes(f));
  return [...new Set(list)].sort().join(' ');
}

/** The change-log types of a collection and of its objects, by kind. */
export const CHANGE_TYPES: Record<CollectionKind, [ChangeType, ChangeType]> = {
  calendar: ['Calendar', 'CalendarObject'],
  addressbook: ['AddressBook', 'ContactCard'],
  inbox: ['Calendar', 'CalendarObject'],
};

/** The ETag of a DAV object's data. */
export const etagOf = (data: string): string =>
  `"${createHash('sha256').update(data).digest('hex').slice(0, 32)}"`;

export const toCollection = (r: Row): DavCollection => ({
  accountId: r['account_id'] as number,
  id: r['id'] as number,
  kind: r['kind'] as CollectionKind,
  name: r['name'] as string,
  displayName: r['display_name'] as string,
  description: r['description'] as string,
  color: r['color'] as string,
  components: r['components'] as string,
  createdAt: r['created_at'] as number,
  modseq: r['modseq'] as number,
});

export const toObject = (r: Row): DavObject => ({
  accountId: r['account_id'] as number,
  collectionId: r['collection_id'] as number,
  id: r['id'] as number,
  name: r['name'] as string,
  uid: r['uid'] as string,
  component: r['component'] as string,
  data: r['data'] as string,
  etag: r['etag'] as string,
  startsAt: orNull(r['starts_at']),
  endsAt: orNull(r['ends_at']),
  exact: bool(r['exact']),
  modseq: r['modseq'] as number,
});

/** A share row joined with its collection and both accounts' addresses. */
export const toShare = (r: Row): DavShare => ({
  ownerId: r['account_id'] as number,
  ownerAddress: r['owner_address'] as string,
  collection: toCollection(r),
  granteeId: r['grantee_id'] as number,
  granteeAddress: r['grantee_address'] as string,
  access: r['access'] as ShareAccess,
});

export const toRecipient = (r: Row): OutboundRecipient => ({
  address: r['address'] as string,
  status: r['status'] as OutboundRecipient['status'],
  attempts: r['attempts'] as number,
  nextAttemptAt: r['next_attempt_at'] as number,
  lastError: orNull(r['last_error']),
});

export const toOutbound = (r: Row, recipients: OutboundRecipient[]): OutboundMessage => ({
  id: r['id'] as number,
  accountId: orNull(r['account_id']),
  sender: r['sender'] as string,
  blobHash: r['blob_hash'] as string,
  size: r['size'] as number,
  createdAt: r['created_at'] as number,
  expiresAt: r['expires_at'] as number,
  recipients,
});

/** How a queue recipient's state reads in a submission record (RFC 8621 §7). */
export const submissionOutcome = (
  status: string,
  error: string | null,
): [SubmissionRecipient['delivered'], string] =>
  status === 'delivered'
    ? ['yes', '250 2.0.0 delivered']
    : status === 'failed'
      ? ['no', error ?? '550 5.0.0 delivery failed']
      : ['queued', error ?? '250 2.0.0 queued'];

export const toSubmissionRecipient = (r: Row): SubmissionRecipient => ({
  address: r['address'] as string,
  delivered: r['delivered'] as SubmissionRecipient['delivered'],
  smtpReply: r['smtp_reply'] as string,
});

const addresses = (v: unknown): NamedAddress[] | null =>
  v === null || v === undefined ? null : (JSON.parse(v as string) as NamedAddress[]);

export const toIdentity = (accountId: number, r: Row): Identity => ({
  accountId,
  id: r['id'] as number,
  name: r['name'] as string,
  email: r['email'] as string,
  replyTo: addresses(r['reply_to']),
  bcc: addresses(r['bcc']),
  textSignature: r['text_signature'] as string,
  htmlSignature: r['html_signature'] as string,
});

export const toAuditEntry = (r: Row): AuditEntry => ({
  seq: r['seq'] as number,
  at: r['at'] as number,
  accountId: orNull(r['account_id']),
  action: r['action'] as string,
  text: r['record'] as string,
  hash: r['hash'] as string,
});

export const toAlert = (r: Row): Alert => ({
  id: r['id'] as number,
  at: r['at'] as number,
  kind: r['kind'] as string,
  severity: r['severity'] as Alert['severity'],
  accountId: orNull(r['account_id']),
  summary: r['summary'] as string,
  detail: JSON.parse(r['detail'] as string) as Alert['detail'],
});

export const toUpload = (r: Row): Upload => ({
  accountId: r['account_id'] as number,
  id: r['id'] as string,
  blobHash: r['blob_hash'] as string,
  size: r['size'] as number,
  type: r['type'] as string,
  createdAt: r['created_at'] as number,
});

export const toPassword = (r: Row): Credential => ({
  accountId: r['account_id'] as number,
  id: r['id'] as string,
  kind: 'password',
  secret: r['secret'] as string,
  createdAt: r['created_at'] as number,
});

/** The account's TOTP credential row (kind `totp`, or `totp-pending` until confirmed). */
export const toTotp = (r: Row): TotpSecret => ({
  secret: r['secret'] as string,
  confirmed: r['kind'] === 'totp',
  lastStepAt: orNull(r['last_used_at']),
});

export const toVacation = (r: Row): VacationResponse => ({
  isEnabled: bool(r['is_enabled']),
  fromDate: orNull(r['from_date']),
  toDate: orNull(r['to_date']),
  subject: orNull(r['subject']),
  textBody: orNull(r['text_body']),
  htmlBody: orNull(r['html_body']),
});

export const toForwarding = (r: Row): Forwarding => ({
  targets: JSON.parse(r['targets'] as string) as string[],
  keepCopy: bool(r['keep_copy']),
  updatedAt: r['updated_at'] as number,
});

export const toDkimKey = (r: Row): DkimKey => ({
  domain: r['domain'] as string,
  selector: r['selector'] as string,
  algorithm: r['algorithm'] as DkimKey['algorithm'],
  privateKey: r['private_key'] as string,
  createdAt: r['created_at'] as number,
});

/** An alias row joined with its account's address. */
export const toAlias = (r: Row): Alias => ({
  source: r['source'] as string,
  accountId: r['account_id'] as number,
  target: r['address'] as string,
  createdAt: r['created_at'] as number,
});

export const toChange = (r: Row): Change => ({
  accountId: r['account_id'] as number,
  modseq: r['modseq'] as number,
  type: r['type'] as Change['type'],
  objectId: r['object_id'] as number,
  op: r['op'] as Change['op'],
  mailboxId: orNull(r['mailbox_id']),
  uid: orNull(r['uid']),
});
