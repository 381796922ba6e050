-- A collection shared by its owner with another account of the server, to read or to read and
-- write. Removing the collection or either account removes the share.
CREATE TABLE dav_shares (
  account_id INTEGER NOT NULL,
  collection_id INTEGER NOT NULL,
  grantee_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  access TEXT NOT NULL CHECK (access IN ('read', 'write')),
  PRIMARY KEY (account_id, collection_id, grantee_id),
  FOREIGN KEY (account_id, collection_id) REFERENCES dav_collections (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX dav_shares_by_grantee ON dav_shares (grantee_id);
