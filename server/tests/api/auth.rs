use crate::helpers::{location, session_cookie, spawn_app, PASSWORD};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn a_researcher_signs_in_and_sees_exactly_her_teams(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.sign_in("ada", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/teams");
    assert!(session_cookie(&response).is_some(), "a signed-in user has a session cookie");

    let (status, page) = app.get_text("/teams").await;
    assert_eq!(status, 200);
    assert!(page.contains("Genomics Lab"));
    assert!(page.contains("Climate Modelling"));
    assert!(!page.contains("Particle Physics"));
}

#[sqlx::test(migrations = "../migrations")]
async fn wrong_password_unknown_user_and_disabled_user_get_the_same_answer_and_no_session(db: PgPool) {
    let app = spawn_app(db).await;
    app.cognito()
        .admin_disable_user()
        .user_pool_id(&app.identity.user_pool_id)
        .username("gus")
        .send()
        .await
        .expect("gus is disabled");

    let mut answers = Vec::new();
    for (username, password) in [("ada", "wrong-password-1A!"), ("nobody", PASSWORD), ("gus", PASSWORD)] {
        let response = app.sign_in(username, password).await;
        assert_eq!(response.status().as_u16(), 303, "{username}");
        assert!(session_cookie(&response).is_none(), "{username} must not get a session cookie");
        answers.push(location(&response));
    }
    assert_eq!(answers, vec!["/?error=signin"; 3]);

    let (status, page) = app.get_text("/?error=signin").await;
    assert_eq!(status, 200);
    assert!(page.contains("We could not sign you in with that username and password"));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_empty_form_is_answered_with_a_message_not_an_error(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.post_form("/auth/sign-in", &[("username", " "), ("next", "/teams/climate")]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/?error=missing&next=%2Fteams%2Fclimate");
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_returns_to_the_page_asked_for_but_never_to_another_site(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app
        .post_form("/auth/sign-in", &[("username", "ada"), ("password", PASSWORD), ("next", "/teams/climate")])
        .await;
    assert_eq!(location(&response), "/teams/climate");

    let other = crate::helpers::client();
    let response = other
        .post(format!("{}/auth/sign-in", app.address))
        .form(&[("username", "ada"), ("password", PASSWORD), ("next", "//evil.example/")])
        .send()
        .await
        .expect("request is sent");
    assert_eq!(location(&response), "/teams");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_temporary_password_must_be_replaced_following_the_policy(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.sign_in("newbie", "TempPass-2026").await;
    assert_eq!(location(&response), "/new-password");
    let challenge_cookie = session_cookie(&response).expect("the challenge is kept in a session");

    let response = app
        .post_form("/auth/new-password", &[("new_password", "short"), ("confirm_password", "short")])
        .await;
    assert_eq!(location(&response), "/new-password?error=policy");
    let (_, page) = app.get_text("/new-password?error=policy").await;
    assert!(page.contains("at least 12 characters"), "the policy is explained");
    assert!(page.contains("a symbol"));

    let response = app
        .post_form("/auth/new-password", &[("new_password", "Newbie-Chosen-2026"), ("confirm_password", "Other-2026-xx")])
        .await;
    assert_eq!(location(&response), "/new-password?error=mismatch");

    let response = app
        .post_form("/auth/new-password", &[("new_password", "Newbie-Chosen-2026"), ("confirm_password", "Newbie-Chosen-2026")])
        .await;
    assert_eq!(location(&response), "/teams/climate", "a user with one team goes straight to it");
    let signed_in_cookie = session_cookie(&response).expect("a new session id is issued");
    assert_ne!(signed_in_cookie, challenge_cookie, "the session id is rotated at sign-in");

    let (status, page) = app.get_text("/teams/climate").await;
    assert_eq!(status, 200);
    assert!(page.contains("Climate Modelling"));

    let fresh = crate::helpers::client();
    let response = fresh
        .post(format!("{}/auth/sign-in", app.address))
        .form(&[("username", "newbie"), ("password", "Newbie-Chosen-2026")])
        .send()
        .await
        .expect("request is sent");
    assert_eq!(location(&response), "/teams/climate", "the new password works");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_new_password_form_without_a_pending_challenge_goes_back_to_sign_in(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app
        .post_form("/auth/new-password", &[("new_password", "Whatever-2026-x"), ("confirm_password", "Whatever-2026-x")])
        .await;
    assert_eq!(location(&response), "/?error=challenge");
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_out_deletes_the_session_and_ends_the_cognito_session(db: PgPool) {
    let app = spawn_app(db).await;
    // Another Cognito session of ada's (another device): global sign-out ends it too.
    let elsewhere = app
        .cognito()
        .initiate_auth()
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .client_id(&app.identity.client_id)
        .auth_parameters("USERNAME", "ada")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("signed in elsewhere")
        .authentication_result
        .and_then(|r| r.access_token)
        .expect("access token");
    app.cognito().get_user().access_token(&elsewhere).send().await.expect("the token works before sign-out");

    let response = app.sign_in("ada", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session")
        .fetch_one(&app.db)
        .await
        .expect("sessions are counted");
    assert_eq!(sessions, 1);

    let response = app.post_form("/auth/sign-out", &[]).await;
    assert_eq!(location(&response), "/");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session")
        .fetch_one(&app.db)
        .await
        .expect("sessions are counted");
    assert_eq!(sessions, 0, "the session row is deleted");

    let response = app.get("/teams").await;
    assert_eq!(location(&response), "/?next=%2Fteams");
    assert!(
        app.cognito().get_user().access_token(&elsewhere).send().await.is_err(),
        "Cognito no longer accepts ada's tokens"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_cookie_is_http_only_and_same_site_lax(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.sign_in("ada", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("atrium_session="))
        .expect("a session cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-HTTP development turns Secure off: {cookie}");
}

#[sqlx::test(migrations = "../migrations")]
async fn team_membership_is_mirrored_into_postgres_at_each_sign_in(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("ada", PASSWORD).await;
    let teams_of_ada = || async {
        sqlx::query_scalar::<_, String>("SELECT team_slug FROM team_memberships WHERE username = 'ada' ORDER BY 1")
            .fetch_all(&app.db)
            .await
            .expect("memberships load")
    };
    assert_eq!(teams_of_ada().await, vec!["climate", "genomics"]);

    app.cognito()
        .admin_remove_user_from_group()
        .user_pool_id(&app.identity.user_pool_id)
        .username("ada")
        .group_name("team-climate")
        .send()
        .await
        .expect("ada leaves climate");
    app.sign_in("ada", PASSWORD).await;
    assert_eq!(teams_of_ada().await, vec!["genomics"]);
    let (status, _) = app.get_text("/teams/climate").await;
    assert_eq!(status, 403, "a former member is refused");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_form_posted_from_another_site_is_refused(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app
        .http
        .post(format!("{}/auth/sign-in", app.address))
        .header("origin", "https://evil.example")
        .form(&[("username", "ada"), ("password", PASSWORD)])
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status().as_u16(), 403);
    assert!(session_cookie(&response).is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn repeated_failures_lock_that_username_for_a_while_but_not_others(db: PgPool) {
    let app = spawn_app(db).await;
    for _ in 0..5 {
        assert_eq!(location(&app.sign_in("ada", "guess-Wrong-2026").await), "/?error=signin");
    }
    let response = app.sign_in("ada", PASSWORD).await;
    assert_eq!(location(&response), "/?error=throttled", "even the right password waits now");
    assert!(session_cookie(&response).is_none());
    let (_, page) = app.get_text("/?error=throttled").await;
    assert!(page.contains("Too many failed sign-ins"));

    // Unknown users are limited the same way: no hint about who exists.
    for _ in 0..5 {
        app.sign_in("nobody", "guess-Wrong-2026").await;
    }
    assert_eq!(location(&app.sign_in("nobody", PASSWORD).await), "/?error=throttled");

    let response = app.sign_in("alan", PASSWORD).await;
    assert_eq!(location(&response), "/teams/physics", "another user from the same address still signs in");
}
