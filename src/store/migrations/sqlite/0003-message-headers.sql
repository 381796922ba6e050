-- The top-level header block of each message (up to MESSAGE_HEADER_CACHE_MAX_BYTES), so that a
-- client listing a mailbox (FETCH BODY.PEEK[HEADER.FIELDS (...)]) never reads message bodies.
-- Empty for messages stored before this version and for oversized headers: read from the blob.
ALTER TABLE messages ADD COLUMN header BLOB NOT NULL DEFAULT x'';
