-- Scheduled stops: a maximum running time and a nightly stop in the team's own time zone.

ALTER TABLE teams
    ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

ALTER TABLE workspace_configurations
    ADD COLUMN max_running_hours  INTEGER CHECK (max_running_hours BETWEEN 1 AND 168),
    -- Local time of day in the team's time zone.
    ADD COLUMN nightly_stop_at    TIME;

-- The last moment at or before `at` when the clock in `zone` showed `local`; Postgres' time
-- zone database takes care of daylight saving.
CREATE FUNCTION last_local_time(at TIMESTAMPTZ, zone TEXT, local TIME) RETURNS TIMESTAMPTZ
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN today <= at THEN today ELSE ((day - 1) + local) AT TIME ZONE zone END
        FROM (SELECT (at AT TIME ZONE zone)::date AS day) d,
             LATERAL (SELECT (day + local) AT TIME ZONE zone AS today) t
    $$;

-- The first moment after `at` when the clock in `zone` shows `local`.
CREATE FUNCTION next_local_time(at TIMESTAMPTZ, zone TEXT, local TIME) RETURNS TIMESTAMPTZ
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN today > at THEN today ELSE ((day + 1) + local) AT TIME ZONE zone END
        FROM (SELECT (at AT TIME ZONE zone)::date AS day) d,
             LATERAL (SELECT (day + local) AT TIME ZONE zone AS today) t
    $$;

-- The stop a warning went out for, so each stop is announced once.
ALTER TABLE workspaces
    ADD COLUMN stop_warned_for TIMESTAMPTZ;

-- When an available workspace will stop on its own, as of `at`, unless it is used: the
-- earliest of its idle window's end (for a workstation with an instance to measure), its
-- maximum running time and the next nightly stop, but not before "Keep running" ends.
-- NULL when nothing stops it.
CREATE FUNCTION workspace_stop_due(workspace TEXT, at TIMESTAMPTZ) RETURNS TIMESTAMPTZ
    LANGUAGE sql STABLE
    AS $$
        SELECT GREATEST(w.keep_running_until, LEAST(
            CASE WHEN w.outputs ? 'InstanceId' THEN
                GREATEST(workspace_available_since(w.id), w.last_connect_at, w.last_busy_at) + make_interval(mins => c.idle_stop_minutes)
            END,
            workspace_available_since(w.id) + make_interval(hours => c.max_running_hours),
            next_local_time(at, tm.time_zone, c.nightly_stop_at)))
        FROM workspaces w
        JOIN workspace_configurations c ON c.id = w.configuration_id
        JOIN teams tm ON tm.slug = w.team_slug
        WHERE w.id = workspace
    $$;
