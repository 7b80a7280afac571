-- The stop a warning was for is never read: when the warning went out (stop_warned_at) is what
-- decides whether a stop may follow.
ALTER TABLE workspaces DROP COLUMN stop_warned_for;
