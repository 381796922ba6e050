-- Alerts raised by the detector (ATTACKS.md §3.1): what was seen, about which account, how bad.
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
  account_id INTEGER,
  summary TEXT NOT NULL,
  detail TEXT NOT NULL
) STRICT;
CREATE INDEX alerts_by_time ON alerts (at);

-- Networks (IPv4 /24, IPv6 /48) each account has signed in from, for "new network" alerts.
CREATE TABLE account_networks (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  network TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  PRIMARY KEY (account_id, network)
) STRICT, WITHOUT ROWID;
