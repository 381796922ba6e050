-- DKIM signing keys per local domain. A domain may hold several (one per algorithm, and old and
-- new during a rotation); every key of the sender's domain signs. Removing the domain removes them.
CREATE TABLE dkim_keys (
  domain TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
  selector TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('ed25519', 'rsa')),
  private_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (domain, selector)
) STRICT, WITHOUT ROWID;
