//! What a client is configured with: the provider's endpoints and the client's settings.

use std::fmt;
use std::time::Duration;

use core_types::{RetryPolicy, SecretString};
use serde::Deserialize;

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
