//! What the demo shows as having happened: costs in Cost Explorer, a hot workstation's metrics, a verified mail sender.

use super::*;

/// Days of demo costs: the dashboard's default range and the month before it.
pub const COST_DAYS: i64 = 60;

/// Gives moto's Cost Explorer 60 days of plausible daily costs per team account, through
/// moto's own API (it serves GetCostAndUsage only with configured results): each demo
/// workspace at about its hourly estimate, busier on weekdays, plus untagged shared spend.
pub async fn seed_costs(moto_endpoint: &str, workspaces: &[DemoWorkspace], today: time::Date) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    for team in &TEAMS {
        let mut results = Vec::new();
        for back in (0..COST_DAYS).rev() {
            let day = today - time::Duration::days(back);
            let weekday = day.weekday().number_from_monday() <= 5;
            let mut groups = Vec::new();
            for (i, workspace) in workspaces.iter().enumerate().filter(|(_, w)| w.team == team.slug) {
                // A repeatable wobble between 60 % and 100 % of a full day's estimate.
                let wobble = 60 + (day.ordinal() as usize * 37 + i * 11) % 41;
                let load = if weekday { wobble } else { wobble / 3 };
                let amount = f64::from(workspace.hourly_cents) * 24.0 * load as f64 / 100.0 / 100.0;
                groups.push(cost_group(&workspace.id, &workspace.owner, amount));
            }
            groups.push(cost_group("", "", 1.25 + f64::from(day.day() % 5) * 0.1));
            results.push(json!({
                "TimePeriod": { "Start": day.to_string(), "End": (day + time::Duration::days(1)).to_string() },
                "Total": {},
                "Groups": groups,
                "Estimated": back < 2,
            }));
        }
        let body = json!({
            "account_id": team.account_id,
            "results": [{ "ResultsByTime": results, "GroupDefinitions": [
                { "Type": "TAG", "Key": crate::aws::cost_explorer::WORKSPACE_TAG },
                { "Type": "TAG", "Key": crate::aws::cost_explorer::USER_TAG }
            ], "DimensionValueAttributes": [] }],
        });
        let response = http
            .post(format!("{}/moto-api/static/ce/cost-and-usage-results", moto_endpoint.trim_end_matches('/')))
            .json(&body)
            .send()
            .await
            .context("Failed to reach moto to seed the demo costs")?;
        anyhow::ensure!(response.status().is_success(), "moto refused the demo costs: HTTP {}", response.status());
    }
    Ok(())
}

pub(super) fn cost_group(workspace: &str, user: &str, dollars: f64) -> serde_json::Value {
    json!({
        "Keys": [format!("{}${workspace}", crate::aws::cost_explorer::WORKSPACE_TAG), format!("{}${user}", crate::aws::cost_explorer::USER_TAG)],
        "Metrics": { "UnblendedCost": { "Amount": format!("{dollars:.4}"), "Unit": "USD" } },
    })
}

/// The demo workstation that shows a health alarm: alan's, running hot.
pub const HOT_WORKSPACE: (&str, &str) = ("alan", "event-display");

/// Waits (up to two minutes) for alan's demo workstation to be available, puts four minutes
/// of CPU at 99 % for its instance into CloudWatch in its team's account, and runs the health
/// check once, so that the alarm shows at once rather than at the worker's next round.
pub async fn seed_metrics(sdk: &aws_config::SdkConfig, db: &PgPool) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let (owner, name) = HOT_WORKSPACE;
    let mut found = None;
    for _ in 0..120 {
        found = crate::repo::workspaces::available_instance(db, owner, name).await?;
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let (instance, role) = found.with_context(|| format!("{owner}'s {name} did not become available"))?;
    let account =
        crate::aws::team_role::TeamSessions::new(sdk.clone()).config(&role, "atrium-demo").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = time::OffsetDateTime::now_utc();
    let data: Vec<MetricDatum> = (0..4)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(Dimension::builder().name("InstanceId").value(&instance).build())
                .timestamp(DateTime::from_secs((now - time::Duration::minutes(i) - time::Duration::seconds(5)).unix_timestamp()))
                .value(99.0)
                .build()
        })
        .collect();
    aws_sdk_cloudwatch::Client::new(&account)
        .put_metric_data()
        .namespace("AWS/EC2")
        .set_metric_data(Some(data))
        .send()
        .await
        .context("Failed to put the demo CPU metrics")?;
    let metrics = crate::aws::cloudwatch::CloudWatchMetrics::new(sdk.clone());
    let raised = crate::services::health::check_health(db, &metrics, now).await?;
    tracing::info!(?raised, "Demo health alarms raised");
    Ok(())
}

/// Has SES (moto's, locally) verify the sender, as an institution does once for its domain.
pub async fn verify_sender(sdk: &aws_config::SdkConfig, from: &str) -> anyhow::Result<()> {
    let created = aws_sdk_sesv2::Client::new(sdk).create_email_identity().email_identity(from).send().await;
    match created {
        Ok(_) => Ok(()),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_already_exists_exception()) => Ok(()),
        Err(error) => Err(anyhow::Error::new(error).context(format!("Failed to verify {from} with SES"))),
    }
}
