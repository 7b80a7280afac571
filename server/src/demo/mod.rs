//! The demo data, created through the real AWS APIs (moto locally) and in Postgres:
//! a user pool with its app client, role and team groups, users, and team metadata in SSM.
//! Safe to run again: whatever exists is found and brought up to date.

use crate::repo::teams::{self, Team};
use anyhow::Context;
use app::domain::TeamSlug;
use aws_sdk_cognitoidentityprovider::{
    Client as Cognito,
    types::{AttributeType, ExplicitAuthFlowsType, MessageActionType, PasswordPolicyType, UserPoolPolicyType},
};
use aws_sdk_ssm::{Client as Ssm, types::ParameterType};
use serde_json::json;
use sqlx::PgPool;

mod studies;
pub use studies::*;
mod catalog;
pub use catalog::*;
mod activity;
pub use activity::*;

pub const DEMO_PASSWORD: &str = "AtriumDemo-2026";
pub const TEMPORARY_PASSWORD: &str = "TempPass-2026";
pub const POOL_NAME: &str = "atrium-demo";
pub const CLIENT_NAME: &str = "atrium-portal";

pub struct DemoTeam {
    pub slug: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub account_id: &'static str,
    /// Approvals its imports and exports need.
    pub reviewers: i16,
}

pub const TEAMS: [DemoTeam; 3] = [
    DemoTeam {
        slug: "genomics",
        name: "Genomics Lab",
        description: "Sequencing pipelines, variant calling and population genetics.",
        account_id: "111111111111",
        reviewers: 2,
    },
    DemoTeam {
        slug: "climate",
        name: "Climate Modelling",
        description: "Regional climate simulations and reanalysis data.",
        account_id: "222222222222",
        reviewers: 1,
    },
    DemoTeam {
        slug: "physics",
        name: "Particle Physics",
        description: "Detector simulation and event reconstruction.",
        account_id: "333333333333",
        reviewers: 1,
    },
];

/// (username, groups, temporary password?)
pub const USERS: [(&str, &[&str], bool); 7] = [
    ("ada", &["role-researcher", "team-genomics", "team-climate"], false),
    ("alan", &["role-researcher", "team-physics"], false),
    ("grace", &["role-admin"], false),
    ("gus", &["role-guest", "team-genomics"], false),
    ("carol", &["role-cost-viewer"], false),
    ("newbie", &["role-researcher", "team-climate"], true),
    // Genomics Lab's team admin: manages its members, nothing else.
    ("rosalind", &["role-researcher", "team-genomics", "teamadmin-genomics"], false),
];

pub const ROLE_GROUPS: [&str; 5] = ["role-admin", "role-researcher", "role-guest", "role-internal-guest", "role-cost-viewer"];

/// The demo users as the local OpenID provider's directory: the same names, the demo
/// password (no temporary one: choosing a password is the provider's business) and groups.
pub fn sso_directory() -> serde_json::Value {
    let users: Vec<serde_json::Value> = USERS
        .iter()
        .map(|(username, groups, _)| {
            serde_json::json!({
                "username": username,
                "password": DEMO_PASSWORD,
                "email": format!("{username}@demo-university.example"),
                "groups": groups,
            })
        })
        .collect();
    serde_json::Value::Array(users)
}

pub struct DemoIdentity {
    pub user_pool_id: String,
    pub client_id: String,
}

pub async fn seed(sdk: &aws_config::SdkConfig, db: &PgPool) -> anyhow::Result<DemoIdentity> {
    seed_into_pool(sdk, db, POOL_NAME).await
}

/// Seeds into the user pool named `pool_name` (tests give each run a pool of its own).
pub async fn seed_into_pool(sdk: &aws_config::SdkConfig, db: &PgPool, pool_name: &str) -> anyhow::Result<DemoIdentity> {
    let identity = seed_cognito(&Cognito::new(sdk), pool_name).await?;
    for team in &TEAMS {
        teams::upsert(db, &team_row(team)?).await.context("Failed to write a demo team")?;
    }
    seed_ssm(sdk, db).await?;
    seed_studies(sdk, db).await?;
    Ok(identity)
}

pub fn team_row(team: &DemoTeam) -> anyhow::Result<Team> {
    Ok(Team {
        slug: TeamSlug::parse(team.slug)?,
        name: team.name.into(),
        description: team.description.into(),
        aws_account_id: team.account_id.into(),
        role_arn: format!("arn:aws:iam::{}:role/AtriumPortalAccess", team.account_id),
        external_id: String::new(), // the database makes one
        ssm_path: format!("/atrium/teams/{}", team.slug),
        time_zone: "UTC".into(),
        reviewers: team.reviewers,
        archived: false,
    })
}

async fn seed_cognito(cognito: &Cognito, pool_name: &str) -> anyhow::Result<DemoIdentity> {
    let mut pools = cognito.list_user_pools().max_results(60).into_paginator().items().send();
    let mut existing = None;
    while let Some(pool) = pools.next().await {
        let pool = pool.context("Failed to list user pools")?;
        if pool.name() == Some(pool_name) {
            existing = pool.id;
            break;
        }
    }
    let user_pool_id = match existing {
        Some(id) => id,
        None => cognito
            .create_user_pool()
            .pool_name(pool_name)
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(12)
                            .require_uppercase(true)
                            .require_lowercase(true)
                            .require_numbers(true)
                            .require_symbols(true)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .context("Failed to create the user pool")?
            .user_pool
            .and_then(|p| p.id)
            .context("CreateUserPool returned no id")?,
    };

    let clients =
        cognito.list_user_pool_clients().user_pool_id(&user_pool_id).max_results(60).send().await.context("Failed to list app clients")?;
    let existing =
        clients.user_pool_clients().iter().find(|c| c.client_name() == Some(CLIENT_NAME)).and_then(|c| c.client_id().map(str::to_owned));
    let client_id = match existing {
        Some(id) => id,
        None => create_client(cognito, &user_pool_id, CLIENT_NAME).await?,
    };

    let mut groups: Vec<String> = ROLE_GROUPS.iter().map(|g| g.to_string()).collect();
    groups.extend(TEAMS.iter().map(|t| format!("team-{}", t.slug)));
    groups.extend(TEAMS.iter().map(|t| format!("teamadmin-{}", t.slug)));
    for group in &groups {
        let created = cognito.create_group().user_pool_id(&user_pool_id).group_name(group).send().await;
        if let Err(error) = created
            && !error.as_service_error().is_some_and(|e| e.is_group_exists_exception())
        {
            return Err(anyhow::Error::new(error).context(format!("Failed to create group {group}")));
        }
    }

    for (username, user_groups, temporary) in USERS {
        let created = cognito
            .admin_create_user()
            .user_pool_id(&user_pool_id)
            .username(username)
            .user_attributes(AttributeType::builder().name("email").value(format!("{username}@example.edu")).build()?)
            .temporary_password(TEMPORARY_PASSWORD)
            .message_action(MessageActionType::Suppress)
            .send()
            .await;
        if let Err(error) = created
            && !error.as_service_error().is_some_and(|e| e.is_username_exists_exception())
        {
            return Err(anyhow::Error::new(error).context(format!("Failed to create user {username}")));
        }
        let (password, permanent) = if temporary { (TEMPORARY_PASSWORD, false) } else { (DEMO_PASSWORD, true) };
        cognito
            .admin_set_user_password()
            .user_pool_id(&user_pool_id)
            .username(username)
            .password(password)
            .permanent(permanent)
            .send()
            .await
            .with_context(|| format!("Failed to set the password of {username}"))?;
        for group in user_groups {
            cognito
                .admin_add_user_to_group()
                .user_pool_id(&user_pool_id)
                .username(username)
                .group_name(*group)
                .send()
                .await
                .with_context(|| format!("Failed to add {username} to {group}"))?;
        }
    }
    Ok(DemoIdentity { user_pool_id, client_id })
}

/// An app client without a secret that allows USER_PASSWORD_AUTH.
pub async fn create_client(cognito: &Cognito, user_pool_id: &str, name: &str) -> anyhow::Result<String> {
    cognito
        .create_user_pool_client()
        .user_pool_id(user_pool_id)
        .client_name(name)
        .generate_secret(false)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        // The ID token carries the address Atrium's e-mail goes to.
        .read_attributes("email")
        .read_attributes("email_verified")
        .send()
        .await
        .context("Failed to create the app client")?
        .user_pool_client
        .and_then(|c| c.client_id)
        .context("CreateUserPoolClient returned no client id")
}

/// The team's file system and its drive's access point, as its stack makes them (with
/// `CreateFileSystem`): (file system id, access point id), made once.
async fn seed_file_system(account: &aws_config::SdkConfig, slug: &str) -> anyhow::Result<(String, String)> {
    let efs = aws_sdk_efs::Client::new(account);
    let token = format!("atrium-{slug}");
    let existing = efs.describe_file_systems().creation_token(&token).send().await.context("Failed to list file systems")?;
    let file_system = match existing.file_systems().first() {
        Some(found) => found.file_system_id().to_owned(),
        None => {
            efs.create_file_system()
                .creation_token(&token)
                .encrypted(true)
                .send()
                .await
                .context("Failed to make a file system")?
                .file_system_id
        }
    };
    let drives = efs.describe_access_points().file_system_id(&file_system).send().await.context("Failed to list access points")?;
    let root = format!("/atrium/{slug}");
    let drive = match drives.access_points().iter().find(|ap| ap.root_directory().and_then(|r| r.path()) == Some(root.as_str())) {
        Some(found) => found.access_point_id().unwrap_or_default().to_owned(),
        None => {
            let owner = aws_sdk_efs::types::CreationInfo::builder().owner_uid(1000).owner_gid(1000).permissions("0770").build()?;
            let root = aws_sdk_efs::types::RootDirectory::builder().path(root).creation_info(owner).build();
            let made = efs
                .create_access_point()
                .client_token(format!("atrium-drive-{slug}"))
                .file_system_id(&file_system)
                .posix_user(aws_sdk_efs::types::PosixUser::builder().uid(1000).gid(1000).build()?)
                .root_directory(root)
                .send()
                .await
                .context("Failed to make the team drive's access point")?;
            made.access_point_id.context("EFS returned no access point id")?
        }
    };
    Ok((file_system, drive))
}

/// Each team's parameters in its account, as its stack (deploy/team-account.yaml) and its admins
/// would write them, through the team's role.
async fn seed_ssm(sdk: &aws_config::SdkConfig, db: &PgPool) -> anyhow::Result<()> {
    let sessions = crate::aws::team_role::TeamSessions::new(sdk.clone());
    for team in &TEAMS {
        let row = teams::find(db, &TeamSlug::parse(team.slug)?).await?.context("a demo team's row")?;
        let account = sessions.config(&row.role(), "atrium-demo-seed").await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let ssm = Ssm::new(&account);
        let path = format!("/atrium/teams/{}", team.slug);
        let links = json!([
            { "title": format!("{} wiki", team.name), "url": format!("https://wiki.example.org/{}", team.slug) },
            { "title": "Data management plan", "url": format!("https://dmp.example.org/{}", team.slug) },
        ]);
        let (file_system, drive) = seed_file_system(&account, team.slug).await?;
        let parameters = [
            ("links", links.to_string()),
            ("s3-scratch-prefix", format!("s3://atrium-scratch-{}/{}/", team.account_id, team.slug)),
            ("efs-file-system", file_system),
            ("efs-access-point", drive),
        ];
        let profiles = profiles_of(team.slug).into_iter().map(|(profile, document)| (format!("profiles/{profile}"), document.to_string()));
        for (name, value) in parameters.into_iter().map(|(name, value)| (name.to_owned(), value)).chain(profiles) {
            ssm.put_parameter()
                .name(format!("{path}/{name}"))
                .value(value)
                .r#type(ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .with_context(|| format!("Failed to write {path}/{name}"))?;
        }
        // A file in the team's scratch space, for the page to list.
        let (bucket, key) = (format!("atrium-scratch-{}", team.account_id), format!("{}/README.txt", team.slug));
        let s3 = crate::aws::s3::S3Store::new(account);
        s3.create_bucket_if_missing(&bucket).await?;
        let readme = format!("The scratch space of {}: working files the team shares, outside every study.\n", team.name);
        s3.client()
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .body(readme.into_bytes().into())
            .send()
            .await
            .with_context(|| format!("Failed to store s3://{bucket}/{key}"))?;
    }
    Ok(())
}
