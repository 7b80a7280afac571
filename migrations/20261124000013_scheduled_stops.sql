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
