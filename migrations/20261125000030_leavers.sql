-- When the reconcile first saw that a live workspace's owner had left its team (or was
-- disabled): after a grace period it is stopped, unless an admin transfers it.
ALTER TABLE workspaces ADD COLUMN owner_left_at TIMESTAMPTZ;
