-- The outbound queue: messages accepted for delivery elsewhere, one row per recipient with its
-- own state, so that a restart resumes every pending delivery (nothing acknowledged is lost).
-- A queued message holds a reference on its blob until the queue lets it go.
CREATE TABLE outbound (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
  sender TEXT NOT NULL,
  blob_hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE outbound_recipients (
  outbound_id INTEGER NOT NULL REFERENCES outbound (id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  -- queued: waiting for an attempt; delivered; failed: permanently (5xx or expired).
  status TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  PRIMARY KEY (outbound_id, address)
) STRICT, WITHOUT ROWID;
CREATE INDEX outbound_due ON outbound_recipients (next_attempt_at) WHERE status = 'queued';
