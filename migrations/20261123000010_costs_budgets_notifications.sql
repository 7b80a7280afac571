-- Spend per day and workspace, from Cost Explorer in each team's account (tag atrium:workspace
-- and atrium:user). A sync replaces the days it fetched, so running it again never doubles.
-- '' stands for spend not tagged with a workspace (or user): shared, or not yet tagged.
CREATE TABLE daily_costs (
    team_slug      TEXT NOT NULL REFERENCES teams (slug) ON DELETE CASCADE,
    day            DATE NOT NULL,
    workspace_id   TEXT NOT NULL DEFAULT '',
    username       TEXT NOT NULL DEFAULT '',
    -- Millionths of a dollar: Cost Explorer's amounts are fractions of a cent.
    amount_micros  BIGINT NOT NULL,
    synced_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (team_slug, day, workspace_id, username)
);

CREATE INDEX daily_costs_by_day ON daily_costs (day);
CREATE INDEX daily_costs_by_workspace ON daily_costs (workspace_id, day);

-- A team's monthly budget and the percentages at which an alert goes out.
CREATE TABLE team_budgets (
    team_slug     TEXT PRIMARY KEY REFERENCES teams (slug) ON DELETE CASCADE,
    amount_cents  BIGINT NOT NULL CHECK (amount_cents > 0),
    thresholds    INT[] NOT NULL DEFAULT '{50,80,100}',
    updated_by    TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per threshold crossed per team and month: the primary key is what makes an alert
-- go out once, however often the budget is checked.
CREATE TABLE budget_alerts (
    team_slug       TEXT NOT NULL REFERENCES teams (slug) ON DELETE CASCADE,
    month           DATE NOT NULL,
    threshold       INT NOT NULL,
    spent_cents     BIGINT NOT NULL,
    forecast_cents  BIGINT NOT NULL,
    budget_cents    BIGINT NOT NULL,
    alerted_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (team_slug, month, threshold)
);

-- Slack and Microsoft Teams incoming webhooks. The URL is a secret: it lives in SSM as a
-- SecureString; the row keeps its parameter name and a hint to recognise it by.
CREATE TABLE notification_targets (
    id             BIGSERIAL PRIMARY KEY,
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    platform       TEXT NOT NULL CHECK (platform IN ('slack', 'teams')),
    -- NULL: every team's events.
    team_slug      TEXT REFERENCES teams (slug) ON DELETE CASCADE,
    events         TEXT[] NOT NULL,
    ssm_parameter  TEXT NOT NULL,
    url_hint       TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'dead')),
    last_error     TEXT,
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The cost sync reschedules itself for ever: there must be exactly one, however many workers
-- start at once.
CREATE UNIQUE INDEX jobs_one_cost_sync ON jobs (kind) WHERE kind = 'cost-sync';
