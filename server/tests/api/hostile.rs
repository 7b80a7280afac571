//! Hostile input, as a hostile user would send it, into every server function, every page and
//! every form route, as an admin and as a researcher: no answer may be a 5xx. The server
//! functions are read from `app/src/features/` and checked against those registered, and the
//! pages from the app's route list, so that a route added later is covered without a change
//! here.

use crate::helpers::{TestApp, spawn_app};
use sqlx::PgPool;
use std::collections::BTreeSet;

fn hostile_values() -> Vec<String> {
    vec![
        String::new(),
        " ".into(),
        "\0".into(),
        "ada\0".into(),
        "line\r\nX-Injected: yes".into(),
        "'; DROP TABLE users; --".into(),
        "\" OR 1=1 --".into(),
        "<script>alert(1)</script>".into(),
        "../../etc/passwd".into(),
        "%00%2e%2e%2f".into(),
        "-1".into(),
        "0".into(),
        "99999999999999999999999".into(),
        "1e309".into(),
        "NaN".into(),
        "Zoë 🦀 \u{202E}\u{FEFF}\u{200B} ﷽".into(),
        "\u{85}\u{1b}[31m".into(),
        "x".repeat(4_000),
    ]
}

/// (endpoint, parameter names, map parameters) of every server function in `app/src/features/`.
fn server_functions() -> Vec<(String, Vec<String>, Vec<String>)> {
    let source = crate::helpers::server_function_source();
    let mut found = Vec::new();
    for piece in source.split("#[server(endpoint = \"").skip(1) {
        let Some((endpoint, rest)) = piece.split_once('"') else { continue };
        let Some(start) = rest.find("pub async fn ") else { continue };
        let rest = &rest[start..];
        let (Some(open), Some(close)) = (rest.find('('), rest.find(") -> ")) else { continue };
        let list: String = rest[open + 1..close]
            .lines()
            .map(str::trim)
            .filter(|line| !line.starts_with("//"))
            .collect::<Vec<_>>()
            .join(" ")
            .replace("#[server(default)]", "");
        let (mut names, mut maps) = (Vec::new(), Vec::new());
        let mut depth = 0;
        let mut current = String::new();
        for c in list.chars().chain([',']) {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                ',' if depth == 0 => {
                    if let Some((name, kind)) = current.split_once(':') {
                        let name = name.trim().to_owned();
                        if kind.contains("BTreeMap") {
                            maps.push(name.clone());
                        }
                        names.push(name);
                    }
                    current.clear();
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        found.push((endpoint.to_owned(), names, maps));
    }
    found
}

async fn assert_no_server_error(response: reqwest::Result<reqwest::Response>, what: &str, failures: &mut Vec<String>) {
    match response {
        Ok(response) if response.status().is_server_error() => {
            let status = response.status();
            let body: String = response.text().await.unwrap_or_default().chars().take(200).collect();
            failures.push(format!("{status} for {what}: {body}"));
        }
        Ok(_) => {}
        Err(error) => failures.push(format!("no answer for {what}: {}", error.to_string().chars().take(200).collect::<String>())),
    }
}

fn short(value: &str) -> String {
    format!("{:?}", value.chars().take(30).collect::<String>())
}

#[sqlx::test(migrations = "../migrations")]
async fn no_hostile_input_gets_a_server_error_anywhere(db: PgPool) {
    let app = spawn_app(db).await;
    let functions = server_functions();
    let parsed: BTreeSet<String> = functions.iter().map(|(endpoint, _, _)| format!("/api/{endpoint}")).collect();
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_owned()).collect();
    assert!(registered.len() > 40, "the server functions are registered: {registered:?}");
    let missed: Vec<&String> = registered.difference(&parsed).collect();
    assert!(missed.is_empty(), "server functions this test did not read from app/src/features/: {missed:?}");

    let pages: Vec<String> = leptos_axum::generate_route_list(app::App).iter().map(|route| route.path().to_owned()).collect();
    assert!(pages.iter().any(|p| p.starts_with("/workspaces/")), "the route list: {pages:?}");

    let mut failures = Vec::new();
    for user in ["ada", "grace"] {
        let browser: reqwest::Client = app.client_signed_in_as(user).await;
        let values = hostile_values();
        for (endpoint, names, maps) in &functions {
            for value in &values {
                let mut form: Vec<(String, String)> = names.iter().map(|n| (n.clone(), value.clone())).collect();
                form.extend(maps.iter().map(|m| (format!("{m}[{value}]"), "on".to_owned())));
                let response = browser.post(format!("{}/api/{endpoint}", app.address)).form(&form).send().await;
                assert_no_server_error(response, &format!("{user}: /api/{endpoint} with {}", short(value)), &mut failures).await;
            }
        }
        for page in &pages {
            for value in &values {
                let segment = form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20");
                let path = page
                    .split('/')
                    .map(|part| if part.starts_with(':') || part.starts_with('{') { segment.as_str() } else { part })
                    .collect::<Vec<_>>()
                    .join("/");
                let response = browser.get(format!("{}{path}", app.address)).send().await;
                assert_no_server_error(response, &format!("{user}: GET {page} with {}", short(value)), &mut failures).await;
                let real = page
                    .replace(":team", "genomics")
                    .replace("{team}", "genomics")
                    .replace(":id", "no-such-id")
                    .replace("{id}", "no-such-id");
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(
                        ["page", "days", "all", "next", "search", "actor", "team", "action", "from", "to", "error", "cursor", "id"]
                            .map(|k| (k, value.as_str())),
                    )
                    .finish();
                let response = browser.get(format!("{}{real}?{query}", app.address)).send().await;
                assert_no_server_error(response, &format!("{user}: GET {real}?… with {}", short(value)), &mut failures).await;
            }
        }
        // The routes outside Leptos (axum's own); /api/v1 is fuzzed by schemathesis (dev/fuzz-api).
        for value in &values {
            let segment = form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20");
            let query = |keys: &[&str]| {
                form_urlencoded::Serializer::new(String::new()).extend_pairs(keys.iter().map(|k| (*k, value.as_str()))).finish()
            };
            let requests = [
                browser.get(format!("{}/events/workspaces/{segment}", app.address)),
                browser.post(format!("{}/workspaces/{segment}/connect", app.address)),
                browser.get(format!("{}/admin/audit.csv?{}", app.address, query(&["actor", "team", "action", "from", "to"]))),
                browser.get(format!("{}/costs.csv?{}", app.address, query(&["days", "all"]))),
                browser.get(format!("{}/auth/sso?{}", app.address, query(&["next"]))),
                browser.get(format!("{}/auth/callback?{}", app.address, query(&["code", "state", "error", "error_description"]))),
                browser
                    .post(format!("{}/auth/new-password", app.address))
                    .form(&[("password", value.as_str()), ("confirm", value.as_str())]),
                browser.get(format!("{}/{segment}/", app.address)),
            ];
            for request in requests {
                let what = format!(
                    "{user}: {} with {}",
                    request
                        .try_clone()
                        .and_then(|r| r.build().ok())
                        .map(|r| format!("{} {}", r.method(), r.url().path()))
                        .unwrap_or_default(),
                    short(value)
                );
                let response = request.timeout(std::time::Duration::from_secs(10)).send().await;
                assert_no_server_error(response, &what, &mut failures).await;
            }
        }
    }
    // Anonymous sign-in attempts with hostile names and passwords.
    for value in hostile_values().iter().take(8) {
        let response = crate::helpers::client()
            .post(format!("{}/auth/sign-in", app.address))
            .form(&[("username", value.as_str()), ("password", value.as_str())])
            .send()
            .await;
        assert_no_server_error(response, &format!("sign-in with {}", short(value)), &mut failures).await;
    }
    let shown: Vec<&String> = failures.iter().take(60).collect();
    assert!(
        failures.is_empty(),
        "{} server errors, the first:\n{}",
        failures.len(),
        shown.iter().map(|f| f.chars().take(300).collect::<String>()).collect::<Vec<_>>().join("\n")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_trailing_slash_redirects_to_the_canonical_path_and_nul_is_a_400_naming_the_field(db: PgPool) {
    let app: TestApp = spawn_app(db).await;
    app.sign_in("ada", crate::helpers::PASSWORD).await;
    for (path, canonical) in [
        ("/teams/", "/teams"),
        ("/teams/genomics/", "/teams/genomics"),
        ("/costs/?days=7", "/costs?days=7"),
        ("//example.com/", "/example.com"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 308, "{path}");
        assert_eq!(crate::helpers::location(&response), canonical, "{path}");
    }
    let (status, page) = app.get_text("/admin/audit?actor=a%00b").await;
    assert_eq!(status, 400);
    assert!(
        page.contains("The field &quot;actor&quot; contains a control character")
            || page.contains("The field \"actor\" contains a control character"),
        "{page}"
    );
    let (status, _) = app.get_text("/workspaces/%00").await;
    assert_eq!(status, 400);
    let response = app.post_form("/api/save_settings", &[("stop_on_sign_out", "never\u{0}")]).await;
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap_or_default().contains("stop_on_sign_out"));
}
