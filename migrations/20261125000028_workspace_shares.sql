-- Workspaces their owners share with members of the workspace's team, for connecting: a
-- username, or '*' for everyone on the team. Membership is checked on each request, so a
-- person who leaves the team loses the share at once.
CREATE TABLE workspace_shares (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    grantee       TEXT NOT NULL,
    shared_by     TEXT NOT NULL,
    shared_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, grantee)
);

CREATE INDEX workspace_shares_by_grantee ON workspace_shares (grantee);
