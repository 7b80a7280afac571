-- Personal access tokens for /api/v1. Only the SHA-256 of a token is kept: it is shown once.
-- The rate limit is a token bucket in the row itself, so that every replica shares it.
CREATE TABLE api_tokens (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL REFERENCES users (username),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    scopes        TEXT[] NOT NULL CHECK (scopes <@ ARRAY['read', 'workspaces', 'admin'] AND cardinality(scopes) > 0),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    revoked_by    TEXT,
    -- Requests the token may still make at once, as of bucket_at.
    bucket        DOUBLE PRECISION NOT NULL DEFAULT 1e9,
    bucket_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX api_tokens_by_user ON api_tokens (username, created_at DESC);
