-- A stop is always announced first: when the warning went out, so that a workspace is stopped
-- only after a warning of its current quiet stretch is at least a quarter of an hour old.
ALTER TABLE workspaces
    ADD COLUMN stop_warned_at TIMESTAMPTZ;

-- The stop the worker will make: the nightly stop is the first one after the workspace became
-- available (as the worker sees it), and nothing is due when no policy stops it.
CREATE OR REPLACE FUNCTION workspace_stop_due(workspace TEXT, at TIMESTAMPTZ) RETURNS TIMESTAMPTZ
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN due IS NULL THEN NULL ELSE GREATEST(keep_running_until, due) END
        FROM (
            SELECT w.keep_running_until, LEAST(
                CASE WHEN w.outputs ? 'InstanceId' OR w.outputs ? 'ClusterId' THEN
                    GREATEST(workspace_available_since(w.id), w.last_connect_at, w.last_busy_at) + make_interval(mins => c.idle_stop_minutes)
                END,
                CASE WHEN t.has_stop_start THEN workspace_available_since(w.id) + make_interval(hours => c.max_running_hours) END,
                CASE WHEN t.has_stop_start THEN next_local_time(workspace_available_since(w.id), tm.time_zone, c.nightly_stop_at) END) AS due
            FROM workspaces w
            JOIN workspace_configurations c ON c.id = w.configuration_id
            JOIN workspace_types t ON t.id = c.workspace_type_id
            JOIN teams tm ON tm.slug = w.team_slug
            WHERE w.id = workspace
        ) d
    $$;
