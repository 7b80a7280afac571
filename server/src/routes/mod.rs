//! The axum side: sign-in form handlers, health, and the middleware every request passes.

pub mod audit_csv;
pub mod auth;
pub mod connect;
pub mod costs_csv;
pub mod error_page;
pub mod events;
pub mod health;
pub mod middleware;
