use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use core_types::{AwsCredentials, CredentialSource, RefreshPolicy, TokenSet};
#[cfg(feature = "token-store")]
use cred_store::TokenStore;
use cred_store::{FleetEntry, Refreshing, SharedEntry, TokenKey};

use crate::auth::CognitoAuthenticator;
use crate::error::CognitoError;

type MakeAuth = Arc<dyn Fn() -> CognitoAuthenticator + Send + Sync>;

/// Where users' Cognito tokens persist: one [`SharedEntry`] per user (the refreshing cache
/// reads it, refreshes under its lock, writes the rotated tokens back). cred-store's
/// `TokenStore` (feature `token-store`: one 0600 file, sealed when configured) is the one
/// `ccc` uses; [`MemoryTokens`] keeps them for the process's life; implement this to keep
/// them in a keychain or a database instead.
pub trait TokenEntries: fmt::Debug + Send + Sync + 'static {
    /// The entry holding the tokens stored under `key` (it need not exist yet).
    fn entry(&self, key: TokenKey) -> Arc<dyn SharedEntry<TokenSet>>;
}

#[cfg(feature = "token-store")]
impl TokenEntries for TokenStore {
    fn entry(&self, key: TokenKey) -> Arc<dyn SharedEntry<TokenSet>> {
        Arc::new(TokenStore::entry(self, key))
    }
}

/// The fleet level for Cognito sign-ins (machines sharing one user's sign-in refresh it once
/// between them): an entry for the user's tokens and one for their AWS credentials, keyed
/// alike on every machine. cred-store's `TeamStore` (feature `team-store`, PostgreSQL) is
/// one; [`crate::CognitoProfileBuilder::fleet`] takes it.
pub trait FleetEntries: fmt::Debug + Send + Sync + 'static {
    /// The fleet entry of the tokens stored under `key`.
    fn tokens(&self, key: &TokenKey) -> Arc<dyn FleetEntry<TokenSet>>;
    /// The fleet entry of the AWS credentials of the user whose tokens are under `key`.
    fn credentials(&self, key: &TokenKey) -> Arc<dyn FleetEntry<AwsCredentials>>;
    /// Removes both entries of the user whose tokens are under `key` (their sign-in ended).
    fn forget<'a>(&'a self, key: &'a TokenKey) -> cred_store::BoxFuture<'a, Result<(), cred_store::Error>>;
}

#[cfg(feature = "team-store")]
impl FleetEntries for cred_store::TeamStore {
    fn tokens(&self, key: &TokenKey) -> Arc<dyn FleetEntry<TokenSet>> {
        Arc::new(self.entry(format!("{}|{}|{}", key.provider, key.account, key.user)))
    }
    fn credentials(&self, key: &TokenKey) -> Arc<dyn FleetEntry<AwsCredentials>> {
        Arc::new(self.entry(format!("{}-aws|{}|{}", key.provider, key.account, key.user)))
    }
    fn forget<'a>(&'a self, key: &'a TokenKey) -> cred_store::BoxFuture<'a, Result<(), cred_store::Error>> {
        Box::pin(async move {
            cred_store::TeamStore::forget(self, &format!("{}|{}|{}", key.provider, key.account, key.user)).await?;
            cred_store::TeamStore::forget(self, &format!("{}-aws|{}|{}", key.provider, key.account, key.user)).await?;
            Ok(())
        })
    }
}

/// Tokens kept in this process's memory only: a sign-in lasts as long as the process (the
/// default of a build without the `token-store` feature). Refreshes are still serialised
/// through a lock file per user in `lock_dir`.
#[derive(Debug, Clone)]
pub struct MemoryTokens {
    map: Arc<Mutex<HashMap<TokenKey, (TokenSet, SystemTime)>>>,
    lock_dir: PathBuf,
}

impl MemoryTokens {
    /// An empty store whose refresh locks live in `lock_dir`.
    pub fn new(lock_dir: impl Into<PathBuf>) -> Self {
        Self { map: Arc::default(), lock_dir: lock_dir.into() }
    }
}

impl TokenEntries for MemoryTokens {
    fn entry(&self, key: TokenKey) -> Arc<dyn SharedEntry<TokenSet>> {
        Arc::new(MemoryEntry { store: self.clone(), key })
    }
}

struct MemoryEntry {
    store: MemoryTokens,
    key: TokenKey,
}

impl MemoryEntry {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, (TokenSet, SystemTime)>> {
        self.store.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SharedEntry<TokenSet> for MemoryEntry {
    fn location(&self) -> String {
        format!("memory [{}:{}]", self.key.provider, self.key.account)
    }
    fn refresh_lock(&self) -> PathBuf {
        // a stable, file-name-safe name per key (not a security boundary)
        let name = format!("{}|{}|{}", self.key.provider, self.key.account, self.key.user);
        let hash =
            name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        self.store.lock_dir.join(format!(".memory-tokens-{hash:016x}"))
    }
    fn load(&self) -> cred_store::Result<Option<(TokenSet, Option<SystemTime>)>> {
        Ok(self.map().get(&self.key).map(|(t, at)| (t.clone(), Some(*at))))
    }
    fn store(&self, value: &TokenSet, at: SystemTime) -> cred_store::Result<()> {
        self.map().insert(self.key.clone(), (value.clone(), at));
        Ok(())
    }
    fn remove(&self) -> cred_store::Result<()> {
        self.map().remove(&self.key);
        Ok(())
    }
}

/// The authenticator, built on first use.
#[derive(Clone)]
struct LazyAuth {
    cell: Arc<OnceLock<CognitoAuthenticator>>,
    make: MakeAuth,
}

impl LazyAuth {
    fn get(&self) -> &CognitoAuthenticator {
        self.cell.get_or_init(|| (self.make)())
    }
}

/// A user's Cognito tokens, renewed with the refresh token the token store holds now.
#[derive(Clone)]
pub struct CognitoTokens {
    auth: LazyAuth,
    user: String,
    name: String,
}

impl fmt::Debug for CognitoTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoTokens").field("name", &self.name).finish_non_exhaustive()
    }
}

impl CredentialSource for CognitoTokens {
    type Output = TokenSet;
    type Error = CognitoError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<TokenSet, CognitoError> {
        self.refresh(None).await
    }

    /// A refresh spends the refresh token when the pool rotates them.
    fn spends_rotating_token(&self) -> bool {
        true
    }

    async fn refresh(&self, previous: Option<&TokenSet>) -> Result<TokenSet, CognitoError> {
        // nobody signed in here: "not loaded" to an SDK provider chain, which moves on
        let stored = previous
            .ok_or_else(|| CognitoError::NotSignedIn(format!("no stored sign-in for {}; sign in first", self.user)))?;
        let refresh = stored.refresh_token.as_ref().ok_or_else(|| {
            CognitoError::NotAuthorized(format!(
                "the stored sign-in of {} has no refresh token; sign in again",
                self.user
            ))
        })?;
        self.auth.get().refresh_credentials(refresh, Some(&self.user)).await
    }
}

/// Keeps a Cognito user signed in: turns the stored refresh token into fresh AWS
/// credentials (refresh, store the new tokens, identity pool). Wrap it in
/// `cred_store::Refreshing` to cache and single-flight the AWS credentials.
///
/// The tokens themselves are a refreshing cache over the user's token-store entry: a
/// refresh grant is sent only while the ID token is inside its refresh window, by one
/// process at a time (the entry's refresh lock), so a rotating refresh token is never
/// spent twice, and a still-valid ID token is reused for new AWS credentials.
#[derive(Clone)]
pub struct CognitoSource {
    auth: LazyAuth,
    tokens: Refreshing<CognitoTokens>,
    key: TokenKey,
    name: String,
}

impl fmt::Debug for CognitoSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoSource").field("name", &self.name).field("key", &self.key).finish_non_exhaustive()
    }
}

impl CognitoSource {
    /// The token-store key under which a user's Cognito tokens live.
    pub fn token_key(user_pool_id: &str, username: &str) -> TokenKey {
        TokenKey::new("cognito", user_pool_id, username)
    }

    /// A source for `username`, whose refresh token is in `store` (cred-store's
    /// `TokenStore`, or any [`TokenEntries`]).
    pub fn new(auth: CognitoAuthenticator, store: &impl TokenEntries, username: &str) -> Self {
        let pool = auth.config().user_pool_id.clone();
        let cell = OnceLock::new();
        let _ = cell.set(auth.clone());
        let mut s = Self::lazy(&pool, move || auth.clone(), store, username);
        s.auth.cell = Arc::new(cell);
        s
    }

    /// Like [`CognitoSource::new`], building the authenticator only when a refresh is
    /// needed: creating SDK clients loads the TLS trust store, which a cache hit (the
    /// `credential_process` warm path) should not pay for.
    pub fn lazy(
        user_pool_id: &str,
        make_auth: impl Fn() -> CognitoAuthenticator + Send + Sync + 'static,
        store: &(impl TokenEntries + ?Sized),
        username: &str,
    ) -> Self {
        Self::lazy_in(user_pool_id, make_auth, store, None, username, TokenTiming::default())
    }

    /// [`CognitoSource::lazy`], the tokens' refreshes coordinated across machines through
    /// `fleet` when given, and renewed inside `timing`'s window on its clock (the profile's:
    /// the same window and clock as the credentials over them).
    pub(crate) fn lazy_in(
        user_pool_id: &str,
        make_auth: impl Fn() -> CognitoAuthenticator + Send + Sync + 'static,
        store: &(impl TokenEntries + ?Sized),
        fleet: Option<&dyn FleetEntries>,
        username: &str,
        timing: TokenTiming,
    ) -> Self {
        let auth = LazyAuth { cell: Arc::new(OnceLock::new()), make: Arc::new(make_auth) };
        let key = Self::token_key(user_pool_id, username);
        let name = format!("cognito:{user_pool_id}:{username}");
        // the same name as the credentials over them: a failure is reported once, by the tokens
        let tokens = CognitoTokens { auth: auth.clone(), user: username.to_owned(), name: name.clone() };
        let mut tokens = Refreshing::builder(tokens)
            .refresh_window(timing.window)
            .clock(timing.clock)
            .shared(store.entry(key.clone()));
        if let Some(fleet) = fleet {
            tokens = tokens.fleet(fleet.tokens(&key));
        }
        let tokens = tokens.build();
        Self { auth, tokens, key, name }
    }

    /// The user's tokens (refreshed once across processes when due).
    pub fn tokens(&self) -> &Refreshing<CognitoTokens> {
        &self.tokens
    }
}

impl CredentialSource for CognitoSource {
    type Output = AwsCredentials;
    type Error = CognitoError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<AwsCredentials, CognitoError> {
        // boxed: a refreshing cache inside a refreshing cache nests deep futures
        let tokens = Box::pin(self.tokens.get()).await?;
        let id_token = tokens
            .id_token
            .as_ref()
            .ok_or_else(|| CognitoError::Invalid("the stored sign-in has no ID token".into()))?;
        self.auth.get().get_aws_credentials(id_token).await
    }
}

/// When a user's tokens are renewed: inside `window` of their expiry, on `clock`.
#[derive(Clone)]
pub(crate) struct TokenTiming {
    pub(crate) window: RefreshPolicy,
    pub(crate) clock: std::sync::Arc<dyn core_types::Clock>,
}

impl Default for TokenTiming {
    fn default() -> Self {
        Self { window: RefreshPolicy::default(), clock: std::sync::Arc::new(core_types::SystemClock) }
    }
}
