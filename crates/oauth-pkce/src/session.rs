//! `OAuthSession`: hands out a valid access token, refreshing through cred-store's refreshing
//! cache, so any number of tasks share one refresh.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use core_types::{CredentialSource, RefreshPolicy, SecretString, TokenSet};
use cred_store::{FleetEntry, Refreshing, RefreshingBuilder, SharedEntry};

use crate::client::OAuthClient;
use crate::config::OAuthConfig;
use crate::error::OAuthError;

/// Renews an OAuth token set from the latest refresh token (the one the refreshing cache
/// read under its refresh lock; rotated ones replace it), or client credentials.
pub struct OAuthSource {
    /// The client: given, or discovered from `config` on the first refresh.
    client: Arc<tokio::sync::OnceCell<OAuthClient>>,
    config: OAuthConfig,
    current: Mutex<TokenSet>,
    name: String,
}

impl OAuthSource {
    async fn client(&self) -> Result<&OAuthClient, OAuthError> {
        self.client.get_or_try_init(|| OAuthClient::discover(self.config.clone())).await
    }
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
        self.refresh(None).await
    }

    /// A refresh grant spends the refresh token when the provider rotates them.
    fn spends_rotating_token(&self) -> bool {
        true
    }

    async fn refresh(&self, previous: Option<&TokenSet>) -> Result<TokenSet, OAuthError> {
        // `previous` is what the shared entry holds now: another process may have rotated
        // the refresh token since this one started
        let current = match previous {
            Some(p) => p.clone(),
            None => self.current.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        };
        let fresh = self.client().await?.refresh(&current).await?;
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
    /// A session starting from `tokens` (e.g. just obtained by a sign-in), kept in memory.
    pub async fn new(client: OAuthClient, tokens: TokenSet, policy: RefreshPolicy) -> Result<Self, OAuthError> {
        let session = Self { cache: Self::builder(client, tokens.clone(), policy).build() };
        session.cache.seed(tokens).await?;
        Ok(session)
    }

    /// A session whose tokens were just obtained by a sign-in and are now stored in
    /// `entry`, so every process using the store shares one rotation chain.
    ///
    /// `entry` is where the token set persists: cred-store's file token store
    /// (`TokenStore::entry`, feature `token-store`), or any [`SharedEntry`] the caller implements (an
    /// encrypted file, a secret manager), whose `refresh_lock` file serialises refreshes.
    pub async fn with_store(
        client: OAuthClient,
        tokens: TokenSet,
        policy: RefreshPolicy,
        entry: impl SharedEntry<TokenSet>,
    ) -> Result<Self, OAuthError> {
        let session = Self { cache: Self::builder(client, tokens.clone(), policy).shared(entry).build() };
        session.cache.seed(tokens).await?;
        Ok(session)
    }

    /// A session over tokens already in `entry` (stored by an earlier sign-in, perhaps
    /// rotated by another process since). Nothing is written until a refresh is due; then
    /// exactly one process on the machine spends the refresh token, under the entry's
    /// refresh lock, and the others read its result.
    pub fn from_store(client: OAuthClient, policy: RefreshPolicy, entry: impl SharedEntry<TokenSet>) -> Self {
        Self { cache: Self::builder(client, TokenSet::default(), policy).shared(entry).build() }
    }

    /// Like [`OAuthSession::from_store`], asking the issuer for its discovery document only
    /// when a refresh is due: a process that finds a valid token in `entry` (a
    /// `credential_process`-style helper run once per call) makes no network call at all, and
    /// serves it while the issuer is unreachable.
    pub fn discovering(config: OAuthConfig, policy: RefreshPolicy, entry: impl SharedEntry<TokenSet>) -> Self {
        Self { cache: Self::discovering_builder(config, policy).shared(entry).build() }
    }

    /// Like [`OAuthSession::discovering`], with the fleet level above the machine: when the
    /// machine's tokens are due, the machines sharing `fleet` (e.g. cred-store's `TeamStore`
    /// entry on PostgreSQL) refresh them once between them, so a rotating refresh token is
    /// never spent twice across the fleet.
    pub fn discovering_in_fleet(
        config: OAuthConfig,
        policy: RefreshPolicy,
        entry: impl SharedEntry<TokenSet>,
        fleet: impl FleetEntry<TokenSet>,
    ) -> Self {
        Self { cache: Self::discovering_builder(config, policy).shared(entry).fleet(fleet).build() }
    }

    fn discovering_builder(config: OAuthConfig, policy: RefreshPolicy) -> RefreshingBuilder<OAuthSource> {
        let name = format!("oauth:{}", config.client_id);
        let source = OAuthSource { client: Arc::default(), config, current: Mutex::new(TokenSet::default()), name };
        Refreshing::builder(source).refresh_window(policy)
    }

    fn builder(client: OAuthClient, tokens: TokenSet, policy: RefreshPolicy) -> RefreshingBuilder<OAuthSource> {
        let name = format!("oauth:{}", client.config.client_id);
        let clock = client.clock.clone();
        let config = client.config.clone();
        let client = Arc::new(tokio::sync::OnceCell::new_with(Some(client)));
        let source = OAuthSource { client, config, current: Mutex::new(tokens), name };
        Refreshing::builder(source).refresh_window(policy).clock(clock)
    }

    /// A valid access token (refreshed once, however many tasks ask at the same moment).
    pub async fn access_token(&self) -> Result<SecretString, OAuthError> {
        let tokens = self.cache.get().await?;
        tokens.access_token.ok_or_else(|| OAuthError::Invalid("the token set has no access token".into()))
    }

    /// New tokens now, whatever is left of the current ones (same single flight as
    /// [`OAuthSession::access_token`]).
    pub async fn refresh_now(&self) -> Result<TokenSet, OAuthError> {
        Ok(self.cache.refresh_now().await?)
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
            config: self.config.clone(),
            current: Mutex::new(self.current.lock().unwrap_or_else(PoisonError::into_inner).clone()),
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
