-- Service Catalog product versions imported as workspace types, and their approval status.

CREATE TABLE workspace_types (
    id              BIGSERIAL PRIMARY KEY,
    product_id      TEXT NOT NULL,
    product_name    TEXT NOT NULL,
    version_id      TEXT NOT NULL,
    version_name    TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    -- The version's parameters and constraints at import time (app::domain::parameters::ParameterSpec).
    parameters      JSONB NOT NULL DEFAULT '[]',
    has_stop_start  BOOLEAN NOT NULL DEFAULT false,
    status          TEXT NOT NULL DEFAULT 'imported' CHECK (status IN ('imported', 'approved', 'retired')),
    imported_by     TEXT NOT NULL,
    imported_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    status_changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT workspace_types_one_per_version UNIQUE (product_id, version_id)
);
