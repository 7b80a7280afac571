-- The parameter values a workspace was launched with: its configuration's, with a profile's
-- values on top when launched from a profile.
ALTER TABLE workspaces ADD COLUMN parameter_values JSONB NOT NULL DEFAULT '{}';
