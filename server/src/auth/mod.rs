//! Sign-in: Cognito through the `IdentityProvider` trait, ID tokens verified against the
//! pool's JWKS; or single sign-on through an OpenID provider (`sso`). Either way the signed-in
//! user is kept in a Postgres-backed session.

pub mod jwks;
pub mod probe;
pub mod service;
pub mod session;
pub mod session_store;
pub mod sso;
