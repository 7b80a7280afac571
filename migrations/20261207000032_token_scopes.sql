-- The API reaches every page's action: tokens gain scopes for study data, team membership and
-- the user's own account.
ALTER TABLE api_tokens DROP CONSTRAINT IF EXISTS api_tokens_scopes_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_check
    CHECK (scopes <@ ARRAY['read', 'workspaces', 'studies', 'teams', 'account', 'admin'] AND cardinality(scopes) > 0);
