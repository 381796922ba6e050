-- Whether the sender of a queued message has been told that delivery is delayed (one notice per
-- message, RFC 3464 Action: delayed).
ALTER TABLE outbound ADD COLUMN delay_notified INTEGER NOT NULL DEFAULT 0 CHECK (delay_notified IN (0, 1));
