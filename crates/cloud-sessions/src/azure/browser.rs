//! Interactive sign-in to Entra ID for development machines. azure_identity 1.0 has no
//! interactive credential, so this is oauth-pkce's authorization code + PKCE flow with a
//! loopback redirect, or its device authorization grant, against the tenant's v2.0 authority; the refresh token is kept in the
//! token store, and each `get_token` redeems it for the scopes asked (Entra issues a token for
//! any resource the sign-in consented to), one process at a time (the entry's refresh lock),
//! so a rotating refresh token is never spent twice.

use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use core_types::{ErrorKind, ExposeSecret, TokenSet};
use cred_store::{SharedEntry as _, TokenKey, TokenStore};
use oauth_pkce::{OAuthClient, OAuthConfig};

use super::ENTRA;
use super::chain::chain_error;

/// How long a `get_token` waits for another process redeeming the same refresh token.
const REDEEM_LOCK_WAIT: Duration = Duration::from_secs(30);

/// A developer's Entra sign-in, kept in the token store.
pub(crate) struct BrowserCredential {
    /// `{authority}/{tenant}/v2.0`.
    pub(crate) issuer: String,
    pub(crate) client_id: String,
    pub(crate) store: TokenStore,
    pub(crate) clock: std::sync::Arc<dyn core_types::Clock>,
}

impl fmt::Debug for BrowserCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrowserCredential").field("issuer", &self.issuer).field("client_id", &self.client_id).finish()
    }
}

impl BrowserCredential {
    /// The issuer of `tenant` (default `organizations`) at `authority` (default Entra's).
    pub(crate) fn issuer(authority: Option<&str>, tenant: Option<&str>) -> String {
        format!("{}/{}/v2.0", authority.unwrap_or(ENTRA).trim_end_matches('/'), tenant.unwrap_or("organizations"))
    }

    fn key(&self) -> TokenKey {
        TokenKey::new("azure-browser", &self.issuer, &self.client_id)
    }

    async fn client(&self, scopes: &[&str]) -> Result<OAuthClient, oauth_pkce::OAuthError> {
        let mut config = OAuthConfig::new(&self.issuer, &self.client_id);
        config.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        OAuthClient::discover(config).await
    }

    /// Signs in with the browser (`open` shows or opens the page; it returns whether a
    /// browser was started) and keeps the tokens. `scopes` are consented to now (`openid` and
    /// `offline_access` are added).
    pub(crate) async fn sign_in(
        &self,
        scopes: &[&str],
        open: impl FnOnce(&reqwest::Url) -> bool,
        timeout: Duration,
    ) -> Result<SystemTime, String> {
        let client = self.client(&with_sign_in_scopes(scopes)).await.map_err(|e| e.to_string())?;
        let tokens = client.login_with_loopback(open, timeout).await.map_err(|e| e.to_string())?;
        self.store.put(&self.key(), &tokens).map_err(|e| e.to_string())?;
        Ok(tokens.expires_at.unwrap_or(SystemTime::UNIX_EPOCH))
    }

    /// Signs in with the device authorization grant (for a machine without a browser: the
    /// person opens the page elsewhere and types the code `show` is given) and keeps the
    /// tokens. `scopes` as for [`Self::sign_in`].
    pub(crate) async fn device_sign_in(
        &self,
        scopes: &[&str],
        show: impl FnOnce(&oauth_pkce::DeviceAuthorization),
        timeout: Duration,
    ) -> Result<SystemTime, String> {
        let client = self.client(&with_sign_in_scopes(scopes)).await.map_err(|e| e.to_string())?;
        let device = client.device_authorization().await.map_err(|e| e.to_string())?;
        show(&device);
        let tokens = client.poll_device_token(&device, timeout).await.map_err(|e| e.to_string())?;
        self.store.put(&self.key(), &tokens).map_err(|e| e.to_string())?;
        Ok(tokens.expires_at.unwrap_or(SystemTime::UNIX_EPOCH))
    }

    /// Forgets the kept sign-in; whether there was one.
    pub(crate) fn sign_out(&self) -> Result<bool, String> {
        self.store.remove(&self.key()).map_err(|e| e.to_string())
    }

    /// A token for `scopes` from the kept refresh token, redeemed under the entry's lock.
    async fn redeem(&self, scopes: &[&str]) -> azure_core::Result<AccessToken> {
        let entry = self.store.entry(self.key());
        let lock = entry.refresh_lock();
        let _lock = tokio::task::spawn_blocking(move || cred_store::fsutil::lock_within(&lock, REDEEM_LOCK_WAIT))
            .await
            .map_err(|e| chain_error(ErrorKind::Unavailable, format!("lock task failed: {e}")))?
            .map_err(|e| chain_error(ErrorKind::Unavailable, e.to_string()))?;
        let stored = self.store.get(&self.key()).map_err(|e| chain_error(ErrorKind::Io, e.to_string()))?;
        let Some(refresh) = stored.and_then(|t: TokenSet| t.refresh_token) else {
            return Err(chain_error(
                ErrorKind::NotConfigured,
                format!("not signed in to {} with the browser yet; sign in first", self.issuer),
            ));
        };
        let client = self.client(scopes).await.map_err(|e| chain_error(e_kind(&e), e.to_string()))?;
        let mut asked = scopes.to_vec();
        if !asked.contains(&"offline_access") {
            asked.push("offline_access");
        }
        let fresh =
            client.refresh_token_for(&refresh, &asked).await.map_err(|e| chain_error(e_kind(&e), e.to_string()))?;
        // the rotated refresh token is kept before anyone else may redeem
        self.store.put(&self.key(), &fresh).map_err(|e| chain_error(ErrorKind::Io, e.to_string()))?;
        let token = fresh
            .access_token
            .ok_or_else(|| chain_error(ErrorKind::Unavailable, "the token answer has no access token".into()))?;
        let expires = fresh.expires_at.unwrap_or_else(|| self.clock.now() + Duration::from_secs(300));
        Ok(AccessToken::new(Secret::new(token.expose_secret().to_owned()), expires.into()))
    }
}

/// `openid` and `offline_access` (a refresh token), then `scopes`.
fn with_sign_in_scopes<'a>(scopes: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["openid", "offline_access"];
    for s in scopes {
        if !all.contains(s) {
            all.push(s);
        }
    }
    all
}

fn e_kind(e: &oauth_pkce::OAuthError) -> ErrorKind {
    core_types::Kinded::kind(e)
}

#[async_trait]
impl TokenCredential for BrowserCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.redeem(scopes).await
    }
}
