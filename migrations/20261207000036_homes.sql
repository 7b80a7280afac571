-- Each person's home on a team's file system: an EFS access point rooted at /home/<user>,
-- entered as their own POSIX user, made on their first launch in the team. It is kept when they
-- are disabled (their files stay) until an admin removes it.
CREATE SEQUENCE posix_uids START WITH 20000;
ALTER TABLE users ADD COLUMN posix_uid INTEGER UNIQUE;

CREATE TABLE user_homes (
    team_slug        TEXT NOT NULL REFERENCES teams (slug),
    username         TEXT NOT NULL REFERENCES users (username),
    file_system_id   TEXT NOT NULL CHECK (file_system_id ~ '^fs-[0-9a-f]{8,40}$'),
    access_point_id  TEXT NOT NULL CHECK (access_point_id ~ '^fsap-[0-9a-f]{8,40}$'),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (team_slug, username)
);
