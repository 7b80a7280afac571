-- The cost dashboard is cached in each process (crate::changes) and forgotten when what it
-- shows changes: synced costs, budgets, budget alerts.
CREATE FUNCTION notify_costs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('atrium_costs', '');
    RETURN NULL;
END $$;

CREATE TRIGGER daily_costs_changed AFTER INSERT OR UPDATE OR DELETE ON daily_costs
    FOR EACH STATEMENT EXECUTE FUNCTION notify_costs_changed();
CREATE TRIGGER team_budgets_changed AFTER INSERT OR UPDATE OR DELETE ON team_budgets
    FOR EACH STATEMENT EXECUTE FUNCTION notify_costs_changed();
CREATE TRIGGER budget_alerts_changed AFTER INSERT OR UPDATE OR DELETE ON budget_alerts
    FOR EACH STATEMENT EXECUTE FUNCTION notify_costs_changed();
