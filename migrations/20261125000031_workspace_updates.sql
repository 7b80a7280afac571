-- Upgrade and resize in place (issue 16). A workspace runs one version of its product: its
-- configuration's at launch, a newer approved one after an upgrade. Its size (a parameter
-- value) and hourly estimate may change too; until AWS has done it, the change waits in
-- pending_update, so a failed update leaves the workspace as it was.

ALTER TABLE workspaces DROP CONSTRAINT workspaces_state_check;
ALTER TABLE workspaces ADD CONSTRAINT workspaces_state_check CHECK (state IN
    ('requested', 'provisioning', 'available', 'stopping', 'stopped', 'starting',
     'updating', 'terminating', 'terminated', 'failed'));

ALTER TABLE workspaces ADD COLUMN workspace_type_id BIGINT REFERENCES workspace_types (id);
UPDATE workspaces w SET workspace_type_id = c.workspace_type_id
    FROM workspace_configurations c WHERE c.id = w.configuration_id;

-- Every insert (a launch, the demo and benchmark data) starts on its configuration's version.
CREATE FUNCTION workspaces_version_from_configuration() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.workspace_type_id IS NULL THEN
        SELECT workspace_type_id INTO NEW.workspace_type_id
        FROM workspace_configurations WHERE id = NEW.configuration_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER workspaces_version_on_insert BEFORE INSERT ON workspaces
    FOR EACH ROW EXECUTE FUNCTION workspaces_version_from_configuration();
ALTER TABLE workspaces ALTER COLUMN workspace_type_id SET NOT NULL;

-- The hourly estimate of the size it was changed to; NULL: its configuration's.
ALTER TABLE workspaces ADD COLUMN estimated_hourly_cost_cents INTEGER
    CHECK (estimated_hourly_cost_cents >= 0);
-- {"kind": "upgrade"|"resize", "type_id", "version_id", "parameters", "hourly_cost_cents"}
ALTER TABLE workspaces ADD COLUMN pending_update JSONB;

-- "Must upgrade by": the date after which an older version's workspaces are overdue.
ALTER TABLE workspace_types ADD COLUMN upgrade_by DATE;

-- The sizes an owner may switch to: {"parameter": "InstanceType", "options":
-- [{"value": "t3.large", "estimated_hourly_cost_cents": 17}, …]}; NULL: no resizing.
ALTER TABLE workspace_configurations ADD COLUMN sizes JSONB;
