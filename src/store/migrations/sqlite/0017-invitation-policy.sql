-- What invitation mail (iMIP) may do to an account's calendar: 'auto' applies replies and
-- organizer updates whose sender did not fail DMARC, 'authenticated' only those that passed it
-- (or came from a local account), 'off' none.
ALTER TABLE accounts ADD COLUMN invitation_policy TEXT NOT NULL DEFAULT 'auto'
  CHECK (invitation_policy IN ('auto', 'authenticated', 'off'));
