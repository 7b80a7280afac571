-- dev/bench's data on top of the demo: 100 teams of 10 users, ~10,000 workspaces, ~50,000
-- audit rows, ~500,000 daily cost rows.
-- 100 teams of 10 users, each user with 10 workspaces (one live): 10,000 workspaces.
INSERT INTO teams (slug, name, aws_account_id, role_arn, ssm_path)
SELECT 'bench-' || t, 'Bench team ' || t, lpad(t::text, 12, '9'), 'arn:aws:iam::' || lpad(t::text, 12, '9') || ':role/x', '/atrium/teams/bench-' || t
FROM generate_series(1, 100) t;
INSERT INTO users (username, roles) SELECT 'bench-user-' || u, '{researcher}' FROM generate_series(1, 1000) u;
INSERT INTO team_memberships (team_slug, username) SELECT 'bench-' || ((u - 1) / 10 + 1), 'bench-user-' || u FROM generate_series(1, 1000) u;
INSERT INTO workspaces (id, team_slug, owner, name, configuration_id, state, idempotency_key, created_at, updated_at)
SELECT 'bench-ws-' || u || '-' || w, 'bench-' || ((u - 1) / 10 + 1), 'bench-user-' || u, 'ws-' || w,
       (SELECT min(id) FROM workspace_configurations), CASE WHEN w = 1 THEN 'available' ELSE 'terminated' END,
       'bench-key-' || u || '-' || w, now() - (w || ' days')::interval, now() - (w || ' days')::interval
FROM generate_series(1, 1000) u, generate_series(1, 10) w;
-- alan: 150 workspaces on Particle Physics, 3 of them live.
INSERT INTO workspaces (id, team_slug, owner, name, configuration_id, state, idempotency_key, created_at, updated_at)
SELECT 'alan-ws-' || w, 'physics', 'alan', 'alan-' || w, (SELECT min(id) FROM workspace_configurations),
       CASE WHEN w <= 3 THEN 'available' ELSE 'terminated' END, 'alan-key-' || w, now() - (w || ' hours')::interval, now()
FROM generate_series(1, 150) w;
-- ada: 3 live workspaces on Genomics Lab.
INSERT INTO workspaces (id, team_slug, owner, name, configuration_id, state, idempotency_key)
SELECT 'ada-ws-' || w, 'genomics', 'ada', 'ada-bench-' || w, (SELECT min(id) FROM workspace_configurations), 'available', 'ada-key-' || w
FROM generate_series(1, 3) w;
-- 90 days of spend: 50 workspaces per bench team tagged with workspace and user, 5 with the
-- workspace only, and the team's untagged spend.
INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros)
SELECT 'bench-' || t, current_date - d, 'bench-ws-' || ((t - 1) * 10 + (w - 1) % 10 + 1) || '-' || ((w - 1) / 10 + 1),
       'bench-user-' || ((t - 1) * 10 + (w - 1) % 10 + 1), 1000000 + (t * w * d) % 5000000
FROM generate_series(1, 100) t, generate_series(1, 50) w, generate_series(0, 89) d;
INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros)
SELECT 'bench-' || t, current_date - d, 'bench-ws-' || ((t - 1) * 10 + w) || '-6', '', 400000 + (t * d) % 900000
FROM generate_series(1, 100) t, generate_series(1, 5) w, generate_series(0, 89) d;
INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros)
SELECT 'bench-' || t, current_date - d, '', '', 2500000 FROM generate_series(1, 100) t, generate_series(0, 89) d;
INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros)
SELECT 'genomics', current_date - d, 'ada-ws-' || w, 'ada', 1500000 FROM generate_series(1, 3) w, generate_series(0, 29) d;
INSERT INTO audit_log (at, actor, actor_roles, action, object_type, object_id, team_slug, client_ip, result)
SELECT now() - (i || ' minutes')::interval, 'bench-user-' || (i % 1000 + 1), '{researcher}', 'workspace.launch', 'workspace',
       'bench-ws-' || (i % 1000 + 1) || '-1', 'bench-' || (i % 100 + 1), '127.0.0.1', 'success'
FROM generate_series(1, 50000) i;
ANALYZE;
