-- The audit log (ATTACKS.md §3): append-only, hash-chained records. `record` is the canonical JSON
-- that was hashed (with its seq and the previous hash); the columns beside it are copies for
-- searching. Records outlive the accounts they name (no foreign key).
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  account_id INTEGER,
  action TEXT NOT NULL,
  record TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_account ON audit_log (account_id, seq) WHERE account_id IS NOT NULL;
CREATE INDEX audit_by_action ON audit_log (action, seq);
CREATE INDEX audit_by_time ON audit_log (at);

-- Where the chain starts after records were removed by the retention policy: the seq and hash of
-- the last removed record (one row, id 1). Without it the chain starts at the genesis hash.
CREATE TABLE audit_start (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
) STRICT;
