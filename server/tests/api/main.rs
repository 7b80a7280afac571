//! Integration tests: the whole application on a free port, a fresh database per test
//! (`#[sqlx::test]`), Cognito and SSM in moto. Run through `dev/test`, which starts moto and
//! sets `AWS_ENDPOINT_URL`.

// A test that cannot set up its world should stop there, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Rows read as tuples in assertions.
#![allow(clippy::type_complexity)]

mod admin;
mod airlock;
mod api_admin;
mod api_studies;
mod api_workspaces;
mod audit;
mod auth;
mod catalog;
mod catalog_code;
mod cli;
mod costs;
mod health;
mod helpers;
mod homes;
mod hostile;
mod idle;
mod jobs;
mod launch_role;
mod least_privilege;
mod live;
mod metrics;
mod notifications;
mod object_store;
mod parity;
mod repositories;
mod rest_api;
mod scratch;
mod sso;
mod studies;
mod team_accounts;
mod teams;
mod templates;
mod tokens;
mod workspace_life;
mod workspaces;
