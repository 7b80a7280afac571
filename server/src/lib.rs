//! Atrium's server: configuration, start-up, the axum router, sign-in, Postgres repositories,
//! AWS adapters and the implementations of the app's service traits.
//! See `ARCHITECTURE.md` at the repository root for how the pieces fit.

pub mod api;
pub mod auth;
pub mod aws;
pub mod catalog_file;
pub mod changes;
pub mod config;
pub mod demo;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod notifications;
pub mod repo;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;
