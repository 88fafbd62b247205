//! The OAuth 2 / OIDC client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use core_types::{Clock, ExposeSecret, Kinded, RetryPolicy, SecretString, SystemClock, TokenSet, Verdict};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, DeviceAuthorizationUrl, EndpointMaybeSet,
    IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    ResourceOwnerPassword, ResourceOwnerUsername, RevocationUrl, Scope, StandardRevocableToken, StandardTokenResponse,
    TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{OAuthError, from_code};
use crate::http::{Busy, HttpError, client as http_client, without_url};

/// The OIDC `id_token` beside the standard token response fields.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenField").field("id_token", &self.id_token.as_ref().map(|_| "[REDACTED]")).finish()
    }
}

impl oauth2::ExtraTokenFields for IdTokenField {}

pub(crate) type OidcTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
type Inner = oauth2::Client<
    BasicErrorResponse,
    OidcTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider's endpoints (from discovery, or given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Endpoints {
    /// `issuer`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// `authorization_endpoint`.
    #[serde(default, rename = "authorization_endpoint")]
    pub authorization: Option<String>,
    /// `token_endpoint`.
    #[serde(default, rename = "token_endpoint")]
    pub token: Option<String>,
    /// `revocation_endpoint`.
    #[serde(default, rename = "revocation_endpoint")]
    pub revocation: Option<String>,
    /// `introspection_endpoint`.
    #[serde(default, rename = "introspection_endpoint")]
    pub introspection: Option<String>,
    /// `device_authorization_endpoint`.
    #[serde(default, rename = "device_authorization_endpoint")]
    pub device_authorization: Option<String>,
    /// `jwks_uri`.
    #[serde(default, rename = "jwks_uri")]
    pub jwks: Option<String>,
    /// `code_challenge_methods_supported`.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
}

/// What the client is and where the provider is.
#[derive(Clone)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// The issuer, for discovery (`{issuer}/.well-known/openid-configuration`).
    pub issuer: Option<String>,
    /// Explicit endpoints (override discovered ones).
    pub endpoints: Endpoints,
    /// The client id.
    pub client_id: String,
    /// The client secret of a confidential client.
    pub client_secret: Option<SecretString>,
    /// The redirect URI of the authorization-code flow.
    pub redirect_uri: Option<String>,
    /// Scopes to request.
    pub scopes: Vec<String>,
    /// Retries of discovery and token-endpoint calls (unreachable, 5xx, 429, timeouts only;
    /// an OAuth error answer is never retried). The code exchange is not retried: a code
    /// is single-use.
    pub retry: RetryPolicy,
    /// How long one attempt may take.
    pub attempt_timeout: Duration,
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("issuer", &self.issuer)
            .field("endpoints", &self.endpoints)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[REDACTED]"))
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("retry", &self.retry)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish()
    }
}

impl OAuthConfig {
    /// A public client discovering its provider at `issuer`.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            issuer: Some(issuer.into()),
            endpoints: Endpoints::default(),
            client_id: client_id.into(),
            client_secret: None,
            redirect_uri: None,
            scopes: vec!["openid".into()],
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(30),
        }
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how long one attempt may take.
    #[must_use]
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Makes it a confidential client.
    #[must_use]
    pub fn with_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Sets the scopes.
    #[must_use]
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Sets the redirect URI.
    #[must_use]
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }
}

/// The PKCE verifier of one authorization request. It is consumed by the exchange, so it
/// cannot be used twice; it is never shown.
pub struct PkceVerifier(PkceCodeVerifier);

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([REDACTED])")
    }
}

impl PkceVerifier {
    /// A verifier from a stored secret (e.g. kept across a web redirect).
    pub fn from_secret(secret: &SecretString) -> Self {
        Self(PkceCodeVerifier::new(secret.expose_secret().to_owned()))
    }

    /// The verifier, for storing between redirect and callback.
    pub fn into_secret(self) -> SecretString {
        SecretString::from(self.0.into_secret())
    }
}

/// The `state` sent with an authorization request (checked against the one returned) and
/// the OIDC `nonce` (checked in the ID token).
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfState {
    state: String,
    nonce: Option<String>,
}

impl fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfState([REDACTED])")
    }
}

impl CsrfState {
    /// The state value.
    pub fn secret(&self) -> &str {
        &self.state
    }

    /// The nonce the ID token must carry, when `openid` was requested.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
}

/// An OAuth 2 / OIDC client on the `oauth2` crate.
#[derive(Clone)]
pub struct OAuthClient {
    pub(crate) config: OAuthConfig,
    pub(crate) endpoints: Endpoints,
    pub(crate) inner: Inner,
    pub(crate) http: reqwest::Client,
    pub(crate) clock: Arc<dyn Clock>,
    /// The provider's keys and when they were fetched (shared by clones).
    pub(crate) jwks: crate::idtoken::JwksCache,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient").field("config", &self.config).finish_non_exhaustive()
    }
}

fn parse_url<T>(
    what: &str,
    v: &Option<String>,
    make: impl Fn(String) -> Result<T, url::ParseError>,
) -> Result<Option<T>, OAuthError> {
    v.clone().map(|u| make(u).map_err(|e| OAuthError::Config(format!("{what} is not a URL: {e}")))).transpose()
}

type TokenError = RequestTokenError<HttpError, BasicErrorResponse>;

/// Whether a request may be sent again after a failure that may have reached the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    /// Discovery, password and client-credentials grants: a second copy does no harm.
    Safe,
    /// A refresh grant: the first copy may already have spent a rotating refresh token, so
    /// only failures that certainly did not reach the provider are retried.
    OnlyIfUnsent,
}

/// Runs `op` until it succeeds or fails for good: transient failures (unreachable, 5xx, 429,
/// an attempt over `timeout`) are retried per `policy`; any OAuth answer is final. With
/// [`Replay::OnlyIfUnsent`], a failure that may have reached the provider ends the loop
/// with [`OAuthError::MaybeDelivered`].
async fn retrying<T, F, Fut>(
    policy: RetryPolicy,
    timeout: Duration,
    what: &str,
    replay: Replay,
    op: F,
) -> Result<T, OAuthError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, OAuthError>>,
{
    let attempt = || async {
        match tokio::time::timeout(timeout, op()).await {
            Ok(r) => r,
            Err(_) => Err(OAuthError::Timeout(format!("{what}: no answer within {} ms", timeout.as_millis()))),
        }
    };
    // a request that must not be sent twice is retried only when it certainly did not arrive
    let may_have_arrived =
        |e: &OAuthError| replay == Replay::OnlyIfUnsent && e.kind().is_retryable() && !e.certainly_not_processed();
    let judge = |e: &OAuthError| {
        if may_have_arrived(e) || !e.kind().is_retryable() {
            return Verdict::Final;
        }
        tracing::debug!(what, error = %e, "retrying");
        // the provider's Retry-After lengthens the backoff; one beyond the policy ends it
        Verdict::Retry { after: e.retry_after() }
    };
    match policy.run(attempt, judge, tokio::time::sleep).await.0 {
        Err(e) if may_have_arrived(&e) => {
            Err(OAuthError::MaybeDelivered { what: what.to_owned(), cause: e.to_string() })
        }
        other => other,
    }
}

pub(crate) fn token_error(e: TokenError) -> OAuthError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            from_code(r.error().as_ref(), r.error_description().map(String::as_str))
        }
        RequestTokenError::Request(e) => e.into_oauth(),
        RequestTokenError::Parse(e, _) => OAuthError::Invalid(format!("token response did not parse: {}", e.path())),
        RequestTokenError::Other(m) => OAuthError::Invalid(m),
    }
}

impl OAuthClient {
    /// A client for `config`: discovers the provider's endpoints when an issuer is given
    /// (explicit endpoints win), and refuses a provider that does not offer PKCE S256.
    pub async fn discover(config: OAuthConfig) -> Result<Self, OAuthError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| OAuthError::Config(format!("HTTP client: {e}")))?;
        let mut endpoints = Endpoints::default();
        if let Some(issuer) = &config.issuer {
            require_https("issuer", issuer)?;
            let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
            endpoints = retrying(config.retry, config.attempt_timeout, "discovery", Replay::Safe, || async {
                let resp =
                    http.get(&url).send().await.map_err(|e| crate::http::HttpError::from_send(&e).into_oauth())?;
                if let Some(b) = Busy::of(&resp) {
                    return Err(OAuthError::Busy { status: b.status, retry_after: b.retry_after });
                }
                if !resp.status().is_success() {
                    // a 404 is not going to heal by itself: not retried
                    return Err(OAuthError::Config(format!(
                        "no discovery document at {url} (HTTP {}); check the issuer URL",
                        resp.status()
                    )));
                }
                resp.json::<Endpoints>()
                    .await
                    .map_err(|e| OAuthError::Invalid(format!("discovery document: {}", without_url(&e))))
            })
            .await?;
            if endpoints.issuer.as_deref().map(|i| i.trim_end_matches('/')) != Some(issuer.trim_end_matches('/')) {
                return Err(OAuthError::Invalid(format!(
                    "discovery document names issuer {:?}, expected {issuer}",
                    endpoints.issuer
                )));
            }
        }
        let e = &config.endpoints;
        let pick = |given: &Option<String>, found: &Option<String>| given.clone().or_else(|| found.clone());
        endpoints = Endpoints {
            issuer: pick(&e.issuer, &endpoints.issuer),
            authorization: pick(&e.authorization, &endpoints.authorization),
            token: pick(&e.token, &endpoints.token),
            revocation: pick(&e.revocation, &endpoints.revocation),
            introspection: pick(&e.introspection, &endpoints.introspection),
            device_authorization: pick(&e.device_authorization, &endpoints.device_authorization),
            jwks: pick(&e.jwks, &endpoints.jwks),
            code_challenge_methods_supported: endpoints.code_challenge_methods_supported,
        };
        for (what, url) in [
            ("token endpoint", &endpoints.token),
            ("device authorization endpoint", &endpoints.device_authorization),
            ("introspection endpoint", &endpoints.introspection),
            ("revocation endpoint", &endpoints.revocation),
            ("JWKS", &endpoints.jwks),
        ] {
            if let Some(u) = url {
                require_https(what, u)?;
            }
        }
        if endpoints.authorization.is_some()
            && !endpoints.code_challenge_methods_supported.is_empty()
            && !endpoints.code_challenge_methods_supported.iter().any(|m| m == "S256")
        {
            return Err(OAuthError::Config("the provider does not support PKCE S256; refusing plain PKCE".into()));
        }
        let mut inner = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri_option(parse_url("authorization endpoint", &endpoints.authorization, AuthUrl::new)?)
            .set_token_uri_option(parse_url("token endpoint", &endpoints.token, TokenUrl::new)?)
            .set_revocation_url_option(parse_url("revocation endpoint", &endpoints.revocation, RevocationUrl::new)?)
            .set_introspection_url_option(parse_url(
                "introspection endpoint",
                &endpoints.introspection,
                IntrospectionUrl::new,
            )?)
            .set_device_authorization_url_option(parse_url(
                "device authorization endpoint",
                &endpoints.device_authorization,
                DeviceAuthorizationUrl::new,
            )?);
        if let Some(s) = &config.client_secret {
            inner = inner.set_client_secret(ClientSecret::new(s.expose_secret().to_owned()));
        }
        if let Some(r) = parse_url("redirect URI", &config.redirect_uri, RedirectUrl::new)? {
            inner = inner.set_redirect_uri(r);
        }
        Ok(Self { config, endpoints, inner, http, clock: Arc::new(SystemClock), jwks: Arc::default() })
    }

    async fn retrying<T, F, Fut>(&self, what: &str, replay: Replay, op: F) -> Result<T, OAuthError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, OAuthError>>,
    {
        retrying(self.config.retry, self.config.attempt_timeout, what, replay, op).await
    }

    /// Uses `clock` for token expiry and ID-token checks.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The endpoints in use.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    fn tokens(&self, r: &OidcTokenResponse, keep_refresh: Option<&SecretString>) -> TokenSet {
        let now = self.clock.now();
        TokenSet {
            access_token: Some(SecretString::from(r.access_token().secret().clone())),
            id_token: r.extra_fields().id_token.clone().map(SecretString::from),
            refresh_token: r
                .refresh_token()
                .map(|t| SecretString::from(t.secret().clone()))
                .or_else(|| keep_refresh.map(|k| SecretString::from(k.expose_secret().to_owned()))),
            token_type: Some("Bearer".into()),
            scopes: r.scopes().map(|s| s.iter().map(|x| x.to_string()).collect()).unwrap_or_default(),
            // a provider's `expires_in` is believed up to a year: a huge one must not overflow
            expires_at: r.expires_in().and_then(|d| now.checked_add(d.min(MAX_TOKEN_LIFETIME))),
        }
    }

    /// The token set of a response, its ID token (if any) validated first: signature
    /// through the cached JWKS, `iss`, `aud`, `exp`, and `nonce` when the request sent one.
    pub(crate) async fn checked_tokens(
        &self,
        r: &OidcTokenResponse,
        keep_refresh: Option<&SecretString>,
        nonce: Option<&str>,
    ) -> Result<TokenSet, OAuthError> {
        let tokens = self.tokens(r, keep_refresh);
        match &tokens.id_token {
            Some(id) => {
                self.validate_id_token(id, nonce).await?;
            }
            None if nonce.is_some() && self.config.scopes.iter().any(|s| s == "openid") => {
                return Err(OAuthError::IdToken("the provider returned no ID token for an openid sign-in".into()));
            }
            None => {}
        }
        Ok(tokens)
    }

    pub(crate) fn scopes(&self) -> Vec<Scope> {
        self.config.scopes.iter().map(|s| Scope::new(s.clone())).collect()
    }

    /// The authorization URL of an authorization-code + PKCE (S256) sign-in, with its
    /// verifier and state (and an OIDC nonce when `openid` is requested).
    pub fn authorization_url(&self) -> Result<(Url, PkceVerifier, CsrfState), OAuthError> {
        self.authorization_url_for(None)
    }

    /// Alias of [`OAuthClient::authorization_url`] (the original design's name).
    pub fn get_authorization_url_and_code_verifier(&self) -> Result<(Url, PkceVerifier, CsrfState), OAuthError> {
        self.authorization_url()
    }

    pub(crate) fn authorization_url_for(
        &self,
        redirect: Option<&str>,
    ) -> Result<(Url, PkceVerifier, CsrfState), OAuthError> {
        // every secret random value comes from the OS generator (RFC 7636 §7.1, RFC 6749 §10.10)
        let verifier = PkceCodeVerifier::new(os_random_token()?);
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        let state = CsrfToken::new(os_random_token()?);
        let mut req = self
            .inner
            .authorize_url(|| state)
            .map_err(|e| OAuthError::Config(format!("{e}: set the authorization endpoint")))?
            .set_pkce_challenge(challenge)
            .add_scopes(self.scopes());
        let redirect_owned;
        if let Some(r) = redirect {
            redirect_owned = RedirectUrl::new(r.to_owned()).map_err(|e| OAuthError::Config(e.to_string()))?;
            req = req.set_redirect_uri(std::borrow::Cow::Borrowed(&redirect_owned));
        }
        let nonce = if self.config.scopes.iter().any(|s| s == "openid") { Some(os_random_token()?) } else { None };
        if let Some(n) = &nonce {
            req = req.add_extra_param("nonce", n.clone());
        }
        let wants_refresh = self.config.scopes.iter().any(|s| s == "offline_access");
        if wants_refresh {
            // providers issue refresh tokens for offline_access only after explicit consent
            req = req.add_extra_param("prompt", "consent");
        }
        let (url, state) = req.url();
        Ok((url, PkceVerifier(verifier), CsrfState { state: state.secret().clone(), nonce }))
    }

    /// Exchanges an authorization code. A `returned_state` that differs from `expected` is
    /// refused before any network call.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: PkceVerifier,
        returned_state: &str,
        expected: &CsrfState,
    ) -> Result<TokenSet, OAuthError> {
        self.exchange_code_for(code, verifier, returned_state, expected, None).await
    }

    /// Alias of [`OAuthClient::exchange_code`] (the original design's name).
    pub async fn authenticate_with_code_and_verifier(
        &self,
        code: &str,
        verifier: PkceVerifier,
        returned_state: &str,
        expected: &CsrfState,
    ) -> Result<TokenSet, OAuthError> {
        self.exchange_code(code, verifier, returned_state, expected).await
    }

    pub(crate) async fn exchange_code_for(
        &self,
        code: &str,
        verifier: PkceVerifier,
        returned_state: &str,
        expected: &CsrfState,
        redirect: Option<&str>,
    ) -> Result<TokenSet, OAuthError> {
        if !constant_time_eq(returned_state.as_bytes(), expected.state.as_bytes()) {
            return Err(OAuthError::StateMismatch);
        }
        let redirect_owned;
        let mut req = self
            .inner
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OAuthError::Config(format!("{e}: set the token endpoint")))?
            .set_pkce_verifier(verifier.0);
        if let Some(r) = redirect {
            redirect_owned = RedirectUrl::new(r.to_owned()).map_err(|e| OAuthError::Config(e.to_string()))?;
            req = req.set_redirect_uri(std::borrow::Cow::Borrowed(&redirect_owned));
        }
        let r = req.request_async(&http_client(&self.http)).await.map_err(token_error)?;
        self.checked_tokens(&r, None, expected.nonce()).await
    }

    /// The resource-owner password grant (`sign_in_with_password`).
    pub async fn sign_in_with_password(&self, username: &str, password: &SecretString) -> Result<TokenSet, OAuthError> {
        let user = ResourceOwnerUsername::new(username.to_owned());
        let pass = ResourceOwnerPassword::new(password.expose_secret().to_owned());
        let r = self
            .retrying("password grant", Replay::Safe, || async {
                self.inner
                    .exchange_password(&user, &pass)
                    .map_err(|e| OAuthError::Config(format!("{e}: set the token endpoint")))?
                    .add_scopes(self.scopes())
                    .request_async(&http_client(&self.http))
                    .await
                    .map_err(token_error)
            })
            .await?;
        self.checked_tokens(&r, None, None).await
    }

    /// The client-credentials grant (`sign_in_with_client`).
    pub async fn sign_in_with_client(&self) -> Result<TokenSet, OAuthError> {
        if self.config.client_secret.is_none() {
            return Err(OAuthError::Config("client credentials need a client secret".into()));
        }
        let scopes: Vec<Scope> =
            self.scopes().into_iter().filter(|s| s.as_str() != "openid" && s.as_str() != "offline_access").collect();
        let r = self
            .retrying("client credentials grant", Replay::Safe, || async {
                self.inner
                    .exchange_client_credentials()
                    .map_err(|e| OAuthError::Config(format!("{e}: set the token endpoint")))?
                    .add_scopes(scopes.clone())
                    .request_async(&http_client(&self.http))
                    .await
                    .map_err(token_error)
            })
            .await?;
        Ok(self.tokens(&r, None))
    }

    /// New tokens from a refresh token. Providers that rotate return a new refresh token,
    /// which the result carries; otherwise the old one is kept.
    pub async fn refresh_token(&self, refresh: &SecretString) -> Result<TokenSet, OAuthError> {
        let rt = RefreshToken::new(refresh.expose_secret().to_owned());
        let r = self
            .retrying("refresh", Replay::OnlyIfUnsent, || async {
                self.inner
                    .exchange_refresh_token(&rt)
                    .map_err(|e| OAuthError::Config(format!("{e}: set the token endpoint")))?
                    .request_async(&http_client(&self.http))
                    .await
                    .map_err(token_error)
            })
            .await?;
        self.checked_tokens(&r, Some(refresh), None).await
    }

    /// Alias of [`OAuthClient::refresh_token`] (the original design's name).
    pub async fn refresh_oauth_token(&self, refresh: &SecretString) -> Result<TokenSet, OAuthError> {
        self.refresh_token(refresh).await
    }

    /// Refreshes the right way: the refresh token when there is one, otherwise client
    /// credentials again.
    pub async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, OAuthError> {
        match &current.refresh_token {
            Some(rt) => self.refresh_token(rt).await,
            None if self.config.client_secret.is_some() => self.sign_in_with_client().await,
            None => Err(OAuthError::InvalidGrant("no refresh token and no client secret to renew with".into())),
        }
    }
}

/// The longest token lifetime believed from a provider's `expires_in`.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// Whether `url` is on this machine (RFC 8252 §8.3: loopback needs no TLS).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `url`, when it is HTTPS or on this machine: an OAuth endpoint over plain HTTP elsewhere
/// gives tokens (and, for a JWKS, the power to forge ID tokens) to anyone on the path.
pub(crate) fn require_https(what: &str, url: &str) -> Result<Url, OAuthError> {
    let parsed = Url::parse(url).map_err(|e| OAuthError::Config(format!("{what} {url:?} is not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        _ => Err(OAuthError::Config(format!(
            "{what} {url} is not HTTPS: tokens and keys must not cross the network in the clear; use the https:// URL"
        ))),
    }
}

/// 32 bytes from the operating system's generator, base64url without padding (43 characters:
/// a valid PKCE verifier, and an unguessable state or nonce).
fn os_random_token() -> Result<String, OAuthError> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| OAuthError::Config(format!("the system's random generator failed ({e}); try again")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// RFC 6749 §2.3.1: client credentials in HTTP Basic are form-urlencoded first.
pub(crate) fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
