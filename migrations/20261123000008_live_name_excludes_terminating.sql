-- A failed workspace frees its name; terminating it later must not claim the name back.
DROP INDEX workspaces_live_name;
CREATE UNIQUE INDEX workspaces_live_name ON workspaces (team_slug, owner, name)
    WHERE state NOT IN ('terminating', 'terminated', 'failed');
