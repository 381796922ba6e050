-- Blobs uploaded over JMAP (RFC 8620 §6.1) that no message references yet: each holds a
-- reference on its blob until it is used and expires.
CREATE TABLE uploads (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  blob_hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX uploads_by_age ON uploads (created_at);
