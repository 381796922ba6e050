-- JMAP EmailSubmission records (RFC 8621 §7): what was sent, from which identity, to whom, and
-- how far delivery to each recipient has got. Local recipients are delivered at once; remote
-- ones follow their outbound queue entry (`outbound_id`), whose attempts update them.
CREATE TABLE email_submissions (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id INTEGER NOT NULL,
  identity_id TEXT NOT NULL,
  message_id INTEGER NOT NULL,
  thread_id INTEGER NOT NULL,
  mail_from TEXT NOT NULL,
  send_at INTEGER NOT NULL,
  outbound_id INTEGER,
  PRIMARY KEY (account_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX email_submissions_by_outbound ON email_submissions (outbound_id) WHERE outbound_id IS NOT NULL;

CREATE TABLE email_submission_recipients (
  account_id INTEGER NOT NULL,
  submission_id INTEGER NOT NULL,
  address TEXT NOT NULL,
  -- RFC 8621 §7 DeliveryStatus.delivered: queued, yes, no or unknown.
  delivered TEXT NOT NULL CHECK (delivered IN ('queued', 'yes', 'no', 'unknown')),
  smtp_reply TEXT NOT NULL,
  PRIMARY KEY (account_id, submission_id, address),
  FOREIGN KEY (account_id, submission_id) REFERENCES email_submissions (account_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- The vacation response (RFC 8621 §8), one per account. Stored for clients to read and change;
-- automatic replies are sent by the filtering engine.
CREATE TABLE vacation_responses (
  account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  is_enabled INTEGER NOT NULL,
  from_date INTEGER,
  to_date INTEGER,
  subject TEXT,
  text_body TEXT,
  html_body TEXT
) STRICT;

-- Sending identities (RFC 8621 §6): the account's own address (id 0, created on first change)
-- and any alias of it, each with a display name, Reply-To, Bcc and signatures.
CREATE TABLE identities (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  reply_to TEXT,
  bcc TEXT,
  text_signature TEXT NOT NULL,
  html_signature TEXT NOT NULL,
  PRIMARY KEY (account_id, id)
) STRICT, WITHOUT ROWID;
