-- The same functions as before, in PL/pgSQL: a SQL function that cannot be inlined is planned
-- again on every call, and workspace_stop_due, called for each live workspace a page lists,
-- cost about a millisecond per workspace that way. PL/pgSQL keeps its plans per connection.

CREATE OR REPLACE FUNCTION workspace_available_since(workspace TEXT) RETURNS TIMESTAMPTZ
    LANGUAGE plpgsql STABLE
    AS $$
    #variable_conflict use_column
    BEGIN
        RETURN (SELECT max(e.at) FROM workspace_events e
                WHERE e.workspace_id = workspace AND e.to_state = 'available' AND e.from_state IS DISTINCT FROM 'available');
    END
    $$;

CREATE OR REPLACE FUNCTION next_local_time(at TIMESTAMPTZ, zone TEXT, local TIME) RETURNS TIMESTAMPTZ
    LANGUAGE plpgsql STABLE
    AS $$
    DECLARE
        today TIMESTAMPTZ := ((at AT TIME ZONE zone)::date + local) AT TIME ZONE zone;
    BEGIN
        IF today > at THEN
            RETURN today;
        END IF;
        RETURN (((at AT TIME ZONE zone)::date + 1) + local) AT TIME ZONE zone;
    END
    $$;

CREATE OR REPLACE FUNCTION workspace_stop_due(workspace TEXT, at TIMESTAMPTZ) RETURNS TIMESTAMPTZ
    LANGUAGE plpgsql STABLE
    AS $$
    #variable_conflict use_column
    DECLARE
        since TIMESTAMPTZ := workspace_available_since(workspace);
        due TIMESTAMPTZ;
        kept_until TIMESTAMPTZ;
    BEGIN
        SELECT w.keep_running_until, LEAST(
                CASE WHEN w.outputs ?| ARRAY['InstanceId', 'ClusterId', 'NotebookInstanceName'] THEN
                    GREATEST(since, w.last_connect_at, w.last_busy_at) + make_interval(mins => c.idle_stop_minutes)
                END,
                CASE WHEN t.has_stop_start THEN since + make_interval(hours => c.max_running_hours) END,
                CASE WHEN t.has_stop_start THEN next_local_time(since, tm.time_zone, c.nightly_stop_at) END)
            INTO kept_until, due
            FROM workspaces w
            JOIN workspace_configurations c ON c.id = w.configuration_id
            JOIN workspace_types t ON t.id = c.workspace_type_id
            JOIN teams tm ON tm.slug = w.team_slug
            WHERE w.id = workspace;
        IF due IS NULL THEN
            RETURN NULL;
        END IF;
        RETURN GREATEST(kept_until, due);
    END
    $$;
