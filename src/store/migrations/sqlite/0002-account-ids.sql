-- Account ids are never handed out twice: caches, logs and sessions keyed by an account id must
-- not meet a different account after a removal. SQLite reuses the largest rowid once its row is
-- deleted, so ids come from this counter instead.
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('account_id', (SELECT COALESCE(MAX(id), 0) FROM accounts));
