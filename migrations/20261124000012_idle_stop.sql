-- Idle auto-stop: each configuration's policy, and what the portal knows of each workspace's
-- use (its last Connect, its last busy minute, and how long its owner asked to keep it running).

ALTER TABLE workspace_configurations
    -- NULL: never stopped for being idle.
    ADD COLUMN idle_stop_minutes  INTEGER DEFAULT 60 CHECK (idle_stop_minutes BETWEEN 10 AND 1440),
    ADD COLUMN idle_cpu_percent   INTEGER NOT NULL DEFAULT 5 CHECK (idle_cpu_percent BETWEEN 1 AND 90);

ALTER TABLE workspaces
    ADD COLUMN last_connect_at     TIMESTAMPTZ,
    -- The last time the idle check saw it busy (CPU at or above the threshold).
    ADD COLUMN last_busy_at        TIMESTAMPTZ,
    -- "Keep running": not stopped for being idle before this.
    ADD COLUMN keep_running_until  TIMESTAMPTZ;

-- When the workspace last became available (launched or started): the start of its quiet time.
CREATE FUNCTION workspace_available_since(workspace TEXT) RETURNS TIMESTAMPTZ
    LANGUAGE sql STABLE
    AS $$ SELECT max(at) FROM workspace_events WHERE workspace_id = workspace AND to_state = 'available' $$;
