use anyhow::Context;
use atrium::{config::Settings, startup};
use clap::{Args, Parser, Subcommand};
use secrecy::ExposeSecret;

// Page rendering allocates many small short-lived objects on every worker thread; glibc's
// allocator spent a fifth of the server's time under load on that (perf), mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "atrium", about = "Atrium research workbench portal")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal (the default).
    Serve(Box<Settings>),
    /// Run only the worker (jobs from the database), e.g. as a separate deployment.
    Worker(SeedArgs),
    /// Create the demo user pool, users, groups, team metadata and team rows, and print the
    /// pool and client ids as `KEY=value` lines.
    SeedDemo(SeedArgs),
    /// Print the demo users as the local OpenID provider's directory (JSON: username,
    /// password, e-mail, groups), for dev/run and dev/test.
    DemoSsoUsers,
    /// Once the demo workspaces run, give alan's workstation a CPU at 99 % in the local
    /// CloudWatch and check health, so that dev/run shows an alarm.
    DemoMetrics(SeedArgs),
    /// Create a personal access token for a user (as they could on /settings/tokens) and print
    /// it: for automation set up by an operator, and for dev/test's API fuzzing. Audited.
    IssueToken(IssueTokenArgs),
}

#[derive(Args)]
struct IssueTokenArgs {
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: secrecy::SecretString,
    #[arg(long)]
    username: String,
    /// What the token is for.
    #[arg(long, default_value = "issued by an operator")]
    name: String,
    /// Comma-separated: read, workspaces, admin (admin for admins only).
    #[arg(long, default_value = "read")]
    scopes: String,
    #[arg(long, default_value_t = 1)]
    days: u32,
}

#[derive(Args)]
struct SeedArgs {
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: secrecy::SecretString,
    /// Where the demo products' CloudFormation templates are served; without it the Service
    /// Catalog products are not seeded.
    #[arg(long)]
    catalog_templates_url: Option<String>,
    /// The sender of Atrium's e-mail; the seed has SES verify it, the worker sends from it.
    #[arg(long, env = "ATRIUM_MAIL_FROM")]
    mail_from: Option<String>,
    /// The worker: days a leaver's running workspaces keep running before they are stopped.
    #[arg(
        long,
        env = "ATRIUM_LEAVER_GRACE_DAYS",
        default_value_t = atrium::config::DEFAULT_LEAVER_GRACE_DAYS,
        value_parser = clap::value_parser!(i64).range(atrium::config::LEAVER_GRACE_DAYS)
    )]
    leaver_grace_days: i64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    atrium::telemetry::init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::SeedDemo(args)) => {
            let db = startup::database_pool(args.database_url.expose_secret())?;
            startup::migrate(&db).await?;
            let sdk = atrium::aws::load_sdk_config().await;
            let identity = atrium::demo::seed(&sdk, &db).await.context("Failed to seed the demo data")?;
            if let Some(from) = &args.mail_from {
                atrium::demo::verify_sender(&sdk, from).await.context("Failed to verify the e-mail sender")?;
            }
            if let Some(url) = args.catalog_templates_url {
                atrium::demo::seed_catalog(&sdk, &url).await.context("Failed to seed the demo catalog")?;
                atrium::demo::seed_configurations(&sdk, &db).await.context("Failed to seed the demo configurations")?;
                let workspaces = atrium::demo::seed_workspaces(&sdk, &db).await.context("Failed to launch the demo workspaces")?;
                // Only an emulator takes configured costs; real Cost Explorer has real ones.
                if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
                    let today = atrium::services::costs::today();
                    atrium::demo::seed_costs(&endpoint, &workspaces, today).await.context("Failed to seed the demo costs")?;
                }
            }
            println!("ATRIUM_COGNITO_USER_POOL_ID={}", identity.user_pool_id);
            println!("ATRIUM_COGNITO_CLIENT_ID={}", identity.client_id);
            Ok(())
        }
        Some(Command::DemoMetrics(args)) => {
            let db = startup::database_pool(args.database_url.expose_secret())?;
            let sdk = atrium::aws::load_sdk_config().await;
            atrium::demo::seed_metrics(&sdk, &db).await.context("Failed to seed the demo metrics")
        }
        Some(Command::IssueToken(args)) => {
            let db = startup::database_pool(args.database_url.expose_secret())?;
            let secret = atrium::services::tokens::issue(&db, &args.username, &args.name, &args.scopes, args.days).await?;
            println!("{secret}");
            Ok(())
        }
        Some(Command::DemoSsoUsers) => {
            println!("{}", atrium::demo::sso_directory());
            Ok(())
        }
        Some(Command::Worker(args)) => {
            let db = startup::database_pool(args.database_url.expose_secret())?;
            startup::migrate(&db).await?;
            let sdk = atrium::aws::load_sdk_config().await;
            tracing::info!("The worker is running");
            let worker =
                startup::worker(db.clone(), &sdk)?.with_mail_from(&sdk, args.mail_from).with_leaver_grace_days(args.leaver_grace_days);
            tokio::select! {
                () = worker.run() => {}
                () = startup::shutdown_signal() => {
                    // A claimed job is a row locked by an open transaction: closing the
                    // connections rolls them back, and another worker claims the jobs at once.
                    tracing::info!("The worker stops; its claimed jobs are released");
                }
            }
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), db.close()).await;
            Ok(())
        }
        Some(Command::Serve(settings)) => startup::Application::build(*settings).await?.run().await,
        None => {
            let settings = Settings::from_env_or_exit();
            startup::Application::build(settings).await?.run().await
        }
    }
}
