-- Who uploaded each file of a team's scratch space through the portal: its uploader may
-- delete it (as may the team's admins). Files workspaces write have no row.
CREATE TABLE scratch_uploads (
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    team_slug TEXT NOT NULL REFERENCES teams (slug) ON DELETE CASCADE,
    uploader TEXT NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (bucket, object_key)
);
