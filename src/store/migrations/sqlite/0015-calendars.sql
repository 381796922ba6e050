-- Calendars and their objects (CalDAV, RFC 4791). Every write takes the account's next modseq,
-- so a calendar's sync token and CTag are views of the one change log; removed objects leave a
-- tombstone with the modseq of their removal for sync-collection (RFC 6578).
CREATE TABLE calendars (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  display_name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  color TEXT NOT NULL DEFAULT '',
  components TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (account_id, id),
  UNIQUE (account_id, name)
) STRICT;

CREATE TABLE calendar_objects (
  account_id INTEGER NOT NULL,
  calendar_id INTEGER NOT NULL,
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
  UNIQUE (account_id, calendar_id, name),
  UNIQUE (account_id, calendar_id, uid),
  FOREIGN KEY (account_id, calendar_id) REFERENCES calendars (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX calendar_objects_by_modseq ON calendar_objects (account_id, calendar_id, modseq);
CREATE INDEX calendar_objects_by_time ON calendar_objects (account_id, calendar_id, starts_at);

CREATE TABLE calendar_tombstones (
  account_id INTEGER NOT NULL,
  calendar_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (account_id, calendar_id, name),
  FOREIGN KEY (account_id, calendar_id) REFERENCES calendars (account_id, id) ON DELETE CASCADE
) STRICT;
