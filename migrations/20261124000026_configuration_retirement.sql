-- A configuration can be retired (the catalog file no longer lists it): no new launches, its
-- workspaces, costs and audit rows stay. Applying a file that lists it again brings it back.
ALTER TABLE workspace_configurations ADD COLUMN retired_at TIMESTAMPTZ;
