-- The PostgreSQL store: the same records as the embedded store. Every table of user data is keyed
-- by account first, so that a sharded PostgreSQL (Citus) can distribute it by account_id
-- (docs/scaling.md). Times are Unix milliseconds.

CREATE TABLE domains (
  name TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);

CREATE SEQUENCE account_ids;

CREATE TABLE accounts (
  id BIGINT PRIMARY KEY,
  address TEXT NOT NULL UNIQUE,
  domain TEXT NOT NULL REFERENCES domains (name),
  display_name TEXT NOT NULL DEFAULT '',
  quota_bytes BIGINT NOT NULL DEFAULT 0,
  used_bytes BIGINT NOT NULL DEFAULT 0,
  -- Per-account counters: the modification sequence of the change log, and the next object id.
  modseq BIGINT NOT NULL DEFAULT 0,
  next_id BIGINT NOT NULL DEFAULT 1,
  -- Last UIDVALIDITY handed out: a re-created mailbox always gets a larger one (RFC 9051 §2.3.1.1).
  last_uid_validity BIGINT NOT NULL DEFAULT 0,
  invitation_policy TEXT NOT NULL DEFAULT 'auto' CHECK (invitation_policy IN ('auto', 'authenticated', 'off')),
  created_at BIGINT NOT NULL
);
CREATE INDEX accounts_by_domain ON accounts (domain);

CREATE TABLE aliases (
  source TEXT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  domain TEXT NOT NULL REFERENCES domains (name),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (source, account_id)
);
CREATE INDEX aliases_by_account ON aliases (account_id);
CREATE INDEX aliases_by_domain ON aliases (domain);

CREATE TABLE credentials (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  scopes TEXT NOT NULL DEFAULT '',
  expires_at BIGINT,
  last_used_at BIGINT,
  PRIMARY KEY (account_id, id)
);

CREATE TABLE dkim_keys (
  domain TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
  selector TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('ed25519', 'rsa')),
  private_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (domain, selector)
);

CREATE TABLE mailboxes (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id BIGINT NOT NULL,
  name TEXT NOT NULL,
  special_use TEXT,
  uid_validity BIGINT NOT NULL,
  uid_next BIGINT NOT NULL DEFAULT 1,
  modseq BIGINT NOT NULL DEFAULT 0,
  subscribed BOOLEAN NOT NULL DEFAULT TRUE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, id),
  UNIQUE (account_id, name)
);

-- Blobs are content-addressed (SHA-256) and shared between accounts, so they are not keyed by
-- account: `blobs` counts references, `blob_data` holds the bytes.
CREATE TABLE blobs (
  hash TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  refs BIGINT NOT NULL
);
CREATE TABLE blob_data (
  hash TEXT PRIMARY KEY,
  data BYTEA NOT NULL
);
ALTER TABLE blob_data ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE messages (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id BIGINT NOT NULL,
  blob_hash TEXT NOT NULL,
  size BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  sent_at BIGINT,
  thread_id BIGINT NOT NULL,
  subject TEXT NOT NULL,
  from_address TEXT NOT NULL,
  message_id_hdr TEXT,
  has_attachment BOOLEAN NOT NULL,
  preview TEXT NOT NULL,
  envelope TEXT NOT NULL,
  structure TEXT NOT NULL,
  header BYTEA NOT NULL DEFAULT '',
  -- Full-text search: words of each field, diacritics folded and lower-cased before indexing.
  text_subject TSVECTOR NOT NULL,
  text_addresses TSVECTOR NOT NULL,
  text_body TSVECTOR NOT NULL,
  PRIMARY KEY (account_id, id)
);
CREATE INDEX messages_by_msgid ON messages (account_id, message_id_hdr);
CREATE INDEX messages_by_thread ON messages (account_id, thread_id);
CREATE INDEX messages_text ON messages USING GIN ((text_subject || text_addresses || text_body));

CREATE TABLE mailbox_messages (
  account_id BIGINT NOT NULL,
  mailbox_id BIGINT NOT NULL,
  uid BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  flags TEXT NOT NULL DEFAULT '',
  modseq BIGINT NOT NULL,
  PRIMARY KEY (account_id, mailbox_id, uid),
  FOREIGN KEY (account_id, mailbox_id) REFERENCES mailboxes (account_id, id) ON DELETE CASCADE,
  FOREIGN KEY (account_id, message_id) REFERENCES messages (account_id, id) ON DELETE CASCADE
);
CREATE INDEX mailbox_messages_by_message ON mailbox_messages (account_id, message_id);
CREATE INDEX mailbox_messages_by_modseq ON mailbox_messages (account_id, mailbox_id, modseq);

CREATE TABLE changes (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  modseq BIGINT NOT NULL,
  seq BIGSERIAL,
  type TEXT NOT NULL,
  object_id BIGINT NOT NULL,
  op TEXT NOT NULL,
  mailbox_id BIGINT,
  uid BIGINT,
  PRIMARY KEY (account_id, seq)
);
CREATE INDEX changes_by_modseq ON changes (account_id, modseq, seq);
CREATE INDEX changes_by_mailbox ON changes (account_id, mailbox_id, modseq) WHERE mailbox_id IS NOT NULL;
CREATE INDEX changes_by_object ON changes (account_id, type, object_id, modseq);

CREATE TABLE outbound (
  id BIGSERIAL PRIMARY KEY,
  account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
  sender TEXT NOT NULL,
  blob_hash TEXT NOT NULL,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  delay_notified BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE outbound_recipients (
  outbound_id BIGINT NOT NULL REFERENCES outbound (id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  -- queued: waiting for an attempt; delivered; failed: permanently (5xx or expired).
  status TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT,
  PRIMARY KEY (outbound_id, address)
);
CREATE INDEX outbound_due ON outbound_recipients (next_attempt_at) WHERE status = 'queued';

CREATE TABLE uploads (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  blob_hash TEXT NOT NULL,
  size BIGINT NOT NULL,
  type TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, id)
);
CREATE INDEX uploads_by_age ON uploads (created_at);

CREATE TABLE web_sessions (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  authenticated_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  remote TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX web_sessions_by_token ON web_sessions (account_id, token_hash);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);

CREATE TABLE email_submissions (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id BIGINT NOT NULL,
  identity_id TEXT NOT NULL,
  message_id BIGINT NOT NULL,
  thread_id BIGINT NOT NULL,
  mail_from TEXT NOT NULL,
  send_at BIGINT NOT NULL,
  outbound_id BIGINT,
  PRIMARY KEY (account_id, id)
);
CREATE INDEX email_submissions_by_outbound ON email_submissions (outbound_id) WHERE outbound_id IS NOT NULL;
CREATE TABLE email_submission_recipients (
  account_id BIGINT NOT NULL,
  submission_id BIGINT NOT NULL,
  address TEXT NOT NULL,
  -- RFC 8621 §7 DeliveryStatus.delivered: queued, yes, no or unknown.
  delivered TEXT NOT NULL CHECK (delivered IN ('queued', 'yes', 'no', 'unknown')),
  smtp_reply TEXT NOT NULL,
  PRIMARY KEY (account_id, submission_id, address),
  FOREIGN KEY (account_id, submission_id) REFERENCES email_submissions (account_id, id) ON DELETE CASCADE
);

CREATE TABLE vacation_responses (
  account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  is_enabled BOOLEAN NOT NULL,
  from_date BIGINT,
  to_date BIGINT,
  subject TEXT,
  text_body TEXT,
  html_body TEXT
);

CREATE TABLE identities (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id BIGINT NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  reply_to TEXT,
  bcc TEXT,
  text_signature TEXT NOT NULL,
  html_signature TEXT NOT NULL,
  PRIMARY KEY (account_id, id)
);

CREATE TABLE forwarding (
  account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  targets TEXT NOT NULL,
  keep_copy BOOLEAN NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  account_id BIGINT,
  action TEXT NOT NULL,
  record TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_by_account ON audit_log (account_id, seq) WHERE account_id IS NOT NULL;
CREATE INDEX audit_by_action ON audit_log (action, seq);
CREATE INDEX audit_by_time ON audit_log (at);
CREATE TABLE audit_start (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);

CREATE TABLE alerts (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
  account_id BIGINT,
  summary TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX alerts_by_time ON alerts (at);

CREATE TABLE account_networks (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  network TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  PRIMARY KEY (account_id, network)
);

CREATE TABLE dav_collections (
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('calendar', 'addressbook', 'inbox')),
  name TEXT NOT NULL,
  display_name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  color TEXT NOT NULL DEFAULT '',
  components TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  modseq BIGINT NOT NULL,
  objects BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, id),
  UNIQUE (account_id, kind, name)
);
CREATE TABLE dav_objects (
  account_id BIGINT NOT NULL,
  collection_id BIGINT NOT NULL,
  id BIGINT NOT NULL,
  name TEXT NOT NULL,
  uid TEXT NOT NULL,
  component TEXT NOT NULL,
  data TEXT NOT NULL,
  etag TEXT NOT NULL,
  starts_at BIGINT,
  ends_at BIGINT,
  exact BOOLEAN NOT NULL DEFAULT FALSE,
  modseq BIGINT NOT NULL,
  PRIMARY KEY (account_id, id),
  UNIQUE (account_id, collection_id, name),
  UNIQUE (account_id, collection_id, uid),
  FOREIGN KEY (account_id, collection_id) REFERENCES dav_collections (account_id, id) ON DELETE CASCADE
);
CREATE INDEX dav_objects_by_modseq ON dav_objects (account_id, collection_id, modseq);
CREATE INDEX dav_objects_by_time ON dav_objects (account_id, collection_id, starts_at);
CREATE TABLE dav_tombstones (
  account_id BIGINT NOT NULL,
  collection_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  modseq BIGINT NOT NULL,
  PRIMARY KEY (account_id, collection_id, name),
  FOREIGN KEY (account_id, collection_id) REFERENCES dav_collections (account_id, id) ON DELETE CASCADE
);
CREATE TABLE dav_shares (
  account_id BIGINT NOT NULL,
  collection_id BIGINT NOT NULL,
  grantee_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  access TEXT NOT NULL CHECK (access IN ('read', 'write')),
  PRIMARY KEY (account_id, collection_id, grantee_id),
  FOREIGN KEY (account_id, collection_id) REFERENCES dav_collections (account_id, id) ON DELETE CASCADE
);
CREATE INDEX dav_shares_by_grantee ON dav_shares (grantee_id);
