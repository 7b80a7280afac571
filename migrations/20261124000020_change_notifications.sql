-- Every server process LISTENs on these channels (server/src/changes.rs): to forget what it
-- cached (sessions, a user's access, teams) and to push workspace changes to open pages. A
-- trigger rather than the code that writes, so that no writer (page, worker, psql) is missed;
-- NOTIFY is delivered at commit, and repeats within one transaction are sent once.

CREATE FUNCTION notify_workspace_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'workspace_events' THEN
        PERFORM pg_notify('atrium_workspace', NEW.workspace_id);
    ELSE
        PERFORM pg_notify('atrium_workspace', NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workspaces_changed AFTER INSERT OR UPDATE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION notify_workspace_changed();
CREATE TRIGGER workspace_events_added AFTER INSERT ON workspace_events
    FOR EACH ROW EXECUTE FUNCTION notify_workspace_changed();

-- A user's roles, teams or disabled flag (users, team_memberships).
CREATE FUNCTION notify_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('atrium_access', OLD.username);
    ELSE
        PERFORM pg_notify('atrium_access', NEW.username);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_access_changed();
CREATE TRIGGER team_memberships_changed AFTER INSERT OR UPDATE OR DELETE ON team_memberships
    FOR EACH ROW EXECUTE FUNCTION notify_access_changed();

-- Any team (an archived team also leaves every member's access).
CREATE FUNCTION notify_teams_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('atrium_teams', '');
    RETURN NULL;
END $$;

CREATE TRIGGER teams_changed AFTER INSERT OR UPDATE OR DELETE ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION notify_teams_changed();

-- Sessions: tower-sessions' table, created here as its store would (it creates it only if
-- missing), so that a sign-out or a session changed on one replica is forgotten by the others.
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id text PRIMARY KEY NOT NULL,
    data bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);

CREATE FUNCTION notify_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('atrium_session', OLD.id);
    ELSE
        PERFORM pg_notify('atrium_session', NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER sessions_changed AFTER INSERT OR UPDATE OR DELETE ON tower_sessions.session
    FOR EACH ROW EXECUTE FUNCTION notify_session_changed();
