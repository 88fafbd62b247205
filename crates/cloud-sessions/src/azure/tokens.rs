//! An Azure session's tokens, one `cred_store::Refreshing` cache per scope set over the
//! identity chain: the same single flight, refresh window, half-life rule and
//! serve-until-expiry as every other credential of the toolkit.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use core_types::{Clock, CredentialSource, ExposeSecret, Kinded, RefreshPolicy, SecretString, TokenSet};
use cred_store::Refreshing;

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

/// The session's credential for Azure SDK clients: a refreshing cache per scope set.
pub(crate) struct AzureTokens {
    pub(crate) chain: Arc<AzureChain>,
    caches: Mutex<HashMap<String, Refreshing<ScopeTokens>>>,
    clock: Arc<dyn Clock>,
    refresh_window: RefreshPolicy,
}

impl fmt::Debug for AzureTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureTokens").field("chain", &self.chain).finish_non_exhaustive()
    }
}

impl AzureTokens {
    pub(crate) fn new(chain: AzureChain, clock: Arc<dyn Clock>, refresh_window: RefreshPolicy) -> Self {
        Self { chain: Arc::new(chain), caches: Mutex::default(), clock, refresh_window }
    }

    /// The cache of one scope set (made on first use; tokens live in memory only).
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
                Refreshing::builder(source).refresh_window(self.refresh_window).clock(self.clock.clone()).build()
            })
            .clone()
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
        cache.get().await.map(|t| to_access_token(&t)).map_err(|e| from_store(&e))
    }
}
