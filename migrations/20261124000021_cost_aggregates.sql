-- Cost pages aggregate in SQL rather than loading every daily row into the server.

-- Millionths of a dollar to cents, half away from zero: app::domain::costs::micros_to_cents.
-- Each daily row is rounded before summing, as the pages always did.
CREATE FUNCTION micros_to_cents(micros BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT micros / 10000 + CASE WHEN micros % 10000 >= 5000 THEN 1 WHEN micros % 10000 <= -5000 THEN -1 ELSE 0 END
$$;

-- A user's spend on a team (the team home's "My spend").
CREATE INDEX daily_costs_by_team_user ON daily_costs (team_slug, username, day);
