//! Verification of the pool's ID and access tokens: RS256 signatures against the pool's JWKS
//! (cached; fetched again once when a token names an unknown key), issuer, audience /
//! client id, `token_use` and expiry (against the passed-in clock, with a small leeway).
//! `alg: none`, HS256 and every other algorithm are rejected before any key is looked at.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use core_types::{Clock, ExposeSecret, SecretString, SystemClock};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::config::CognitoConfig;
use crate::error::CognitoError;

/// The least time between two JWKS fetches caused by unknown key ids.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(300);

/// The claims of a verified token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// `sub`: the user's stable id.
    pub subject: String,
    /// `token_use`: `id` or `access`.
    pub token_use: String,
    /// `cognito:username` or `username`, when present.
    pub username: Option<String>,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
    /// Every claim.
    pub claims: serde_json::Map<String, Value>,
}

/// Verifies tokens issued by one user pool to one app client.
#[derive(Clone)]
pub struct JwtVerifier {
    jwks_url: String,
    issuer: String,
    client_id: String,
    http: reqwest::Client,
    keys: Arc<tokio::sync::RwLock<Option<JwkSet>>>,
    /// When the keys were last fetched (our clock), so tokens naming unknown keys cannot
    /// make us fetch the JWKS more than once per [`JWKS_REFETCH_INTERVAL`].
    fetched_at: Arc<std::sync::Mutex<Option<std::time::SystemTime>>>,
    clock: Arc<dyn Clock>,
    leeway: Duration,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("jwks_url", &self.jwks_url)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for the pool and client of `config`, fetching keys from the pool's public
    /// `/.well-known/jwks.json`.
    pub fn new(config: &CognitoConfig) -> Self {
        let issuer = config.issuer();
        Self {
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            client_id: config.app_client_id.clone(),
            // the key set is fetched with a deadline, as every call of the toolkit
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            keys: Arc::default(),
            fetched_at: Arc::default(),
            clock: Arc::new(SystemClock),
            leeway: Duration::from_secs(60),
        }
    }

    /// Fetches keys from another URL (a regional endpoint, a test server).
    #[must_use]
    pub fn with_jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = url.into();
        self
    }

    /// Uses `clock` to judge expiry.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Tolerance for clock skew on `exp` (default 60 s).
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Verifies an ID token (`token_use = id`, `aud = client id`).
    pub async fn verify_id_token(&self, token: &SecretString) -> Result<VerifiedToken, CognitoError> {
        self.verify(token, "id").await
    }

    /// Verifies an access token (`token_use = access`, `client_id = client id`).
    pub async fn verify_access_token(&self, token: &SecretString) -> Result<VerifiedToken, CognitoError> {
        self.verify(token, "access").await
    }

    async fn fetch_keys(&self) -> Result<JwkSet, CognitoError> {
        let resp = self.http.get(&self.jwks_url).timeout(Duration::from_secs(10)).send().await.map_err(|e| {
            CognitoError::Transport { what: format!("fetching {}", self.jwks_url), cause: e.without_url() }
        })?;
        if !resp.status().is_success() {
            return Err(CognitoError::Unavailable(format!("fetching {}: HTTP {}", self.jwks_url, resp.status())));
        }
        resp.json::<JwkSet>().await.map_err(|e| CognitoError::Invalid(format!("{} is not a JWKS: {e}", self.jwks_url)))
    }

    async fn key_for(&self, kid: &str) -> Result<DecodingKey, CognitoError> {
        let find = |set: &JwkSet| set.find(kid).map(DecodingKey::from_jwk);
        if let Some(set) = self.keys.read().await.as_ref()
            && let Some(k) = find(set)
        {
            return k.map_err(|e| CognitoError::Jwt(format!("key {kid} is unusable: {e}")));
        }
        // unknown kid: the pool may have rotated its keys; fetch again, but at most once per
        // interval (a stream of made-up kids must not turn into a stream of fetches)
        let now = self.clock.now();
        let have_keys = self.keys.read().await.is_some();
        {
            let mut at = self.fetched_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let recently = at.is_some_and(|t| now.duration_since(t).unwrap_or_default() < JWKS_REFETCH_INTERVAL);
            if recently && have_keys {
                return Err(CognitoError::Jwt(format!("no key {kid:?} in the pool's JWKS")));
            }
            *at = Some(now);
        }
        let set = self.fetch_keys().await?;
        let key = find(&set);
        *self.keys.write().await = Some(set);
        match key {
            Some(k) => k.map_err(|e| CognitoError::Jwt(format!("key {kid} is unusable: {e}"))),
            None => Err(CognitoError::Jwt(format!("no key {kid:?} in the pool's JWKS"))),
        }
    }

    async fn verify(&self, token: &SecretString, token_use: &str) -> Result<VerifiedToken, CognitoError> {
        let token = token.expose_secret();
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| CognitoError::Jwt("not a well-formed JWT".into()))?;
        if header.alg != Algorithm::RS256 {
            return Err(CognitoError::Jwt(format!("algorithm {:?} is not accepted (only RS256)", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| CognitoError::Jwt("token names no key id (kid)".into()))?;
        let key = self.key_for(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        // expiry is judged below against our clock
        validation.validate_exp = false;
        validation.required_spec_claims = ["iss", "sub", "exp"].iter().map(|s| (*s).to_owned()).collect();
        validation.set_issuer(&[&self.issuer]);
        if token_use == "id" {
            validation.set_audience(&[&self.client_id]);
        } else {
            validation.validate_aud = false;
        }
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            CognitoError::Jwt(match e.kind() {
                K::InvalidSignature => "signature does not verify".to_owned(),
                K::InvalidIssuer => format!("issuer is not {}", self.issuer),
                K::InvalidAudience => "audience is not this app client".to_owned(),
                K::MissingRequiredClaim(c) => format!("claim {c} is missing"),
                other => format!("invalid token ({other:?})"),
            })
        })?;
        let claims = data.claims;
        let str_claim = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        let exp =
            claims.get("exp").and_then(Value::as_i64).ok_or_else(|| CognitoError::Jwt("exp is not a number".into()))?;
        let now = cred_store_time(self.clock.now());
        if exp + i64::try_from(self.leeway.as_secs()).unwrap_or(0) < now {
            return Err(CognitoError::ExpiredToken(format!("{token_use} token expired {} s ago", now - exp)));
        }
        if str_claim("token_use").as_deref() != Some(token_use) {
            return Err(CognitoError::Jwt(format!("token_use is not {token_use:?}")));
        }
        if token_use == "access" && str_claim("client_id").as_deref() != Some(self.client_id.as_str()) {
            return Err(CognitoError::Jwt("client_id is not this app client".into()));
        }
        Ok(VerifiedToken {
            subject: str_claim("sub").unwrap_or_default(),
            token_use: token_use.to_owned(),
            username: str_claim("cognito:username").or_else(|| str_claim("username")),
            expires_at: exp,
            claims,
        })
    }
}

fn cred_store_time(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
