//! Single sign-on through an OpenID provider (the Cognito hosted UI, or any other): the
//! authorization code flow with PKCE (S256), `state` and `nonce` kept in the pre-sign-in
//! session, provider metadata from discovery, the ID token verified by the `openidconnect`
//! crate (signature against the provider's JWKS, `iss`, `aud`, `azp`, `exp`, `nonce`).
//!
//! Metadata (with the JWKS) is cached; a token signed with a key the cached JWKS lacks makes
//! one fresh discovery, at most once per `MIN_REFRESH_INTERVAL`, before it is refused.

use super::probe::Probe;
use crate::config::OidcSettings;
use app::domain::Username;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdToken, IdTokenFields, IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
};
use openidconnect::{ClaimsVerificationError, SignatureVerificationError};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

/// How long discovered metadata is reused before it is read again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// How long a started sign-in may take at the provider.
pub const PENDING_TTL_SECONDS: i64 = 15 * 60;

/// Every claim of the ID token besides the standard ones: the groups and username claims are
/// configurable, so they are looked up by name.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type SsoIdToken = IdToken<OtherClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type SsoTokenResponse = StandardTokenResponse<
    IdTokenFields<OtherClaims, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>,
    CoreTokenType,
>;
type SsoClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    SsoTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A sign-in sent to the provider and not yet back: kept in the visitor's session, keyed by
/// its `state`, and taken out (once) by the callback.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingSso {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub redirect_url: String,
    pub next: Option<String>,
    /// Unix seconds.
    pub started_at: i64,
}

/// Who the provider says signed in.
#[derive(Debug)]
pub struct SsoIdentity {
    pub username: Username,
    pub groups: Vec<String>,
    /// Their address, when the provider has verified it (for Atrium's e-mail).
    pub email: Option<String>,
    /// Kept for the provider's sign-out (`id_token_hint`).
    pub id_token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("{0} is unavailable")]
    Unavailable(String, #[source] anyhow::Error),
    #[error("the provider refused the sign-in ({0})")]
    Denied(String),
    #[error("the sign-in was not started in this browser, has expired or was already completed")]
    UnknownState,
    #[error("the provider's answer has no authorization code")]
    MissingCode,
    #[error("the provider did not accept the authorization code ({0})")]
    CodeRejected(String),
    #[error("the ID token was refused: {0}")]
    InvalidToken(String),
}

pub struct SsoProvider {
    settings: OidcSettings,
    issuer: IssuerUrl,
    client_id: ClientId,
    http: reqwest::Client,
    metadata: RwLock<Option<(Instant, ProviderMetadataWithLogout)>>,
    last_forced_refresh: Mutex<Option<Instant>>,
    /// The health check: whether discovery works.
    health: Probe,
}

impl SsoProvider {
    /// `None` when SSO is not configured; an error when it is configured wrongly.
    pub fn from_settings(settings: &OidcSettings) -> anyhow::Result<Option<SsoProvider>> {
        use anyhow::Context;
        let Some(issuer) = &settings.issuer else { return Ok(None) };
        let Some(client_id) = settings.client_id.clone() else {
            anyhow::bail!("ATRIUM_OIDC_ISSUER is set but ATRIUM_OIDC_CLIENT_ID is not")
        };
        // Exactly as configured: discovery and the `iss` check compare it as a string.
        let issuer = IssuerUrl::new(issuer.clone()).context("ATRIUM_OIDC_ISSUER is not a URL")?;
        // No redirects: discovery and the token endpoint answer directly (openidconnect's advice
        // against server-side request forgery).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .build()
            .context("Failed to build the SSO HTTP client")?;
        Ok(Some(SsoProvider {
            settings: settings.clone(),
            issuer,
            client_id: ClientId::new(client_id),
            http,
            metadata: RwLock::new(None),
            last_forced_refresh: Mutex::new(None),
            health: Probe::every(MIN_REFRESH_INTERVAL),
        }))
    }

    pub fn display_name(&self) -> &str {
        &self.settings.display_name
    }

    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    fn unavailable(&self, error: impl Into<anyhow::Error>) -> SsoError {
        SsoError::Unavailable(self.settings.display_name.clone(), error.into())
    }

    /// The provider's metadata, from cache unless it is stale or `fresh` is asked for.
    async fn metadata(&self, fresh: bool) -> Result<ProviderMetadataWithLogout, SsoError> {
        if !fresh
            && let Some((read_at, metadata)) = self.metadata.read().await.as_ref()
            && read_at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let metadata = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| self.unavailable(anyhow::Error::new(e).context("OpenID discovery failed")))?;
        *self.metadata.write().await = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    /// Whether the provider's metadata and keys can be read: the health check. Reads them
    /// afresh at most every `MIN_REFRESH_INTERVAL`, so probes do not become traffic.
    pub async fn reachable(&self) -> bool {
        self.health.answer(async { self.metadata(true).await.is_ok() }).await
    }

    fn client(&self, metadata: ProviderMetadataWithLogout, redirect_url: &str) -> Result<SsoClient, SsoError> {
        let redirect = RedirectUrl::new(redirect_url.to_owned())
            .map_err(|e| SsoError::Unavailable("The portal's callback address".into(), e.into()))?;
        let secret = self.settings.client_secret.as_ref().map(|s| ClientSecret::new(s.expose_secret().to_owned()));
        Ok(SsoClient::from_provider_metadata(metadata, self.client_id.clone(), secret).set_redirect_uri(redirect))
    }

    /// Where to send the browser, and what to remember until it comes back.
    pub async fn begin(&self, redirect_url: &str, next: Option<String>, now: i64) -> Result<(String, PendingSso), SsoError> {
        let client = self.client(self.metadata(false).await?, redirect_url)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = PendingSso {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            redirect_url: redirect_url.to_owned(),
            next,
            started_at: now,
        };
        Ok((url.to_string(), pending))
    }

    /// Exchanges the code (with the PKCE verifier) and verifies the ID token it brings.
    pub async fn finish(&self, pending: &PendingSso, code: &str) -> Result<SsoIdentity, SsoError> {
        let client = self.client(self.metadata(false).await?, &pending.redirect_url)?;
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| self.unavailable(anyhow::Error::new(e).context("The provider has no token endpoint")))?;
        let response =
            request.set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone())).request_async(&self.http).await.map_err(
                |error| match error {
                    RequestTokenError::ServerResponse(response) => {
                        let mut reason = response.error().to_string();
                        if let Some(description) = response.error_description() {
                            reason.push_str(": ");
                            reason.push_str(description);
                        }
                        SsoError::CodeRejected(reason)
                    }
                    other => self.unavailable(anyhow::Error::new(other).context("The token request failed")),
                },
            )?;
        let id_token = response.id_token().ok_or_else(|| SsoError::InvalidToken("the provider sent no ID token".into()))?.clone();
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            // The provider may have rotated its keys since the metadata was cached.
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey))
                if self.may_refresh_keys().await =>
            {
                let refreshed = self.client(self.metadata(true).await?, &pending.redirect_url)?;
                id_token.claims(&refreshed.id_token_verifier(), &nonce).cloned()
            }
            other => other.cloned(),
        }
        .map_err(|e| SsoError::InvalidToken(plain_reason(&e)))?;

        let extra = &claims.additional_claims().claims;
        // An e-mail names a person only once the provider has verified it.
        let verified_email = claims.email().filter(|_| claims.email_verified() == Some(true)).map(|e| e.as_str());
        let username = self
            .username_from(extra, claims.preferred_username().map(|u| u.as_str()), verified_email)
            .unwrap_or_else(|| claims.subject().as_str().to_owned());
        let username = Username::parse(&username)
            .map_err(|_| SsoError::InvalidToken(format!("the username claim holds an unusable name ({username:?})")))?;
        let groups = groups_from(extra.get(&self.settings.groups_claim));
        let email = verified_email.map(str::to_owned);
        Ok(SsoIdentity { username, groups, email, id_token: id_token.to_string() })
    }

    /// The configured username claim, else `preferred_username`.
    fn username_from(&self, extra: &HashMap<String, serde_json::Value>, preferred: Option<&str>, email: Option<&str>) -> Option<String> {
        let configured = match self.settings.username_claim.as_str() {
            "preferred_username" => preferred.map(str::to_owned),
            "email" => email.map(str::to_owned),
            name => extra.get(name).and_then(|v| v.as_str()).map(str::to_owned),
        };
        configured.or_else(|| preferred.map(str::to_owned)).filter(|name| !name.trim().is_empty())
    }

    async fn may_refresh_keys(&self) -> bool {
        let mut last = self.last_forced_refresh.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// The provider's sign-out page for this user, coming back to `post_logout_url`: the
    /// metadata's `end_session_endpoint`, or the Cognito hosted UI's `/logout`. `None` when the
    /// provider offers neither (or cannot be reached: the local session has ended anyway).
    pub async fn logout_url(&self, id_token: &str, post_logout_url: &str) -> Option<String> {
        let metadata = self.metadata(false).await.ok()?;
        if let Some(endpoint) = metadata.additional_metadata().end_session_endpoint.clone() {
            let mut request = LogoutRequest::from(endpoint).set_client_id(self.client_id.clone());
            if let Ok(token) = id_token.parse::<SsoIdToken>() {
                request = request.set_id_token_hint(&token);
            }
            if let Ok(back) = PostLogoutRedirectUrl::new(post_logout_url.to_owned()) {
                request = request.set_post_logout_redirect_uri(back);
            }
            return Some(request.http_get_url().to_string());
        }
        cognito_logout_url(metadata.authorization_endpoint().url(), self.client_id.as_str(), post_logout_url)
    }
}

/// Cognito publishes no `end_session_endpoint`; its hosted UI signs out at `/logout` on the
/// domain that serves `/oauth2/authorize`.
fn cognito_logout_url(authorize: &url::Url, client_id: &str, post_logout_url: &str) -> Option<String> {
    let host = authorize.host_str()?;
    if !authorize.path().ends_with("/oauth2/authorize") || !host.ends_with(".amazoncognito.com") {
        return None;
    }
    let mut url = authorize.clone();
    url.set_path("/logout");
    url.query_pairs_mut().clear().append_pair("client_id", client_id).append_pair("logout_uri", post_logout_url);
    Some(url.to_string())
}

/// A groups claim as a list: a JSON array of strings, or one string of space- or
/// comma-separated names.
fn groups_from(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).map(str::to_owned).collect(),
        Some(serde_json::Value::String(names)) => names.split([' ', ',']).filter(|n| !n.is_empty()).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// What went wrong with an ID token, in words for the page and the audit log.
fn plain_reason(error: &ClaimsVerificationError) -> String {
    match error {
        ClaimsVerificationError::Expired(_) => "it has expired".into(),
        ClaimsVerificationError::InvalidAudience(_) => "it was issued for another application".into(),
        ClaimsVerificationError::InvalidIssuer(_) => "it was issued by another provider".into(),
        ClaimsVerificationError::InvalidNonce(_) => "it does not belong to this sign-in (nonce mismatch)".into(),
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey) => {
            "it is signed with a key the provider does not publish".into()
        }
        ClaimsVerificationError::SignatureVerification(_) => "its signature is not valid".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_from_an_array_or_a_list_in_a_string() {
        let array = serde_json::json!(["team-genomics", "role-researcher", 7]);
        assert_eq!(groups_from(Some(&array)), ["team-genomics", "role-researcher"]);
        let text = serde_json::json!("team-genomics, role-researcher");
        assert_eq!(groups_from(Some(&text)), ["team-genomics", "role-researcher"]);
        assert!(groups_from(None).is_empty());
        assert!(groups_from(Some(&serde_json::json!({"team": 1}))).is_empty());
    }

    #[test]
    fn cognito_hosted_ui_sign_out_is_derived_from_its_authorize_endpoint() {
        let authorize = url::Url::parse("https://atrium-uni.auth.eu-west-1.amazoncognito.com/oauth2/authorize").unwrap();
        let logout = cognito_logout_url(&authorize, "abc123", "https://atrium.example.edu/").unwrap();
        assert_eq!(
            logout,
            "https://atrium-uni.auth.eu-west-1.amazoncognito.com/logout?client_id=abc123&logout_uri=https%3A%2F%2Fatrium.example.edu%2F"
        );
        let other = url::Url::parse("https://login.example.edu/oauth2/authorize").unwrap();
        assert_eq!(cognito_logout_url(&other, "abc123", "https://atrium.example.edu/"), None);
    }

    fn provider(username_claim: &str) -> SsoProvider {
        let settings = OidcSettings {
            issuer: Some("https://idp.example.edu".into()),
            client_id: Some("atrium".into()),
            client_secret: None,
            display_name: "Example University".into(),
            groups_claim: "cognito:groups".into(),
            username_claim: username_claim.into(),
        };
        SsoProvider::from_settings(&settings).unwrap().unwrap()
    }

    #[test]
    fn the_username_is_the_configured_claim_then_preferred_username() {
        let extra: HashMap<String, serde_json::Value> = [("cognito:username".to_owned(), serde_json::json!("ada"))].into();
        assert_eq!(provider("cognito:username").username_from(&extra, Some("ada.l"), None).as_deref(), Some("ada"));
        assert_eq!(provider("upn").username_from(&extra, Some("ada.l"), None).as_deref(), Some("ada.l"));
        assert_eq!(provider("email").username_from(&extra, None, Some("ada@example.edu")).as_deref(), Some("ada@example.edu"));
        assert_eq!(provider("upn").username_from(&extra, None, None), None);
    }
}
