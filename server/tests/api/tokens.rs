//! ID-token verification against moto's JWKS: the real keys, real tokens.

use crate::helpers::PASSWORD;
use atrium::auth::jwks::{TokenError, TokenVerifier};
use aws_sdk_cognitoidentityprovider::{Client as Cognito, types::AuthFlowType};
use sqlx::PgPool;

struct Pool {
    cognito: Cognito,
    identity: atrium::demo::DemoIdentity,
    endpoint: String,
    region: String,
}

async fn seeded_pool(db: &PgPool) -> Pool {
    let (sdk, identity) = crate::helpers::seeded(db).await;
    Pool {
        cognito: Cognito::new(&sdk),
        identity,
        endpoint: std::env::var("AWS_ENDPOINT_URL").unwrap_or_default(),
        region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
    }
}

impl Pool {
    fn verifier_with_clock(&self, clock: atrium::auth::jwks::Clock) -> TokenVerifier {
        TokenVerifier::with_clock(
            format!("{}/{}/.well-known/jwks.json", self.endpoint, self.identity.user_pool_id),
            format!("https://cognito-idp.{}.amazonaws.com/{}", self.region, self.identity.user_pool_id),
            self.identity.client_id.clone(),
            clock,
        )
    }

    fn verifier(&self) -> TokenVerifier {
        self.verifier_with_clock(now)
    }

    /// (id token, access token) for `username` signed in through `client_id`.
    async fn tokens(&self, client_id: &str, username: &str) -> (String, String) {
        let result = self
            .cognito
            .initiate_auth()
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .client_id(client_id)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .expect("sign-in works")
            .authentication_result
            .expect("tokens");
        (result.id_token.expect("id token"), result.access_token.expect("access token"))
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn two_hours_from_now() -> u64 {
    now() + 2 * 3600
}

#[sqlx::test(migrations = "../migrations")]
async fn a_genuine_id_token_is_accepted_with_its_groups(db: PgPool) {
    let pool = seeded_pool(&db).await;
    let (id_token, _) = pool.tokens(&pool.identity.client_id, "ada").await;
    let claims = pool.verifier().verify_id_token(&id_token).await.expect("accepted");
    assert_eq!(claims.username, "ada");
    let mut groups = claims.groups.clone();
    groups.sort();
    assert_eq!(groups, vec!["role-researcher", "team-climate", "team-genomics"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_with_a_bad_signature_is_rejected(db: PgPool) {
    let pool = seeded_pool(&db).await;
    let (id_token, _) = pool.tokens(&pool.identity.client_id, "ada").await;
    let (signed, signature) = id_token.rsplit_once('.').expect("three parts");
    // Flip one character of the signature.
    let mut forged: Vec<char> = signature.chars().collect();
    forged[10] = if forged[10] == 'A' { 'B' } else { 'A' };
    let forged = format!("{signed}.{}", forged.into_iter().collect::<String>());
    assert!(matches!(pool.verifier().verify_id_token(&forged).await, Err(TokenError::Invalid(_))));

    // Claims changed after signing: the signature no longer matches.
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = id_token.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&engine.decode(parts[1]).expect("b64")).expect("json");
    claims["cognito:groups"] = serde_json::json!(["role-admin"]);
    let tampered = format!("{}.{}.{}", parts[0], engine.encode(claims.to_string()), parts[2]);
    assert!(matches!(pool.verifier().verify_id_token(&tampered).await, Err(TokenError::Invalid(_))));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_token_is_rejected(db: PgPool) {
    let pool = seeded_pool(&db).await;
    let (id_token, _) = pool.tokens(&pool.identity.client_id, "ada").await;
    let later = pool.verifier_with_clock(two_hours_from_now);
    assert!(matches!(later.verify_id_token(&id_token).await, Err(TokenError::Expired)));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_for_another_client_is_rejected(db: PgPool) {
    let pool = seeded_pool(&db).await;
    let other_client =
        atrium::demo::create_client(&pool.cognito, &pool.identity.user_pool_id, "someone-else").await.expect("client created");
    let (id_token, _) = pool.tokens(&other_client, "ada").await;
    assert!(matches!(pool.verifier().verify_id_token(&id_token).await, Err(TokenError::Invalid(_))));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_access_token_is_not_accepted_as_an_id_token(db: PgPool) {
    let pool = seeded_pool(&db).await;
    let (_, access_token) = pool.tokens(&pool.identity.client_id, "ada").await;
    assert!(pool.verifier().verify_id_token(&access_token).await.is_err());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_from_another_pool_is_rejected_by_issuer(db: PgPool) {
    let pool = seeded_pool(&db).await;
    let other = seeded_pool(&db).await;
    let (id_token, _) = other.tokens(&other.identity.client_id, "ada").await;
    // Same signing key in moto, other issuer and audience: both are checked.
    assert!(matches!(pool.verifier().verify_id_token(&id_token).await, Err(TokenError::Invalid(_))));
}
