-- Who did what, to which object, on which team, from where, and how it ended. Written in the
-- same transaction as the change it records.
CREATE TABLE audit_log (
    id           BIGSERIAL PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor        TEXT NOT NULL,
    actor_roles  TEXT[] NOT NULL DEFAULT '{}',
    action       TEXT NOT NULL,
    object_type  TEXT,
    object_id    TEXT,
    team_slug    TEXT,
    client_ip    TEXT,
    result       TEXT NOT NULL CHECK (result IN ('success', 'failure', 'refused')),
    detail       TEXT
);

CREATE INDEX audit_log_by_time ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_by_actor ON audit_log (actor, at DESC);
CREATE INDEX audit_log_by_team ON audit_log (team_slug, at DESC);
