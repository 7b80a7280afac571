-- What the reconcile last found wrong with a workspace that it could not apply safely
-- ("terminated outside Atrium", "stuck in provisioning for 45 min"), and when it looked.
ALTER TABLE workspaces ADD COLUMN drift TEXT, ADD COLUMN reconciled_at TIMESTAMPTZ;

CREATE INDEX workspaces_with_drift ON workspaces (team_slug) WHERE drift IS NOT NULL;
