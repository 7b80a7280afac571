-- Stop on sign-out: each configuration's default, and each user's own choice (NULL: follow
-- the configuration of each workspace).
ALTER TABLE workspace_configurations
    ADD COLUMN stop_on_sign_out BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE users
    ADD COLUMN stop_on_sign_out BOOLEAN;

-- Health alarms a running workspace has now ('cpu', 'memory', 'disk'); each raised and cleared
-- alarm is also a workspace event (from and to the same state).
ALTER TABLE workspaces
    ADD COLUMN health_alarms TEXT[] NOT NULL DEFAULT '{}';

-- Alarm events stay in 'available': only a real change into it starts the quiet time.
CREATE OR REPLACE FUNCTION workspace_available_since(workspace TEXT) RETURNS TIMESTAMPTZ
    LANGUAGE sql STABLE
    AS $$
        SELECT max(at) FROM workspace_events
        WHERE workspace_id = workspace AND to_state = 'available' AND from_state IS DISTINCT FROM 'available'
    $$;
