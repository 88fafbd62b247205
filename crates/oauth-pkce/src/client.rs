//! The OAuth 2 / OIDC client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use core_types::{Clock, ExposeSecret, Kinded, RetryPolicy, SecretString, SystemClock, TokenSet, Verdict};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, ClientId, ClientSecret, DeviceAuthorizationUrl, EndpointMaybeSet, IntrospectionUrl, RedirectUrl,
    RequestTokenError, RevocationUrl, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{Endpoints, OAuthConfig};
use crate::error::{OAuthError, from_code};
use crate::http::{Busy, HttpError, without_url};

/// The provider's keys and when they were fetched (by our clock), shared by client clones.
pub(crate) type JwksCache = Arc<tokio::sync::Mutex<Option<(jsonwebtoken::jwk::JwkSet, std::time::SystemTime)>>>;

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

/// An OAuth 2 / OIDC client on the `oauth2` crate.
#[derive(Clone)]
pub struct OAuthClient {
    pub(crate) config: OAuthConfig,
    pub(crate) endpoints: Endpoints,
    pub(crate) inner: Inner,
    pub(crate) http: reqwest::Client,
    pub(crate) clock: Arc<dyn Clock>,
    /// The provider's keys and when they were fetched (shared by clones).
    pub(crate) jwks: JwksCache,
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
pub(crate) enum Replay {
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
        Self::discover_with(config, http).await
    }

    /// [`OAuthClient::discover`] sending through the caller's `http` client (its proxies,
    /// custom root certificates, ...). Build it with `redirect(reqwest::redirect::Policy::none())`,
    /// as the `oauth2` crate asks (a token request must not follow a redirect); each attempt
    /// still has the config's `attempt_timeout`.
    pub async fn discover_with(config: OAuthConfig, http: reqwest::Client) -> Result<Self, OAuthError> {
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

    pub(crate) async fn retrying<T, F, Fut>(&self, what: &str, replay: Replay, op: F) -> Result<T, OAuthError>
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

    pub(crate) fn tokens(&self, r: &OidcTokenResponse, keep_refresh: Option<&SecretString>) -> TokenSet {
        let mut tokens = token_set_from(r, self.clock.now());
        tokens.id_token = r.extra_fields().id_token.clone().map(SecretString::from);
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = keep_refresh.map(|k| SecretString::from(k.expose_secret().to_owned()));
        }
        tokens
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
}

/// The token set of any `oauth2` token response obtained at `now` (for callers who ran a grant
/// with the `oauth2` crate themselves): access and refresh tokens, scopes, and the expiry from
/// `expires_in`, believed up to a year. An ID token is an extra field `oauth2` does not know:
/// set it from the response's own type.
pub fn token_set_from<R: TokenResponse>(r: &R, now: std::time::SystemTime) -> TokenSet {
    TokenSet {
        access_token: Some(SecretString::from(r.access_token().secret().clone())),
        id_token: None,
        refresh_token: r.refresh_token().map(|t| SecretString::from(t.secret().clone())),
        token_type: Some("Bearer".into()),
        scopes: r.scopes().map(|s| s.iter().map(|x| x.to_string()).collect()).unwrap_or_default(),
        // a provider's `expires_in` is believed up to a year: a huge one must not overflow
        expires_at: r.expires_in().and_then(|d| now.checked_add(d.min(MAX_TOKEN_LIFETIME))),
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

/// RFC 6749 §2.3.1: client credentials in HTTP Basic are form-urlencoded first.
pub(crate) fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use core_types::ExposeSecret;

    /// An `oauth2` crate response (here its basic one, parsed from a provider's JSON) becomes
    /// a token set: tokens, scopes, and an expiry from `expires_in` (a huge one capped).
    #[test]
    fn an_oauth2_token_response_converts() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let r: oauth2::basic::BasicTokenResponse = serde_json::from_str(
            r#"{"access_token":"at-1","token_type":"bearer","expires_in":3600,"refresh_token":"rt-1","scope":"openid offline_access"}"#,
        )
        .unwrap();
        let t = token_set_from(&r, now);
        assert_eq!(t.access_token.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(), Some("at-1"));
        assert_eq!(t.refresh_token.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(), Some("rt-1"));
        assert_eq!(t.scopes, ["openid", "offline_access"]);
        assert_eq!(t.expires_at, Some(now + Duration::from_secs(3600)));
        let huge: oauth2::basic::BasicTokenResponse =
            serde_json::from_str(r#"{"access_token":"a","token_type":"bearer","expires_in":18446744073709551615}"#)
                .unwrap();
        assert_eq!(token_set_from(&huge, now).expires_at, Some(now + MAX_TOKEN_LIFETIME));
    }
}
