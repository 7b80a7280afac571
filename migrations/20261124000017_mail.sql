-- E-mail: each user's address (from the ID token at sign-in, or the invitation) and the kinds
-- of mail they want: workspace warnings and stop notices, health alarms, budget alerts.
ALTER TABLE users
    ADD COLUMN email           TEXT,
    ADD COLUMN mail_workspace  BOOLEAN NOT NULL DEFAULT true,
    ADD COLUMN mail_health     BOOLEAN NOT NULL DEFAULT true,
    ADD COLUMN mail_budget     BOOLEAN NOT NULL DEFAULT true;
