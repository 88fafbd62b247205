//! An Azure session's tokens, one `cred_store::Refreshing` cache per scope set over the
//! identity chain: the same single flight, refresh window, half-life rule and
//! serve-until-expiry as every other credential of the toolkit, and (with a token store) the
//! same machine level: kept 0600 between processes, renewed by one process at a time.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use core_types::{Clock, CredentialSource, ExposeSecret, Kinded, RefreshPolicy, SecretString, TokenSet};
use cred_store::{Refreshing, TokenKey, TokenStore};

use super::chain::{AzureChain, ChainFailure, chain_error, to_system};

/// The chain asked for one scope set.
struct ScopeTokens {
    chain: Arc<AzureChain>,
    scopes: Vec<String>,
    name: String,
}

impl CredentialSource for ScopeTokens {
    type Output = TokenSet;
    type Error = ChainFailure;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<TokenSet, ChainFailure> {
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let t = self.chain.fetch(&scopes).await?;
        Ok(TokenSet {
            access_token: Some(SecretString::from(t.token.secret().to_owned())),
            token_type: Some("Bearer".into()),
            scopes: self.scopes.clone(),
            expires_at: Some(to_system(t.expires_on)),
            ..TokenSet::default()
        })
    }
}

fn to_access_token(t: &TokenSet) -> AccessToken {
    let secret = t.access_token.as_ref().map(|s| s.expose_secret().to_owned()).unwrap_or_default();
    let expires = t.expires_at.unwrap_or(SystemTime::UNIX_EPOCH);
    let secs = expires.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
    let expires_on = azure_core::time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(azure_core::time::OffsetDateTime::UNIX_EPOCH);
    AccessToken::new(Secret::new(secret), expires_on)
}

/// Where a session's tokens are kept between processes: the store, and the key's
/// authority/tenant and identity parts (the scope set completes it).
pub(crate) struct Persist {
    pub(crate) store: TokenStore,
    pub(crate) account: String,
    pub(crate) who: String,
}

/// The session's credential for Azure SDK clients: a refreshing cache per scope set, in
/// memory and, with a [`Persist`], in the token store too.
pub(crate) struct AzureTokens {
    pub(crate) chain: Arc<AzureChain>,
    caches: Mutex<HashMap<String, Refreshing<ScopeTokens>>>,
    clock: Arc<dyn Clock>,
    refresh_window: RefreshPolicy,
    persist: Option<Persist>,
    /// Whether a token was served (from the chain or the token store).
    pub(crate) served: AtomicBool,
}

impl fmt::Debug for AzureTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureTokens").field("chain", &self.chain).finish_non_exhaustive()
    }
}

impl AzureTokens {
    pub(crate) fn new(
        chain: AzureChain,
        clock: Arc<dyn Clock>,
        refresh_window: RefreshPolicy,
        persist: Option<Persist>,
    ) -> Self {
        Self {
            chain: Arc::new(chain),
            caches: Mutex::default(),
            clock,
            refresh_window,
            persist,
            served: AtomicBool::new(false),
        }
    }

    /// The token store's key of one scope set.
    pub(crate) fn cache_key(&self, scopes: &str) -> Option<TokenKey> {
        self.persist.as_ref().map(|p| TokenKey::new("azure", &p.account, format!("{} scopes={scopes}", p.who)))
    }

    /// The cache of one scope set (made on first use).
    fn cache(&self, scopes: &[&str]) -> Refreshing<ScopeTokens> {
        let key = scopes.join(" ");
        let mut caches = self.caches.lock().unwrap_or_else(PoisonError::into_inner);
        caches
            .entry(key.clone())
            .or_insert_with(|| {
                let source = ScopeTokens {
                    chain: self.chain.clone(),
                    scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                    name: format!("azure:{}:{key}", self.chain.session),
                };
                let builder = Refreshing::builder(source).refresh_window(self.refresh_window).clock(self.clock.clone());
                match (&self.persist, self.cache_key(&key)) {
                    (Some(p), Some(k)) => builder.shared(p.store.entry(k)).build(),
                    _ => builder.build(),
                }
            })
            .clone()
    }

    /// Forgets every token of this session's identity: the ones in memory and, with a token
    /// store, every scope set's entry there (whichever process kept it). How many entries of
    /// the store went.
    pub(crate) fn forget(&self) -> Result<usize, cred_store::Error> {
        self.caches.lock().unwrap_or_else(PoisonError::into_inner).clear();
        let Some(p) = &self.persist else { return Ok(0) };
        let prefix = format!("{} scopes=", p.who);
        let mut gone = 0;
        for key in p.store.keys()? {
            if key.provider == "azure" && key.account == p.account && key.user.starts_with(&prefix) {
                gone += usize::from(p.store.remove(&key)?);
            }
        }
        Ok(gone)
    }

    /// Re-obtains every cached scope set's token now (rotation). A failure keeps the cached
    /// tokens, which stay valid until their own expiry, and is returned.
    pub(crate) async fn renew_all(&self) -> Result<usize, azure_core::Error> {
        let caches: Vec<Refreshing<ScopeTokens>> =
            self.caches.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        for cache in &caches {
            cache.refresh_now().await.map_err(|e| from_store(&e))?;
        }
        Ok(caches.len())
    }
}

/// A refreshing-cache failure as azure_core's error, its kind kept for `azure_error`.
fn from_store(e: &cred_store::Error) -> azure_core::Error {
    let message = match e {
        // the chain's own words (which credentials were tried, and why each failed)
        cred_store::Error::Refresh { message, .. } => message.clone(),
        other => other.to_string(),
    };
    chain_error(e.kind(), message)
}

#[async_trait]
impl TokenCredential for AzureTokens {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        if scopes.is_empty() {
            return Err(azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, "no scopes given"));
        }
        let cache = self.cache(scopes);
        let token = cache.get().await.map(|t| to_access_token(&t)).map_err(|e| from_store(&e))?;
        self.served.store(true, Ordering::Relaxed);
        Ok(token)
    }
}
