//! Builds the application: database, AWS clients, services, router. `Application::build`
//! returns something tests start on port 0.

use crate::auth::jwks::TokenVerifier;
use crate::auth::service::AuthService;
use crate::auth::session_store::IndexedSessionStore;
use crate::auth::sso::SsoProvider;
use crate::aws::account_check::SdkAccountCheck;
use crate::aws::cognito::CognitoIdentityProvider;
use crate::aws::directory::CognitoDirectory;
use crate::aws::service_catalog::SdkServiceCatalog;
use crate::aws::ssm::SsmParameterStore;
use crate::aws::team_role::TeamSessions;
use crate::config::Settings;
use crate::routes::{self, middleware};
use crate::services::catalog::CatalogAdmin;
use crate::services::people::People;
use crate::services::team_admin::TeamAdmin;
use crate::services::teams::Teams;
use crate::services::workspaces::Workspaces;
use crate::state::{AppState, SharedState};
use crate::telemetry;
use anyhow::Context;
use app::features::Services;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tower_sessions_sqlx_store::PostgresStore;

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// The metrics server's listener and routes, apart from the public port.
    metrics: Option<(TcpListener, Router)>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// How long requests in flight may take to finish once the process is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// A pool that does not fail start-up or requests forever when Postgres is briefly away:
/// requests wait at most a few seconds for a connection, then answer 503.
pub fn database_pool(url: &str) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(10)
        // No ping before each use (a round trip per query); a connection that died is found
        // by the query that uses it, and replaced.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(url)
        .context("Failed to parse DATABASE_URL")
}

pub async fn migrate(db: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("../migrations").run(db).await.context("Failed to run the database migrations")?;
    PostgresStore::new(db.clone()).migrate().await.context("Failed to create the session table")?;
    Ok(())
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = database_pool(settings.database_url.expose_secret())?;
        migrate(&db).await?;
        let sdk = crate::aws::load_sdk_config().await;
        Self::build_with(settings, db, &sdk).await
    }

    /// Builds against a given database and AWS configuration (tests pass their own).
    pub async fn build_with(settings: Settings, db: PgPool, sdk: &aws_config::SdkConfig) -> anyhow::Result<Application> {
        // The one check of the settings: from here on their values are used as they are.
        settings.validate()?;
        let region = sdk.region().map(|r| r.to_string()).context("No AWS region is configured (set AWS_REGION)")?;
        let cognito = &settings.cognito;
        let verifier = Arc::new(TokenVerifier::new(cognito.jwks_url(&region), cognito.issuer(&region), cognito.client_id.clone()));
        let identity = Arc::new(CognitoIdentityProvider::new(sdk, cognito.user_pool_id.clone(), cognito.client_id.clone()));
        let changes = crate::changes::Changes::new();
        let auth = Arc::new(AuthService::new(identity, verifier.clone(), db.clone(), changes.access.clone()));
        let sso = SsoProvider::from_settings(&settings.oidc)?.map(Arc::new);
        let tokens = Arc::new(crate::services::tokens::ApiTokens::new(
            db.clone(),
            changes.access.clone(),
            crate::services::tokens::RateLimit { burst: settings.api.burst, per_second: settings.api.rate },
        ));
        let presigned = crate::aws::sagemaker::PresignedUrlSettings {
            url_seconds: settings.workspaces.presigned_url_seconds,
            studio_session_seconds: settings.workspaces.studio_session_seconds,
        };
        // One set of role sessions in team accounts for every adapter of this process.
        let team_sessions = TeamSessions::new(sdk.clone());
        let ssm: Arc<dyn crate::aws::ssm::ParameterStore> = Arc::new(SsmParameterStore::new(team_sessions.clone()));
        let ssm = match settings.workspaces.ssm_cache_seconds {
            0 => ssm,
            seconds => crate::aws::ssm_cache::CachedParameterStore::new(ssm, Duration::from_secs(seconds)),
        };
        let homes = Arc::new(crate::services::homes::Homes::new(
            db.clone(),
            Arc::new(crate::aws::efs::EfsHomes::new(team_sessions.clone())),
            ssm.clone(),
        ));
        let studies = Arc::new(crate::services::studies::Studies::new(
            db.clone(),
            Arc::new(crate::aws::s3::S3Objects::new(team_sessions.clone())),
            ssm.clone(),
            changes.teams.clone(),
            crate::services::studies::StudySettings {
                portal_bucket: settings.studies.bucket.clone(),
                max_file_bytes: settings.studies.max_file_bytes,
                // Trimmed and in lower case already (config).
                blocked_content_types: settings.studies.blocked_types.clone(),
                download_url_seconds: settings.workspaces.presigned_url_seconds.into(),
                upload_url_seconds: settings.studies.upload_url_seconds,
                malware_scan: settings.studies.malware_scan == "guardduty",
                scan_wait: Duration::from_secs(settings.studies.scan_wait_minutes * 60),
            },
        ));
        let teams = Arc::new(Teams::new(db.clone(), ssm.clone(), changes.teams.clone()));
        let directory = Arc::new(CognitoDirectory::new(sdk, cognito.user_pool_id.clone()));
        let sso_name = sso.as_ref().map(|sso| sso.display_name().to_owned());
        let services = Arc::new(Services {
            team_admin: Arc::new(TeamAdmin::new(
                db.clone(),
                directory.clone(),
                Arc::new(SdkAccountCheck::new(team_sessions.clone())),
                ssm,
                crate::services::team_admin::StackSettings {
                    template_url: settings.team_accounts.template_url.clone(),
                    portal_account_id: settings.team_accounts.portal_account_id.clone(),
                    region: sdk.region().map_or_else(|| "us-east-1".to_owned(), ToString::to_string),
                },
                &changes,
                homes.clone(),
            )),
            people: Arc::new(People::new(db.clone(), directory, sso_name.clone(), changes.access.clone())),
            settings: Arc::new(crate::services::settings::UserPreferences::new(db.clone())),
            tokens: tokens.clone(),
            studies: studies.clone(),
            scratch: studies.clone(),
            airlock: studies,
            admin_workspaces: Arc::new(crate::services::admin_workspaces::AdminWorkspaces::new(
                db.clone(),
                reconciler(db.clone(), team_sessions.clone()),
            )),
            teams: teams.clone(),
            password_policy: auth.clone(),
            catalog_admin: Arc::new(CatalogAdmin::new(db.clone(), Arc::new(SdkServiceCatalog::new(sdk)))),
            workspaces: Arc::new(Workspaces::new(
                db.clone(),
                teams,
                settings.workspaces.quota,
                Arc::new(crate::aws::sagemaker::SageMakerPresigner::new(team_sessions.clone(), presigned)),
                Arc::new(crate::aws::sessions::SsmSessionStarter::new(team_sessions.clone())),
                homes.clone(),
            )),
            audit: Arc::new(crate::services::audit::AuditLog::new(db.clone())),
            costs: Arc::new(crate::services::costs::Costs::new(db.clone(), &changes)),
            notifications: Arc::new(crate::services::notifications::NotificationAdmin::new(
                db.clone(),
                webhooks(sdk)?,
                settings.notifications.allow_local_webhooks,
            )),
            sign_in_methods: app::domain::SignInMethods { sso: sso_name, password: settings.password_sign_in },
            content_security_policy: content_security_policy(&settings, sso.as_deref())?,
        });
        if settings.run_worker {
            let worker = worker(db.clone(), team_sessions.clone())?
                .with_mail_from(sdk, settings.notifications.mail_from.clone())
                .with_leaver_grace_days(settings.workspaces.leaver_grace_days);
            tokio::spawn(worker.run());
        }
        let listener =
            TcpListener::bind(settings.http.listen).await.with_context(|| format!("Failed to listen on {}", settings.http.listen))?;
        tokio::spawn(changes.clone().listen(db.clone()));
        let (shutdown, shutting_down) = tokio::sync::watch::channel(false);
        let state = AppState(Arc::new(SharedState {
            leptos_options: crate::http::leptos_options(&settings.http.listen.to_string()),
            db: db.clone(),
            auth,
            verifier,
            sso,
            password_sign_in: settings.password_sign_in,
            public_url: settings.http.public_url.clone(),
            secure_cookies: settings.http.secure_cookies,
            services,
            tokens,
            catalog_code: Arc::new(crate::services::catalog_code::CatalogCode::new(db.clone(), Arc::new(SdkServiceCatalog::new(sdk)))),
            changes,
            shutting_down,
        }));
        let router = router(state, &settings, db.clone());
        // Expired sessions hold access tokens: delete them, not just ignore them.
        let expired = IndexedSessionStore::new(db.clone());
        tokio::spawn(async move {
            use tower_sessions::ExpiredDeletion;
            if let Err(error) = expired.continuously_delete_expired(Duration::from_secs(600)).await {
                tracing::warn!(%error, "Stopped deleting expired sessions");
            }
        });
        let metrics = match settings.http.metrics_listen {
            Some(address) => {
                crate::metrics::handle();
                let listener = TcpListener::bind(address).await.with_context(|| format!("Failed to listen on {address} for metrics"))?;
                Some((listener, crate::metrics::router(db.clone())))
            }
            None => None,
        };
        Ok(Application { listener, router, metrics, shutdown })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// The metrics server's port, when `ATRIUM_METRICS_LISTEN` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().and_then(|(listener, _)| listener.local_addr().ok()).map(|a| a.port())
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully (see `run_until`).
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then stops accepting connections, ends the live streams
    /// (their browsers reconnect, through the load balancer to another replica) and lets the
    /// requests in flight finish, for at most `SHUTDOWN_GRACE`.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        use std::future::IntoFuture;
        if let Some((listener, router)) = self.metrics {
            tracing::info!("Metrics on http://{}/metrics", listener.local_addr()?);
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, router).await {
                    tracing::error!(%error, "The metrics server failed");
                }
            });
        }
        tracing::info!("Atrium listens on http://{}", self.listener.local_addr()?);
        let shutdown = self.shutdown;
        let mut shutting_down = shutdown.subscribe();
        let stopping = async move {
            stop.await;
            tracing::info!("Shutting down: no new connections; finishing the requests in flight");
            let _ = shutdown.send(true);
        };
        let server = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(stopping)
            .into_future();
        let deadline = async move {
            let _ = shutting_down.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            result = server => result.context("The HTTP server failed"),
            () = deadline => {
                tracing::warn!("Requests still in flight after {SHUTDOWN_GRACE:?}; stopping anyway");
                Ok(())
            }
        }
    }
}

/// The worker against the real AWS clients (provisioning and costs through the team's role).
pub fn worker(db: PgPool, sessions: impl Into<TeamSessions>) -> anyhow::Result<crate::worker::Worker> {
    let sessions = sessions.into();
    let provisioner = crate::aws::provisioning::ServiceCatalogProvisioner::new(sessions.clone());
    worker_with(db, sessions, Arc::new(provisioner))
}

/// The worker with a provisioner of the caller's (tests wrap the real one).
pub fn worker_with(
    db: PgPool,
    sessions: impl Into<TeamSessions>,
    provisioner: Arc<dyn crate::aws::provisioning::Provisioner>,
) -> anyhow::Result<crate::worker::Worker> {
    let sessions = sessions.into();
    let costs = crate::aws::cost_explorer::CostExplorer::new(sessions.clone());
    let metrics = crate::aws::cloudwatch::CloudWatchMetrics::new(sessions.clone());
    let reconciler = reconciler(db.clone(), sessions.clone());
    let webhooks = webhooks(sessions.base())?;
    let objects = Arc::new(crate::aws::s3::S3Objects::new(sessions.clone()));
    Ok(crate::worker::Worker::new(db, provisioner, Arc::new(costs), Arc::new(metrics), webhooks, reconciler).with_objects(objects))
}

/// Compares workspaces with AWS (the worker's schedule, and "Resync").
pub fn reconciler(db: PgPool, sessions: impl Into<TeamSessions>) -> crate::services::reconcile::Reconciler {
    crate::services::reconcile::Reconciler::new(db, Arc::new(crate::aws::observe::AwsObserver::new(sessions)))
}

/// Webhook delivery, with URLs read from SSM SecureStrings.
pub fn webhooks(sdk: &aws_config::SdkConfig) -> anyhow::Result<crate::notifications::Webhooks> {
    crate::notifications::Webhooks::new(Arc::new(SsmParameterStore::new(sdk))).context("Failed to build the webhook HTTP client")
}

async fn server_fn_handler(State(state): State<AppState>, request: Request) -> impl IntoResponse {
    let services = state.services.clone();
    handle_server_fns_with_context(move || provide_context(services.clone()), request).await
}

/// The Content-Security-Policy but for scripts (see `ContentSecurityPolicy`). form-action also
/// governs where a form's redirect may lead: "Connect" leaves the site, and so does sign-out
/// through the SSO provider (its issuer's origin; a sign-out page on another host, like
/// Cognito's, needs ATRIUM_CONNECT_ORIGINS to allow it, as its default https: does).
fn content_security_policy(settings: &Settings, sso: Option<&SsoProvider>) -> anyhow::Result<app::csp::ContentSecurityPolicy> {
    let sso_origin = sso
        .and_then(|sso| url::Url::parse(sso.issuer()).ok())
        .map(|url| url.origin().ascii_serialization())
        .filter(|origin| origin != "null")
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' {}; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self' {} {sso_origin}",
        settings.http.s3_origins, settings.http.connect_origins
    );
    // The origins were checked with the settings: this does not fail unless the SSO issuer's does.
    HeaderValue::from_str(&policy)
        .context("The Content-Security-Policy (ATRIUM_CONNECT_ORIGINS, ATRIUM_S3_ORIGINS) is not a valid header value")?;
    Ok(app::csp::ContentSecurityPolicy::new(policy))
}

fn router(state: AppState, settings: &Settings, db: PgPool) -> Router {
    let routes = generate_route_list(app::App);
    let sessions = SessionManagerLayer::new(IndexedSessionStore::cached(db.clone(), state.changes.sessions.clone()))
        .with_name("atrium_session")
        .with_secure(settings.http.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(settings.http.session_idle_seconds)));
    let services = state.services.clone();
    let fallback_services = state.services.clone();
    // Pages send their own policy, with their scripts' nonce (`app::shell`); this is the rest's.
    let csp = HeaderValue::from_str(&state.services.content_security_policy.without_inline_scripts())
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let options = state.leptos_options.clone();
    let pkg_path = format!("/{}", options.site_pkg_dir);
    let pkg_dir = ServeDir::new(std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref()));
    let client_networks = crate::http::client::ClientNetworks {
        trusted_proxies: settings.http.trusted_proxies.clone().into(),
        allowed: settings.http.allowed_cidrs.clone().into(),
    };
    let signed_in = middleware::SignedIn {
        db,
        changes: state.changes.clone(),
        // Written at most every few minutes, and well within the idle timeout.
        touch_every_seconds: (settings.http.session_idle_seconds / 4).clamp(1, 300),
    };

    let mut router = Router::new()
        .route("/auth/sign-in", post(routes::auth::sign_in))
        .route("/auth/new-password", post(routes::auth::new_password))
        .route("/auth/sign-out", post(routes::auth::sign_out))
        .route("/auth/sso", get(routes::sso::start))
        .route("/auth/callback", get(routes::sso::callback))
        .route("/healthz", get(routes::health::healthz))
        .route("/events/workspaces/{id}", get(routes::events::workspace_events))
        .route("/workspaces/{id}/connect", post(routes::connect::connect))
        .route("/teams/{team}/studies/{id}/download", get(routes::study_download::study_file))
        .route("/teams/{team}/scratch/download", get(routes::study_download::scratch_file))
        .route("/teams/{team}/requests/{id}/file", get(routes::study_download::request_file))
        .route("/admin/audit.csv", get(routes::audit_csv::audit_csv))
        .route("/admin/teams/{team}/team-account.yaml", get(routes::team_template::team_template))
        .route("/costs.csv", get(routes::costs_csv::costs_csv))
        .route("/api/docs", get(routes::api_docs::api_docs))
        .nest(crate::http::API_BASE, crate::api::router(state.clone()))
        .route("/api/{*fn_name}", get(server_fn_handler).post(server_fn_handler))
        .leptos_routes_with_context(&state, routes, move || provide_context(services.clone()), move || app::shell(options.clone()))
        // The built wasm, script and stylesheet, served apart from Leptos' file handler: that
        // one answers inside a reactive owner and could take the status of a 404 page being
        // rendered at the same moment on the same thread (a wasm chunk sent with status 404).
        .nest_service(&pkg_path, pkg_dir)
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            move || provide_context(fallback_services.clone()),
            app::shell,
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(signed_in, middleware::load_current_user))
        .layer(axum::middleware::from_fn(crate::metrics::track_requests))
        .layer(sessions)
        .layer(axum::middleware::from_fn(middleware::reject_cross_site_posts))
        .layer(axum::middleware::from_fn(crate::http::input::arguments_that_do_not_decode_are_a_400))
        .layer(axum::middleware::from_fn(crate::http::input::reject_control_characters))
        .layer(axum::middleware::from_fn(crate::http::input::redirect_trailing_slash))
        .layer(axum::middleware::from_fn_with_state(client_networks, crate::http::client::resolve_client));

    router = router.layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp));
    let headers: [(&str, &str); 4] = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
    ];
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value)));
    }
    if settings.http.secure_cookies {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    // gzip or brotli as the browser asks; tower-http's default predicate leaves small bodies,
    // images and server-sent events (the live workspace page) alone.
    // Every request carries an id (the load balancer's or the client's `x-request-id`, else a
    // new one) into its logs, its error page and its response.
    router
        .layer(axum::middleware::from_fn(crate::telemetry::with_request_id))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(PropagateRequestIdLayer::new(telemetry::REQUEST_ID))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(telemetry::request_span))
        .layer(SetRequestIdLayer::new(telemetry::REQUEST_ID, MakeRequestUuid))
}

/// SIGTERM (how ECS, Kubernetes and systemd stop a process) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "Failed to listen for Ctrl-C");
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => tracing::error!(%error, "Failed to listen for SIGTERM"),
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
