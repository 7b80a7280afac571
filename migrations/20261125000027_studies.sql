-- Studies: named S3 prefixes holding research data. Postgres holds who may see and write
-- them; S3 holds the bytes.

CREATE TABLE studies (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- my: its owner only; team: the team's members; organisation: the teams in study_teams;
    -- open-data: everyone, read-only.
    scope        TEXT NOT NULL CHECK (scope IN ('my', 'team', 'organisation', 'open-data')),
    -- The team whose bucket holds a my or team study.
    team_slug    TEXT REFERENCES teams (slug),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    description  TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    owner        TEXT NOT NULL,
    bucket       TEXT NOT NULL CHECK (bucket ~ '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'),
    -- Ends with '/', never starts with one, never holds an empty or dot segment.
    prefix       TEXT NOT NULL CHECK (prefix ~ '^([A-Za-z0-9_-][A-Za-z0-9._-]*/)+$' AND prefix !~ '(^|/)\.\.?/'),
    -- Controlled: mounted read-only; results leave only through approved egress requests.
    controlled   BOOLEAN NOT NULL DEFAULT false,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((scope IN ('my', 'team')) = (team_slug IS NOT NULL)),
    UNIQUE (bucket, prefix)
);

CREATE UNIQUE INDEX studies_name_per_team ON studies (team_slug, lower(name)) WHERE team_slug IS NOT NULL;
CREATE UNIQUE INDEX studies_name_outside_teams ON studies (scope, lower(name)) WHERE team_slug IS NULL;

-- Who, besides the owner, may write a team study (guests never do, whatever this says).
CREATE TABLE study_writers (
    study_id  BIGINT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    username  TEXT NOT NULL,
    PRIMARY KEY (study_id, username)
);

-- The teams that may read an organisation study.
CREATE TABLE study_teams (
    study_id   BIGINT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    team_slug  TEXT NOT NULL REFERENCES teams (slug),
    PRIMARY KEY (study_id, team_slug)
);

CREATE INDEX study_teams_by_team ON study_teams (team_slug);

-- The studies a workspace was launched with, and how.
CREATE TABLE workspace_studies (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    study_id      BIGINT NOT NULL REFERENCES studies (id),
    access        TEXT NOT NULL CHECK (access IN ('ro', 'rw')),
    PRIMARY KEY (workspace_id, study_id)
);

-- Exports out of a controlled study, from its egress folder, released only once approved.
CREATE TABLE egress_requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_id      BIGINT NOT NULL REFERENCES studies (id),
    requester     TEXT NOT NULL,
    -- Keys relative to the study's egress folder.
    files         TEXT[] NOT NULL CHECK (cardinality(files) BETWEEN 1 AND 100),
    reason        TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by    TEXT,
    decided_at    TIMESTAMPTZ,
    decision_note TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX egress_requests_by_study ON egress_requests (study_id, id DESC);
