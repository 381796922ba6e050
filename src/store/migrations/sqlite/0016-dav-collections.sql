-- Address books (CardDAV, RFC 6352) and schedule inboxes (RFC 6638) are collections of the same
-- shape as calendars: all live in one table with their kind, and a name is unique within its
-- kind (a calendar and an address book may both be called "work"). The tables are rebuilt under their new names; children are
-- dropped before their parent so no cascade runs.
CREATE TABLE dav_collections (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('calendar', 'addressbook', 'inbox')),
  name TEXT NOT NULL,
  display_name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  color TEXT NOT NULL DEFAULT '',
  components TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  -- How many objects it holds (kept by every write, so a bound is checked without counting).
  objects INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, id),
  UNIQUE (account_id, kind, name)
) STRICT;

CREATE TABLE dav_objects (
  account_id INTEGER NOT NULL,
  collection_id INTEGER NOT NULL,
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  uid TEXT NOT NULL,
  component TEXT NOT NULL,
  data TEXT NOT NULL,
  etag TEXT NOT NULL,
  starts_at INTEGER,
  ends_at INTEGER,
  -- 1: one instance in UTC, so the span alone answers a time-range query.
  exact INTEGER NOT NULL DEFAULT 0,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (account_id, id),
  UNIQUE (account_id, collection_id, name),
  UNIQUE (account_id, collection_id, uid),
  FOREIGN KEY (account_id, collection_id) REFERENCES dav_collections (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX dav_objects_by_modseq ON dav_objects (account_id, collection_id, modseq);
CREATE INDEX dav_objects_by_time ON dav_objects (account_id, collection_id, starts_at);

CREATE TABLE dav_tombstones (
  account_id INTEGER NOT NULL,
  collection_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (account_id, collection_id, name),
  FOREIGN KEY (account_id, collection_id) REFERENCES dav_collections (account_id, id) ON DELETE CASCADE
) STRICT;

INSERT INTO dav_collections
  SELECT c.account_id, c.id, 'calendar', c.name, c.display_name, c.description, c.color, c.components, c.created_at,
    c.modseq, (SELECT count(*) FROM calendar_objects o WHERE o.account_id = c.account_id AND o.calendar_id = c.id)
  FROM calendars c;
INSERT INTO dav_objects
  SELECT account_id, calendar_id, id, name, uid, component, data, etag, starts_at, ends_at, exact, modseq
  FROM calendar_objects;
INSERT INTO dav_tombstones SELECT account_id, calendar_id, name, modseq FROM calendar_tombstones;

DROP TABLE calendar_tombstones;
DROP TABLE calendar_objects;
DROP TABLE calendars;
