//! Costs and budgets: the Cost Explorer sync against moto, budget alerts, the dashboard's
//! access rules and CSV, and launches refused over budget.

use crate::helpers::{PASSWORD, moto_sdk_config, spawn_app};
use app::domain::TeamSlug;
use atrium::aws::cost_explorer::CostExplorer;
use atrium::repo::teams::{self, Team};
use atrium::services::costs::{check_budgets, sync_costs};
use serde_json::json;
use sqlx::PgPool;
use time::macros::date;

/// A team in an AWS account no other test uses, so moto's cost results are this test's own.
async fn team_of_its_own(db: &PgPool, slug: &str) -> Team {
    atrium::startup::migrate(db).await.expect("migrations run");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let account = format!("{:012}", (nanos ^ u128::from(std::process::id())) % 1_000_000_000_000);
    let team = Team {
        slug: TeamSlug::parse(slug).expect("slug"),
        name: format!("Team {slug}"),
        description: String::new(),
        aws_account_id: account.clone(),
        role_arn: format!("arn:aws:iam::{account}:role/AtriumPortalAccess"),
        external_id: String::new(), // the database makes one
        ssm_path: format!("/atrium/teams/{slug}"),
        time_zone: "UTC".into(),
        reviewers: 1,
        archived: false,
    };
    teams::upsert(db, &team).await.expect("team written");
    team
}

/// Configures moto's Cost Explorer answer for the account: one result for the next new request.
async fn moto_costs(account: &str, days: &[(&str, &[(&str, &str, &str)])]) {
    let results: Vec<serde_json::Value> = days
        .iter()
        .map(|(day, groups)| {
            let groups: Vec<serde_json::Value> = groups
                .iter()
                .map(|(workspace, user, amount)| {
                    json!({
                        "Keys": [format!("atrium:workspace${workspace}"), format!("atrium:user${user}")],
                        "Metrics": { "UnblendedCost": { "Amount": amount, "Unit": "USD" } }
                    })
                })
                .collect();
            json!({ "TimePeriod": { "Start": day, "End": day }, "Total": {}, "Groups": groups, "Estimated": false })
        })
        .collect();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("moto");
    let response = reqwest::Client::new()
        .post(format!("{endpoint}/moto-api/static/ce/cost-and-usage-results"))
        .json(&json!({ "account_id": account, "results": [{ "ResultsByTime": results, "DimensionValueAttributes": [] }] }))
        .send()
        .await
        .expect("moto answers");
    assert!(response.status().is_success());
}

async fn stored(db: &PgPool) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), COALESCE(sum(amount_micros), 0)::bigint FROM daily_costs").fetch_one(db).await.expect("sums")
}

#[sqlx::test]
async fn syncing_costs_twice_gives_the_same_totals(db: PgPool) {
    let team = team_of_its_own(&db, "costly").await;
    moto_costs(
        &team.aws_account_id,
        &[
            ("2026-11-20", &[("ws-1", "ada", "4.0812"), ("", "", "1.25")]),
            ("2026-11-21", &[("ws-1", "ada", "3.5"), ("ws-2", "alan", "0.015")]),
        ],
    )
    .await;
    let source = CostExplorer::new(moto_sdk_config().await);
    let today = date!(2026 - 11 - 23);

    let rows = sync_costs(&db, &source, today).await.expect("first sync");
    assert_eq!(rows, 4);
    let first = stored(&db).await;
    assert_eq!(first, (4, 4_081_200 + 1_250_000 + 3_500_000 + 15_000));

    sync_costs(&db, &source, today).await.expect("second sync");
    assert_eq!(stored(&db).await, first, "a day synced again is replaced, not added to");

    // An answer without those days (Cost Explorer had nothing for them) keeps what is known.
    sync_costs(&db, &Silent, today).await.expect("third sync");
    assert_eq!(stored(&db).await, first);
}

struct Silent;

#[async_trait::async_trait]
impl atrium::aws::cost_explorer::CostSource for Silent {
    async fn daily_costs(
        &self,
        _: &atrium::aws::team_role::TeamRole,
        _: &str,
        _: time::Date,
        _: time::Date,
    ) -> Result<atrium::aws::cost_explorer::CostReport, atrium::aws::provisioning::ProvisionError> {
        Ok(atrium::aws::cost_explorer::CostReport::default())
    }
}

async fn add_costs(db: &PgPool, team: &str, day: time::Date, dollars: i64) {
    sqlx::query("INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros) VALUES ($1, $2, 'w', 'ada', $3) \
                 ON CONFLICT (team_slug, day, workspace_id, username) DO UPDATE SET amount_micros = daily_costs.amount_micros + EXCLUDED.amount_micros")
        .bind(team)
        .bind(day)
        .bind(dollars * 1_000_000)
        .execute(db)
        .await
        .expect("costs written");
}

#[sqlx::test]
async fn each_budget_threshold_alerts_once_a_month(db: PgPool) {
    let team = team_of_its_own(&db, "budgeted").await;
    let slug = team.slug.as_str();
    // A channel for the team's budget alerts: each alert queues one delivery.
    sqlx::query(
        "INSERT INTO notification_targets (name, platform, team_slug, events, ssm_parameter, url_hint, created_by) \
                 VALUES ('ops', 'slack', $1, '{budget.threshold}', '/atrium/notifications/x', 'h', 'grace')",
    )
    .bind(slug)
    .execute(&db)
    .await
    .expect("target");
    atrium::repo::costs::set_budget(
        &db,
        slug,
        &atrium::repo::costs::Budget { amount_cents: 100_000, thresholds: vec![50, 80, 100] },
        "grace",
    )
    .await
    .expect("budget");
    let today = date!(2026 - 11 - 10);
    // $600 so far, nothing in the last week: forecast $600 of $1,000.
    add_costs(&db, slug, date!(2026 - 11 - 01), 600).await;

    assert_eq!(check_budgets(&db, today).await.expect("check"), vec![(slug.to_owned(), 50)]);
    assert_eq!(check_budgets(&db, today).await.expect("check again"), vec![], "50 % was announced already");

    add_costs(&db, slug, date!(2026 - 11 - 02), 250).await; // $850: 80 % crossed
    assert_eq!(check_budgets(&db, today).await.expect("check"), vec![(slug.to_owned(), 80)]);
    add_costs(&db, slug, date!(2026 - 11 - 02), 200).await; // $1,050: 100 % crossed
    assert_eq!(check_budgets(&db, today).await.expect("check"), vec![(slug.to_owned(), 100)]);
    assert_eq!(check_budgets(&db, today).await.expect("check"), vec![]);

    // Next month starts afresh (on its first day, with a quiet week before it).
    add_costs(&db, slug, date!(2026 - 12 - 01), 600).await;
    assert_eq!(check_budgets(&db, date!(2026 - 12 - 01)).await.expect("check"), vec![(slug.to_owned(), 50)]);

    let deliveries: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE kind = 'notification'").fetch_one(&db).await.expect("count");
    assert_eq!(deliveries, 4, "one message per alert");
}

#[sqlx::test]
async fn costs_are_for_cost_viewers_and_admins_and_the_csv_adds_up(db: PgPool) {
    let app = spawn_app(db).await;
    add_costs(&app.db, "genomics", atrium::services::costs::today(), 12).await;
    add_costs(&app.db, "climate", atrium::services::costs::today() - time::Duration::days(3), 30).await;

    app.sign_in("ada", PASSWORD).await;
    assert_eq!(app.get("/costs").await.status().as_u16(), 403);
    assert_eq!(app.get("/costs.csv").await.status().as_u16(), 403);

    let carol = app.client_signed_in_as("carol").await;
    let page = carol.get(format!("{}/costs", app.address)).send().await.expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("data-testid=\"costs-chart\""), "the chart is rendered on the server");
    assert!(html.contains("$42.00"), "the 30-day total");

    let csv = carol.get(format!("{}/costs.csv?days=7", app.address)).send().await.expect("csv").text().await.expect("text");
    // The spend column (the sixth) of each section adds up to the total.
    let spend = |section: &str| -> f64 {
        csv.lines().filter(|l| l.starts_with(&format!("{section},"))).filter_map(|l| l.split(',').nth(5)?.parse::<f64>().ok()).sum()
    };
    assert_eq!(spend("total"), 42.0, "{csv}");
    for section in ["daily", "team", "user", "workspace"] {
        assert!((spend(section) - 42.0).abs() < 0.001, "{section}: {csv}");
    }

    let bad = carol.get(format!("{}/costs.csv?days=<script>", app.address)).send().await.expect("sent");
    assert_eq!(bad.status().as_u16(), 400);
    assert!(!bad.text().await.expect("text").contains("<script>"), "what the user sent is escaped");
}

#[sqlx::test]
async fn a_launch_over_budget_is_refused_unless_an_admin_overrides(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    let grace = app.client_signed_in_as("grace").await;
    let set = grace
        .post(format!("{}/api/admin/set_budget", app.address))
        .form(&[("team", "genomics"), ("amount", "1"), ("thresholds", "50, 100")])
        .send()
        .await
        .expect("sent");
    assert_eq!(set.status().as_u16(), 200);

    app.sign_in("ada", PASSWORD).await;
    let (status, body) = app.launch("genomics", configuration, "ada-pricey", "key-pricey-0001").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("over its $1.00 budget"), "{body}");
    let workspaces: i64 = sqlx::query_scalar("SELECT count(*) FROM workspaces").fetch_one(&app.db).await.expect("count");
    assert_eq!(workspaces, 0);

    let id = configuration.to_string();
    let launch = |override_budget: &'static str, key: &'static str| {
        let form = [
            ("team", "genomics"),
            ("configuration_id", id.as_str()),
            ("name", "grace-urgent"),
            ("launch_key", key),
            ("override_budget", override_budget),
        ];
        grace.post(format!("{}/api/launch_workspace", app.address)).form(&form).send()
    };
    assert_eq!(launch("", "key-urgent-0001").await.expect("sent").status().as_u16(), 400, "admins too, unless they override");
    assert_eq!(launch("on", "key-urgent-0002").await.expect("sent").status().as_u16(), 200);

    let audit: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT actor, action, result FROM audit_log WHERE action LIKE 'workspace.launch%' OR action = 'budget.set' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .expect("audit");
    let audit: Vec<(&str, &str, &str)> = audit.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(
        audit,
        vec![
            ("grace", "budget.set", "success"),
            ("ada", "workspace.launch", "refused"),
            ("grace", "workspace.launch", "refused"),
            ("grace", "workspace.launch", "success"),
            ("grace", "workspace.launch.budget_override", "success"),
        ]
    );
}

#[sqlx::test]
async fn workspaces_launched_since_the_last_sync_count_against_the_budget(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await; // $0.20 an hour
    let one_launch = atrium::services::costs::cost_to_month_end(20, atrium::services::costs::today());
    let budget = format!("{:.2}", (one_launch * 3 / 2) as f64 / 100.0);
    let grace = app.client_signed_in_as("grace").await;
    let set = grace
        .post(format!("{}/api/admin/set_budget", app.address))
        .form(&[("team", "genomics"), ("amount", budget.as_str())])
        .send()
        .await
        .expect("sent");
    assert_eq!(set.status().as_u16(), 200);

    // ada and grace launch at the same moment: room for one of them.
    app.sign_in("ada", PASSWORD).await;
    let id = configuration.to_string();
    let grace_launch = grace
        .post(format!("{}/api/launch_workspace", app.address))
        .form(&[("team", "genomics"), ("configuration_id", id.as_str()), ("name", "grace-fits"), ("launch_key", "key-fits-00002")])
        .send();
    let (ada, grace) = tokio::join!(app.launch("genomics", configuration, "ada-fits", "key-fits-00001"), grace_launch);
    let mut statuses = vec![ada.0, grace.expect("sent").status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 400], "one fits; the other counts it although Cost Explorer has not seen it yet");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_cost_page_lists_the_top_spenders_and_everyone_on_request(db: PgPool) {
    let app = spawn_app(db).await;
    // 40 users, each with one workspace's spend on Genomics Lab: user-40 spends the most.
    sqlx::query(
        "INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros) \
         SELECT 'genomics', current_date, 'bench-ws-' || u, 'user-' || u, u * 1000000 FROM generate_series(1, 40) u",
    )
    .execute(&app.db)
    .await
    .expect("costs");
    app.sign_in("carol", PASSWORD).await;

    let (status, page) = app.get_text("/costs?days=7").await;
    assert_eq!(status, 200);
    assert!(page.contains("The top 25 of 40 users") && page.contains("The top 25 of 40 workspaces"), "the page says what it leaves out");
    assert!(page.contains(">user-40<") && page.contains(">user-16<") && !page.contains(">user-15<"), "the highest spenders");

    let (_, all) = app.get_text("/costs?days=7&all=1").await;
    assert!(!all.contains("The top 25") && all.contains(">user-1<"), "everyone on request");
    let (_, csv) = app.get_text("/costs.csv?days=7").await;
    assert_eq!(csv.lines().filter(|line| line.starts_with("user,")).count(), 40, "the CSV has every user");
}
