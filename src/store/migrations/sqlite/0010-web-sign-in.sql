-- Web sign-in: browser sessions and the second factor.
-- A session is found by the SHA-256 of its cookie value, under the account the cookie names, so a
-- stolen database holds no usable cookie. `authenticated_at` is when the password (and code) were
-- last entered in this session, for actions that need fresh authentication.
CREATE TABLE web_sessions (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  authenticated_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  remote TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  PRIMARY KEY (account_id, id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX web_sessions_by_token ON web_sessions (account_id, token_hash);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);

-- TOTP (RFC 6238) secrets live in `credentials` with kind 'totp' once confirmed ('totp-pending'
-- while the user has not yet entered a first code); `last_used_at` holds the start of the time
-- step of the last accepted code, so a code is never accepted twice. Recovery codes are rows of
-- kind 'recovery' holding the SHA-256 of the code; using one deletes it.
