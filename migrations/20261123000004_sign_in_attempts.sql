-- Failed sign-ins, for rate limiting: per typed username and per client address.
CREATE TABLE sign_in_failures (
    id         BIGSERIAL PRIMARY KEY,
    username   TEXT NOT NULL,
    client_ip  TEXT NOT NULL,
    failed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX sign_in_failures_by_username ON sign_in_failures (username, failed_at);
CREATE INDEX sign_in_failures_by_ip ON sign_in_failures (client_ip, failed_at);
