-- Portcullis embedded schema, version 1. Every table of user data leads with account_id.

CREATE TABLE domains (
  name TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL UNIQUE,
  domain TEXT NOT NULL REFERENCES domains (name),
  display_name TEXT NOT NULL DEFAULT '',
  quota_bytes INTEGER NOT NULL DEFAULT 0,
  used_bytes INTEGER NOT NULL DEFAULT 0,
  -- Per-account counters: the modification sequence of the change log, and the next object id.
  modseq INTEGER NOT NULL DEFAULT 0,
  next_id INTEGER NOT NULL DEFAULT 1,
  -- Last UIDVALIDITY handed out: a re-created mailbox always gets a larger one (RFC 9051 §2.3.1.1).
  last_uid_validity INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX accounts_by_domain ON accounts (domain);

CREATE TABLE aliases (
  source TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  domain TEXT NOT NULL REFERENCES domains (name),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (source, account_id)
) STRICT;
CREATE INDEX aliases_by_account ON aliases (account_id);
CREATE INDEX aliases_by_domain ON aliases (domain);

CREATE TABLE credentials (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, id)
) STRICT;

CREATE TABLE mailboxes (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  special_use TEXT,
  uid_validity INTEGER NOT NULL,
  uid_next INTEGER NOT NULL DEFAULT 1,
  modseq INTEGER NOT NULL DEFAULT 0,
  subscribed INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, id),
  UNIQUE (account_id, name)
) STRICT;

-- Content-addressed raw messages; refs counts the messages rows that point at a blob. Small
-- blobs keep their bytes in blob_data; larger ones are files in the blob folder.
CREATE TABLE blobs (
  hash TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  refs INTEGER NOT NULL
) STRICT;

CREATE TABLE blob_data (
  hash TEXT PRIMARY KEY,
  data BLOB NOT NULL
) STRICT, WITHOUT ROWID;

-- The rowid links a message to its full-text entry.
CREATE TABLE messages (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id INTEGER NOT NULL,
  blob_hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  sent_at INTEGER,
  thread_id INTEGER NOT NULL,
  subject TEXT NOT NULL,
  from_address TEXT NOT NULL,
  message_id_hdr TEXT,
  has_attachment INTEGER NOT NULL,
  preview TEXT NOT NULL,
  envelope TEXT NOT NULL,
  structure TEXT NOT NULL,
  PRIMARY KEY (account_id, id)
) STRICT;
CREATE INDEX messages_by_msgid ON messages (account_id, message_id_hdr);
CREATE INDEX messages_by_thread ON messages (account_id, thread_id);

CREATE TABLE mailbox_messages (
  account_id INTEGER NOT NULL,
  mailbox_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  flags TEXT NOT NULL DEFAULT '',
  modseq INTEGER NOT NULL,
  PRIMARY KEY (account_id, mailbox_id, uid),
  FOREIGN KEY (account_id, mailbox_id) REFERENCES mailboxes (account_id, id) ON DELETE CASCADE,
  FOREIGN KEY (account_id, message_id) REFERENCES messages (account_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX mailbox_messages_by_message ON mailbox_messages (account_id, message_id);
CREATE INDEX mailbox_messages_by_modseq ON mailbox_messages (account_id, mailbox_id, modseq);

CREATE TABLE changes (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  modseq INTEGER NOT NULL,
  type TEXT NOT NULL,
  object_id INTEGER NOT NULL,
  op TEXT NOT NULL,
  mailbox_id INTEGER,
  uid INTEGER
) STRICT;
CREATE INDEX changes_by_modseq ON changes (account_id, modseq);
CREATE INDEX changes_by_mailbox ON changes (account_id, mailbox_id, modseq) WHERE mailbox_id IS NOT NULL;

CREATE VIRTUAL TABLE message_text USING fts5 (
  subject, addresses, body,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);
