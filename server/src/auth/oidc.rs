//! The OpenID Connect relying party: discovery (cached, refreshed when keys rotate), the
//! authorization-code flow with PKCE (S256), state and nonce, ID token verification, and
//! RP-initiated logout.
use crate::config::OidcSettings;
use app::iam::service::SignInClaims;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IdTokenFields, IssuerUrl,
    LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::RwLock;

/// The `groups` claim, which the standard claims lack.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct GroupsClaim {
    #[serde(default)]
    pub groups: Vec<String>,
}
impl AdditionalClaims for GroupsClaim {}

type IdTokenWithGroups = IdToken<GroupsClaim, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type TokenFields = IdTokenFields<GroupsClaim, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type TokenResponseWithGroups = StandardTokenResponse<TokenFields, CoreTokenType>;
type OidcClient = Client<
    GroupsClaim,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponseWithGroups,
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

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("the identity provider refused the code: {0}")]
    Exchange(String),
    #[error("the ID token is invalid: {0}")]
    InvalidToken(String),
}

/// What the login step keeps (server-side, in the session) for the callback to check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
}

struct Discovered {
    client: OidcClient,
    signing_algs: Vec<CoreJwsSigningAlgorithm>,
    end_session: Option<EndSessionUrl>,
}

/// The provider's HTTP client, sending the current trace's context with each request.
struct Traced<'a>(&'a openidconnect::reqwest::Client);

impl<'c> openidconnect::AsyncHttpClient<'c> for Traced<'_> {
    type Error = <openidconnect::reqwest::Client as openidconnect::AsyncHttpClient<'c>>::Error;
    type Future = <openidconnect::reqwest::Client as openidconnect::AsyncHttpClient<'c>>::Future;

    fn call(&'c self, mut request: openidconnect::HttpRequest) -> Self::Future {
        request.headers_mut().extend(crate::telemetry::outgoing_headers());
        self.0.call(request)
    }
}

pub struct Oidc {
    settings: OidcSettings,
    redirect: RedirectUrl,
    http: openidconnect::reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

impl Oidc {
    pub fn new(settings: OidcSettings, public_url: &str) -> Result<Self, OidcError> {
        let redirect = RedirectUrl::new(format!("{}/auth/callback", public_url.trim_end_matches('/')))
            .map_err(|e| OidcError::Config(format!("redirect URL: {e}")))?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // following redirects would open the client to SSRF
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            // a fresh connection each time: reusing an idle one races the provider closing it
            // (Node's keep-alive ends after 5 s), and the code exchange then fails with
            // "Request failed" — the rare refused sign-in the browser suite used to retry
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| OidcError::Config(format!("HTTP client: {e}")))?;
        Ok(Oidc { settings, redirect, http, discovered: RwLock::new(None) })
    }

    async fn discover(&self) -> Result<Arc<Discovered>, OidcError> {
        let issuer = IssuerUrl::new(self.settings.issuer_url.clone())
            .map_err(|e| OidcError::Config(format!("issuer URL: {e}")))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &Traced(&self.http))
            .await
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        let signing_algs = metadata.id_token_signing_alg_values_supported().clone();
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.expose_secret().to_owned())),
        )
        .set_redirect_uri(self.redirect.clone());
        let discovered = Arc::new(Discovered { client, signing_algs, end_session });
        *self.discovered.write().await = Some(discovered.clone());
        Ok(discovered)
    }

    async fn current(&self) -> Result<Arc<Discovered>, OidcError> {
        if let Some(d) = self.discovered.read().await.clone() {
            return Ok(d);
        }
        self.discover().await
    }

    /// The provider URL to send the browser to, and what the callback must find.
    pub async fn begin(&self, return_to: String) -> Result<(url::Url, PendingLogin), OidcError> {
        let d = self.current().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = d
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            return_to,
        };
        Ok((url, pending))
    }

    /// Exchanges the code (with the PKCE verifier) and verifies the ID token: signature with an
    /// algorithm the provider announced, issuer, audience, expiry and nonce. Returns the claims
    /// and the raw ID token (kept for logout).
    #[tracing::instrument(name = "oidc.exchange", skip_all, err)]
    pub async fn finish(&self, pending: &PendingLogin, code: String) -> Result<(SignInClaims, String), OidcError> {
        let d = self.current().await?;
        let response = d
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&Traced(&self.http))
            .await
            .map_err(|e| OidcError::Exchange(e.to_string()))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::InvalidToken("the provider sent no ID token".into()))?
            .clone();
        let claims = match verify(&d, &id_token, &pending.nonce) {
            Ok(c) => c,
            // The provider may have rotated its keys since discovery: look again, once.
            Err(_) => verify(self.discover().await?.as_ref(), &id_token, &pending.nonce)?,
        };
        Ok((claims, id_token.to_string()))
    }

    /// Where to send the browser to end the provider's session too, when it offers that.
    pub async fn logout_url(&self, id_token: Option<&str>, after_logout: &str) -> Option<url::Url> {
        let d = self.current().await.ok()?;
        let mut request = LogoutRequest::from(d.end_session.clone()?)
            .set_client_id(ClientId::new(self.settings.client_id.clone()));
        if let Some(token) = id_token.and_then(|t| t.parse::<IdTokenWithGroups>().ok()) {
            request = request.set_id_token_hint(&token);
        }
        if let Ok(url) = PostLogoutRedirectUrl::new(after_logout.to_owned()) {
            request = request.set_post_logout_redirect_uri(url);
        }
        Some(request.http_get_url())
    }
}

fn verify(d: &Discovered, token: &IdTokenWithGroups, nonce: &str) -> Result<SignInClaims, OidcError> {
    let verifier = d.client.id_token_verifier().set_allowed_algs(d.signing_algs.clone());
    let claims = token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map_err(|e| OidcError::InvalidToken(e.to_string()))?;
    Ok(SignInClaims {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        preferred_username: claims.preferred_username().map(|u| u.to_string()),
        email: claims.email().map(|e| e.to_string()),
        name: claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
        groups: claims.additional_claims().groups.clone(),
    })
}
