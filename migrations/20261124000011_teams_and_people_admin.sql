-- Teams and people managed from the portal: archived teams, connection checks, disabled users,
-- delegated team admins, and which sessions belong to whom (so that disabling ends them all).

ALTER TABLE teams
    ADD COLUMN archived_at            TIMESTAMPTZ,
    -- The last "Test connection": when, whether every step passed, and each step's result.
    ADD COLUMN connection_checked_at  TIMESTAMPTZ,
    ADD COLUMN connection_ok          BOOLEAN,
    ADD COLUMN connection_report      JSONB;

-- Invited users and users disabled before their first sign-in have a row but no sign-in yet.
ALTER TABLE users
    ALTER COLUMN last_sign_in_at DROP NOT NULL,
    ALTER COLUMN last_sign_in_at DROP DEFAULT,
    ADD COLUMN disabled_at        TIMESTAMPTZ,
    -- Where the user's roles and teams came from at the last sign-in: the Cognito groups
    -- Atrium manages, or an SSO provider's groups claim (read-only in the portal).
    ADD COLUMN memberships_from   TEXT NOT NULL DEFAULT 'cognito' CHECK (memberships_from IN ('cognito', 'provider'));

-- A team admin (Cognito group `teamadmin-<slug>`) manages the team's members.
ALTER TABLE team_memberships
    ADD COLUMN team_admin BOOLEAN NOT NULL DEFAULT false;

-- The signed-in sessions of each user, kept beside tower-sessions' own table by the session
-- store, so that disabling a user deletes every session of theirs at once.
CREATE TABLE user_sessions (
    session_id  TEXT PRIMARY KEY,
    username    TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX user_sessions_by_user ON user_sessions (username);
