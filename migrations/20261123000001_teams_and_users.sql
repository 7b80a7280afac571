-- Teams, users and the team memberships mirrored from Cognito groups at each sign-in.

CREATE TABLE teams (
    slug            TEXT PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     TEXT NOT NULL DEFAULT '',
    aws_account_id  TEXT NOT NULL CHECK (aws_account_id ~ '^[0-9]{12}$'),
    -- The role the portal assumes in the team's account.
    role_arn        TEXT NOT NULL,
    -- Where the team's metadata and profiles live in SSM Parameter Store.
    ssm_path        TEXT NOT NULL CHECK (ssm_path LIKE '/%'),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    username         TEXT PRIMARY KEY,
    -- Roles as of the last sign-in, from the verified token's `cognito:groups`.
    roles            TEXT[] NOT NULL DEFAULT '{}',
    first_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_sign_in_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE team_memberships (
    team_slug    TEXT NOT NULL REFERENCES teams (slug) ON DELETE CASCADE,
    username     TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    mirrored_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (team_slug, username)
);

CREATE INDEX team_memberships_by_user ON team_memberships (username);
