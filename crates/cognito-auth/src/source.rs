use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use core_types::{AwsCredentials, CredentialSource};
use cred_store::{TokenKey, TokenStore};

use crate::auth::CognitoAuthenticator;
use crate::error::CognitoError;

/// Keeps a Cognito user signed in: turns the stored refresh token into fresh AWS
/// credentials (refresh, store the new tokens, identity pool). Wrap it in
/// `cred_store::Refreshing` to cache and single-flight it.
#[derive(Clone)]
pub struct CognitoSource {
    auth: Arc<OnceLock<CognitoAuthenticator>>,
    make_auth: Arc<dyn Fn() -> CognitoAuthenticator + Send + Sync>,
    store: TokenStore,
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

    /// A source for `username`, whose refresh token is in `store`.
    pub fn new(auth: CognitoAuthenticator, store: TokenStore, username: &str) -> Self {
        let pool = auth.config().user_pool_id.clone();
        let cell = OnceLock::new();
        let _ = cell.set(auth.clone());
        let mut s = Self::lazy(&pool, move || auth.clone(), store, username);
        s.auth = Arc::new(cell);
        s
    }

    /// Like [`CognitoSource::new`], building the authenticator only when a refresh is
    /// needed: creating SDK clients loads the TLS trust store, which a cache hit (the
    /// `credential_process` warm path) should not pay for.
    pub fn lazy(
        user_pool_id: &str,
        make_auth: impl Fn() -> CognitoAuthenticator + Send + Sync + 'static,
        store: TokenStore,
        username: &str,
    ) -> Self {
        Self {
            auth: Arc::new(OnceLock::new()),
            make_auth: Arc::new(make_auth),
            store,
            key: Self::token_key(user_pool_id, username),
            name: format!("cognito:{user_pool_id}:{username}"),
        }
    }

    fn auth(&self) -> &CognitoAuthenticator {
        self.auth.get_or_init(|| (self.make_auth)())
    }
}

impl CredentialSource for CognitoSource {
    type Output = AwsCredentials;
    type Error = CognitoError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<AwsCredentials, CognitoError> {
        let stored = self.store.get(&self.key)?.ok_or_else(|| {
            CognitoError::NotAuthorized(format!("no stored sign-in for {}; run `ccc login`", self.key.user))
        })?;
        let refresh = stored.refresh_token.as_ref().ok_or_else(|| {
            CognitoError::NotAuthorized("the stored sign-in has no refresh token; run `ccc login`".into())
        })?;
        let tokens = self.auth().refresh_credentials(refresh, Some(&self.key.user)).await?;
        self.store.put(&self.key, &tokens)?;
        let id_token =
            tokens.id_token.as_ref().ok_or_else(|| CognitoError::Invalid("refresh returned no ID token".into()))?;
        self.auth().get_aws_credentials(id_token).await
    }
}
