-- Mail forwarding per account: where a copy of every delivered message goes, and whether the
-- account keeps one. Setting it is a persistence action (ATTACKS.md LG-03): alerted and mailed.
CREATE TABLE forwarding (
  account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  targets TEXT NOT NULL,
  keep_copy INTEGER NOT NULL CHECK (keep_copy IN (0, 1)),
  updated_at INTEGER NOT NULL
) STRICT;
