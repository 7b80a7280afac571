-- Workspaces and every change of their state. A launch writes the workspace and the job that
-- provisions it in one transaction; the same idempotency key from the same user gives the
-- same workspace.

CREATE TABLE workspaces (
    id                      TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    team_slug               TEXT NOT NULL REFERENCES teams (slug),
    owner                   TEXT NOT NULL REFERENCES users (username),
    name                    TEXT NOT NULL CHECK (name ~ '^[a-z][a-z0-9-]{2,39}$'),
    configuration_id        BIGINT NOT NULL REFERENCES workspace_configurations (id),
    state                   TEXT NOT NULL DEFAULT 'requested' CHECK (state IN
                            ('requested', 'provisioning', 'available', 'stopping', 'stopped', 'starting',
                             'terminating', 'terminated', 'failed')),
    idempotency_key         TEXT NOT NULL CHECK (length(idempotency_key) BETWEEN 8 AND 200),
    provisioned_product_id  TEXT,
    record_id               TEXT,
    outputs                 JSONB NOT NULL DEFAULT '{}',
    failure_message         TEXT,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT workspaces_one_per_launch UNIQUE (owner, idempotency_key)
);

-- A name is taken while its workspace lives.
CREATE UNIQUE INDEX workspaces_live_name ON workspaces (team_slug, owner, name)
    WHERE state NOT IN ('terminated', 'failed');
CREATE INDEX workspaces_by_owner ON workspaces (owner, state);

CREATE TABLE workspace_events (
    id            BIGSERIAL PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    message       TEXT,
    at            TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX workspace_events_by_workspace ON workspace_events (workspace_id, id);
