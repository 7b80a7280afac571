//! Sign-in: Cognito through the `IdentityProvider` trait, ID tokens verified against the
//! pool's JWKS, the signed-in user kept in a Postgres-backed session.

pub mod jwks;
pub mod service;
pub mod session;
