use crate::helpers::{PASSWORD, spawn_app};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn mutations_are_audited_with_who_what_where_and_the_result(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", "not-her-password-1A").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-audited", "key-audited-01").await;
    let id = id.as_str().expect("id").to_owned();
    app.post_form("/auth/sign-out", &[]).await;

    let rows: Vec<(String, String, String, Option<String>, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT actor, action, result, object_id, team_slug, client_ip FROM audit_log WHERE actor = 'ada' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .expect("audit rows");
    let actions: Vec<(&str, &str)> = rows.iter().map(|r| (r.1.as_str(), r.2.as_str())).collect();
    assert_eq!(
        actions,
        vec![("auth.sign_in", "failure"), ("auth.sign_in", "success"), ("workspace.launch", "success"), ("auth.sign_out", "success")]
    );
    let launch = &rows[2];
    assert_eq!((launch.3.as_deref(), launch.4.as_deref(), launch.5.as_deref()), (Some(id.as_str()), Some("genomics"), Some("127.0.0.1")));

    let approvals: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE actor = 'grace' AND action IN ('catalog.import', 'catalog.approve', 'catalog.configure')",
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(approvals, 3, "grace's catalog changes are there too");
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_read_filter_and_export_the_log_and_nobody_else_can(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    app.launch("genomics", configuration, "ada-exported", "key-exported-1").await;
    for path in ["/admin/audit", "/admin/audit.csv"] {
        assert_eq!(app.get(path).await.status().as_u16(), 403, "ada on {path}");
    }

    let grace = app.client_signed_in_as("grace").await;
    let page = grace.get(format!("{}/admin/audit?actor=ada&action=workspace.", app.address)).send().await.expect("sent");
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.expect("text");
    assert!(page.contains("1 entries"), "only ada's launch matches");
    assert!(page.contains("ada-exported"));

    let csv = grace.get(format!("{}/admin/audit.csv?actor=ada", app.address)).send().await.expect("sent");
    assert_eq!(csv.status().as_u16(), 200);
    assert!(csv.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().starts_with("text/csv"));
    let csv = csv.text().await.expect("text");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "at_utc,actor,roles,action,object_type,object_id,team,client_ip,result,detail");
    assert_eq!(lines.len(), 3, "a header, ada's launch and her sign-in: {csv}");
    assert!(
        lines.iter().any(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            cells.get(3) == Some(&"workspace.launch") && cells.get(6) == Some(&"genomics")
        }),
        "{csv}"
    );

    let bad = grace.get(format!("{}/admin/audit.csv?from=yesterday", app.address)).send().await.expect("sent");
    assert_eq!(bad.status().as_u16(), 400);
}
