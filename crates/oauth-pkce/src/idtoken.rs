//! OIDC ID-token validation: signature against the provider's JWKS, `iss`, `aud`, `exp`
//! (our clock, 60 s leeway) and `nonce`.

use std::time::Duration;

use core_types::{ExposeSecret, SecretString};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::client::OAuthClient;
use crate::error::OAuthError;
use crate::http::without_url;

const LEEWAY: Duration = Duration::from_secs(60);

/// The least time between two JWKS fetches caused by a key id we do not know: a stream of
/// tokens naming made-up keys must not become a stream of fetches.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(300);

impl OAuthClient {
    async fn fetch_jwks(&self) -> Result<JwkSet, OAuthError> {
        let jwks_uri =
            self.endpoints.jwks.clone().ok_or_else(|| OAuthError::Config("the provider has no jwks_uri".into()))?;
        let resp = tokio::time::timeout(self.config.attempt_timeout, self.http.get(&jwks_uri).send())
            .await
            .map_err(|_| OAuthError::Timeout("JWKS: no answer in time".into()))?
            .map_err(|e| OAuthError::transport("JWKS", e.without_url()))?;
        if !resp.status().is_success() {
            return Err(OAuthError::Unavailable(format!("JWKS: HTTP {}", resp.status())));
        }
        resp.json().await.map_err(|e| OAuthError::Invalid(format!("JWKS: {}", without_url(&e))))
    }

    /// The key a token names: from the cached JWKS, fetched on first use and again for an
    /// unknown key id at most once per [`JWKS_REFETCH_INTERVAL`] (the provider may have
    /// rotated its keys).
    async fn key_for(&self, kid: Option<&str>) -> Result<DecodingKey, OAuthError> {
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None => set.keys.first().cloned(),
        };
        let mut cache = self.jwks.lock().await;
        let now = self.clock.now();
        let jwk = match cache.as_ref().map(|(set, at)| (find(set), *at)) {
            Some((Some(jwk), _)) => jwk,
            Some((None, at)) if now.duration_since(at).unwrap_or_default() < JWKS_REFETCH_INTERVAL => {
                return Err(OAuthError::IdToken("signed with a key the provider does not publish".into()));
            }
            _ => {
                let set = self.fetch_jwks().await?;
                let jwk = find(&set);
                *cache = Some((set, now));
                jwk.ok_or_else(|| OAuthError::IdToken("signed with a key the provider does not publish".into()))?
            }
        };
        DecodingKey::from_jwk(&jwk).map_err(|e| OAuthError::IdToken(format!("unusable key: {e}")))
    }

    /// Validates an ID token and returns its claims.
    pub async fn validate_id_token(
        &self,
        id_token: &SecretString,
        nonce: Option<&str>,
    ) -> Result<serde_json::Map<String, Value>, OAuthError> {
        let token = id_token.expose_secret();
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| OAuthError::IdToken("not a well-formed JWT".into()))?;
        let allowed = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ];
        if !allowed.contains(&header.alg) {
            return Err(OAuthError::IdToken(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let key = self.key_for(header.kid.as_deref()).await?;
        let issuer = self
            .endpoints
            .issuer
            .clone()
            .ok_or_else(|| OAuthError::Config("no issuer to check ID tokens against".into()))?;
        let mut v = Validation::new(header.alg);
        v.validate_exp = false;
        v.set_issuer(&[&issuer]);
        v.set_audience(&[&self.config.client_id]);
        v.required_spec_claims = ["iss", "sub", "aud", "exp"].iter().map(|s| (*s).to_owned()).collect();
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            OAuthError::IdToken(match e.kind() {
                K::InvalidSignature => "signature does not verify".into(),
                K::InvalidIssuer => format!("issuer is not {issuer}"),
                K::InvalidAudience => "audience is not this client".into(),
                other => format!("{other:?}"),
            })
        })?;
        let claims = data.claims;
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        let now =
            self.clock.now().duration_since(std::time::SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        if exp + LEEWAY.as_secs() as i64 <= now {
            return Err(OAuthError::IdToken(format!("expired {} s ago", now - exp)));
        }
        if let Some(expected) = nonce
            && claims.get("nonce").and_then(Value::as_str) != Some(expected)
        {
            return Err(OAuthError::IdToken("nonce does not match this sign-in (possible replay)".into()));
        }
        Ok(claims)
    }
}
