-- Each team's external id: the portal passes it on every AssumeRole into the team's account, and
-- the role's trust policy requires it (no confused deputy). Generated per row (the default is
-- volatile, so existing teams get one each), shown to admins, rotated on request (audited).
-- AWS allows 2 to 1,224 characters of [A-Za-z0-9+=,.@:/-].
ALTER TABLE teams
    ADD COLUMN external_id TEXT NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '')
        CHECK (external_id ~ '^[A-Za-z0-9+=,.@:/-]+$' AND length(external_id) BETWEEN 2 AND 1224),
    ADD COLUMN external_id_rotated_at TIMESTAMPTZ;
