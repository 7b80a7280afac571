-- Idle notebooks: a SageMaker notebook instance's CPU is measured like a workstation's.
CREATE OR REPLACE FUNCTION workspace_stop_due(workspace TEXT, at TIMESTAMPTZ) RETURNS TIMESTAMPTZ
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN due IS NULL THEN NULL ELSE GREATEST(keep_running_until, due) END
        FROM (
            SELECT w.keep_running_until, LEAST(
                CASE WHEN w.outputs ?| ARRAY['InstanceId', 'ClusterId', 'NotebookInstanceName'] THEN
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
