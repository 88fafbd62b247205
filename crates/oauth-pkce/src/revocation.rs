//! Revocation (RFC 7009) and introspection (RFC 7662).

use core_types::{ExposeSecret, SecretString, TokenSet};
use oauth2::AccessToken;
use oauth2::TokenIntrospectionResponse;

use crate::client::{OAuthClient, form_encode, require_https, token_error};
use crate::error::{OAuthError, from_code};
use crate::http::client as http_client;

impl OAuthClient {
    /// Revokes a token (RFC 7009). The endpoint must be HTTPS, or loopback (RFC 8252 treats
    /// loopback as the local machine); the `oauth2` crate admits only HTTPS here, so this
    /// small POST is made directly.
    pub async fn revoke(&self, token: &SecretString, refresh: bool) -> Result<(), OAuthError> {
        let endpoint = self
            .endpoints
            .revocation
            .as_deref()
            .ok_or_else(|| OAuthError::Config("the provider has no revocation endpoint".into()))?;
        let url = require_https("revocation endpoint", endpoint)?;
        let hint = if refresh { "refresh_token" } else { "access_token" };
        let mut form = vec![("token", token.expose_secret().to_owned()), ("token_type_hint", hint.to_owned())];
        let mut req = self.http.post(url);
        match &self.config.client_secret {
            Some(secret) => {
                req = req.basic_auth(form_encode(&self.config.client_id), Some(form_encode(secret.expose_secret())))
            }
            None => form.push(("client_id", self.config.client_id.clone())),
        }
        let resp = req.form(&form).send().await.map_err(|e| OAuthError::transport("revocation", e.without_url()))?;
        if resp.status().is_success() {
            return Ok(());
        }
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        match body.get("error").and_then(serde_json::Value::as_str) {
            Some(code) => Err(from_code(code, body.get("error_description").and_then(serde_json::Value::as_str))),
            None => Err(OAuthError::Unavailable(format!("revocation: HTTP {status}"))),
        }
    }

    /// Signs out: revokes the refresh token and the access token.
    pub async fn sign_out(&self, tokens: &TokenSet) -> Result<(), OAuthError> {
        if let Some(rt) = &tokens.refresh_token {
            self.revoke(rt, true).await?;
        }
        if let Some(at) = &tokens.access_token {
            self.revoke(at, false).await?;
        }
        Ok(())
    }

    /// Whether the provider still considers a token active (RFC 7662).
    pub async fn introspect(&self, token: &SecretString) -> Result<bool, OAuthError> {
        let at = AccessToken::new(token.expose_secret().to_owned());
        let r = self
            .inner
            .introspect(&at)
            .map_err(|e| OAuthError::Config(format!("{e}: the provider has no introspection endpoint")))?
            .request_async(&http_client(&self.http))
            .await
            .map_err(token_error)?;
        Ok(r.active())
    }
}
