-- What an admin fixed for an approved workspace type: parameter values, who may launch it on
-- which teams, tags, and an hourly cost estimate.

CREATE TABLE workspace_configurations (
    id                 BIGSERIAL PRIMARY KEY,
    workspace_type_id  BIGINT NOT NULL REFERENCES workspace_types (id),
    name               TEXT NOT NULL CHECK (length(name) BETWEEN 3 AND 80),
    description        TEXT NOT NULL DEFAULT '',
    parameter_values   JSONB NOT NULL DEFAULT '{}',
    allowed_roles      TEXT[] NOT NULL CHECK (cardinality(allowed_roles) > 0),
    allowed_teams      TEXT[] NOT NULL CHECK (cardinality(allowed_teams) > 0),
    tags               JSONB NOT NULL DEFAULT '{}',
    estimated_hourly_cost_cents INTEGER NOT NULL CHECK (estimated_hourly_cost_cents >= 0),
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT workspace_configurations_unique_name UNIQUE (name)
);
