-- The job queue shared by every worker (provisioning, cost sync, budget checks, notifications).
-- A worker claims a due job with FOR UPDATE SKIP LOCKED inside a transaction and holds the row
-- lock while it runs it: a crash rolls the claim back and another worker picks the job up.

CREATE TABLE jobs (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (length(kind) > 0),
    payload     JSONB NOT NULL DEFAULT '{}',
    run_after   TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX jobs_due ON jobs (run_after, id);
