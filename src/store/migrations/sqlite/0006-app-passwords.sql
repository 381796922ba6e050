-- App passwords: random secrets for one client each, limited to some protocols and optionally
-- expiring. They live beside the account password in `credentials` (kind 'app'); `secret` holds
-- the SHA-256 of the password, which is random and long enough not to need a slow hash.
ALTER TABLE credentials ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN expires_at INTEGER;
ALTER TABLE credentials ADD COLUMN last_used_at INTEGER;
