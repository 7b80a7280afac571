-- Sign-in throttling per (username, address) instead of per username, and browsers that signed
-- in before (a device cookie), which other people's failures do not hold back.
ALTER TABLE sign_in_failures ADD COLUMN device TEXT;
CREATE INDEX sign_in_failures_by_pair ON sign_in_failures (username, client_ip, failed_at);

-- A device cookie's SHA-256, for each user who signed in with that browser.
CREATE TABLE sign_in_devices (
    token_hash        TEXT NOT NULL,
    username          TEXT NOT NULL,
    last_signed_in_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (token_hash, username)
);
