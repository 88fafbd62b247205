//! The other grants: resource-owner password, client credentials, refresh.

use core_types::{ExposeSecret, SecretString, TokenSet};
use oauth2::{RefreshToken, ResourceOwnerPassword, ResourceOwnerUsername, Scope};

use crate::client::{OAuthClient, Replay, token_error};
use crate::error::OAuthError;
use crate::http::client as http_client;

impl OAuthClient {
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
        self.refresh_token_for(refresh, &[]).await
    }

    /// New tokens from a refresh token for `scopes` (none: the granted ones; a narrower set,
    /// or, at providers that allow it such as Entra ID, another resource's).
    pub async fn refresh_token_for(&self, refresh: &SecretString, scopes: &[&str]) -> Result<TokenSet, OAuthError> {
        let rt = RefreshToken::new(refresh.expose_secret().to_owned());
        let r = self
            .retrying("refresh", Replay::OnlyIfUnsent, || async {
                self.inner
                    .exchange_refresh_token(&rt)
                    .map_err(|e| OAuthError::Config(format!("{e}: set the token endpoint")))?
                    .add_scopes(scopes.iter().map(|s| oauth2::Scope::new((*s).to_owned())))
                    .request_async(&http_client(&self.http))
                    .await
                    .map_err(token_error)
            })
            .await?;
        // The refresh token was spent: the provider has rotated it, and the new one must reach
        // the caller (who stores it) whatever happens next. An ID token that cannot be checked
        // now (its keys unreachable, or not valid) is dropped, never trusted, and never costs
        // the refresh token family.
        let mut tokens = self.tokens(&r, Some(refresh));
        if let Some(id) = &tokens.id_token
            && let Err(e) = self.validate_id_token(id, None).await
        {
            tracing::warn!(error = %e, "the refreshed ID token could not be checked and is dropped; the new tokens are kept");
            tokens.id_token = None;
        }
        Ok(tokens)
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
