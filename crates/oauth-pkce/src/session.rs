//! `OAuthSession`: hands out a valid access token, refreshing through cred-store's refreshing
//! cache, so any number of tasks share one refresh.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use core_types::{CredentialSource, RefreshPolicy, SecretString, TokenSet};
use cred_store::{Refreshing, TokenKey, TokenStore};

use crate::client::OAuthClient;
use crate::error::OAuthError;

/// Renews an OAuth token set: the latest refresh token (rotated ones replace it, in memory
/// and in the optional token store), or client credentials.
pub struct OAuthSource {
    client: OAuthClient,
    current: Mutex<TokenSet>,
    store: Option<(TokenStore, TokenKey)>,
    name: String,
}

impl fmt::Debug for OAuthSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSource").field("name", &self.name).finish_non_exhaustive()
    }
}

impl CredentialSource for OAuthSource {
    type Output = TokenSet;
    type Error = OAuthError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<TokenSet, OAuthError> {
        // another process may have rotated the refresh token: the store has the latest
        let current = match &self.store {
            Some((store, key)) => match store.get(key)? {
                Some(t) => t,
                None => self.current.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            },
            None => self.current.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        };
        let fresh = self.client.refresh(&current).await?;
        if let Some((store, key)) = &self.store {
            store.put(key, &fresh)?;
        }
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = fresh.clone();
        Ok(fresh)
    }
}

/// A signed-in session that always has a valid access token to give.
#[derive(Clone, Debug)]
pub struct OAuthSession {
    cache: Refreshing<OAuthSource>,
}

impl OAuthSession {
    /// A session starting from `tokens` (e.g. just obtained by a sign-in).
    pub async fn new(client: OAuthClient, tokens: TokenSet, policy: RefreshPolicy) -> Result<Self, OAuthError> {
        Self::build(client, tokens, policy, None).await
    }

    /// A session whose tokens also live in `store` under `key`, so every process using the
    /// store shares one rotation chain.
    pub async fn with_store(
        client: OAuthClient,
        tokens: TokenSet,
        policy: RefreshPolicy,
        store: TokenStore,
        key: TokenKey,
    ) -> Result<Self, OAuthError> {
        store.put(&key, &tokens)?;
        Self::build(client, tokens, policy, Some((store, key))).await
    }

    async fn build(
        client: OAuthClient,
        tokens: TokenSet,
        policy: RefreshPolicy,
        store: Option<(TokenStore, TokenKey)>,
    ) -> Result<Self, OAuthError> {
        let name = format!("oauth:{}", client.config.client_id);
        let clock = client.clock.clone();
        let source = OAuthSource { client, current: Mutex::new(tokens.clone()), store, name };
        let cache = Refreshing::builder(source).policy(policy).clock(clock).build();
        cache.seed(tokens).await?;
        Ok(Self { cache })
    }

    /// A valid access token (refreshed once, however many tasks ask at the same moment).
    pub async fn access_token(&self) -> Result<SecretString, OAuthError> {
        let tokens = self.cache.get().await?;
        tokens.access_token.ok_or_else(|| OAuthError::Invalid("the token set has no access token".into()))
    }

    /// The current token set.
    pub async fn tokens(&self) -> Result<TokenSet, OAuthError> {
        Ok(self.cache.get().await?)
    }
}

impl Clone for OAuthSource {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            current: Mutex::new(self.current.lock().unwrap_or_else(PoisonError::into_inner).clone()),
            store: self.store.clone(),
            name: self.name.clone(),
        }
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<OAuthSession>();
    is::<Arc<OAuthSource>>();
}
