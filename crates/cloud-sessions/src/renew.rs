//! Sessions whose credentials come from a refreshing cache (role, Cognito, SSO): how rotation
//! re-obtains them, and how the Cognito and SSO kinds are built (behind their features).

use std::sync::Arc;

use core_types::{AwsCredentials, CredentialSource};
use cred_store::Refreshing;

use crate::error::SessionError;
use crate::refs::BoxFuture;

/// A source error as a `SessionError` of its session.
pub(crate) trait IntoSessionError {
    fn into_session_error(self, session: &str) -> SessionError;
}

impl IntoSessionError for SessionError {
    fn into_session_error(self, _session: &str) -> SessionError {
        self
    }
}

#[cfg(any(feature = "cognito", feature = "sso"))]
fn credentials_error(e: impl core_types::Kinded + std::fmt::Display, session: &str) -> SessionError {
    SessionError::Credentials { session: session.to_owned(), kind: e.kind(), message: e.to_string() }
}

#[cfg(feature = "cognito")]
impl IntoSessionError for cognito_auth::CognitoError {
    fn into_session_error(self, session: &str) -> SessionError {
        credentials_error(self, session)
    }
}

#[cfg(feature = "sso")]
impl IntoSessionError for sso_refresh::SsoError {
    fn into_session_error(self, session: &str) -> SessionError {
        credentials_error(self, session)
    }
}

type Fetch = Arc<dyn Fn() -> BoxFuture<'static, Result<AwsCredentials, SessionError>> + Send + Sync>;
type Seed = Arc<dyn Fn(AwsCredentials) -> BoxFuture<'static, Result<(), cred_store::Error>> + Send + Sync>;

/// Re-obtains a session's credentials from upstream and installs them in its cache.
#[derive(Clone)]
pub(crate) struct Renewer {
    pub(crate) fetch: Fetch,
    pub(crate) seed: Seed,
}

impl Renewer {
    /// Over `cache`, naming errors after `session`.
    pub(crate) fn new<S>(session: &str, cache: Refreshing<S>) -> Self
    where
        S: CredentialSource<Output = AwsCredentials>,
        S::Error: IntoSessionError,
    {
        let (name, c) = (session.to_owned(), cache.clone());
        let fetch: Fetch = Arc::new(move || {
            let (name, c) = (name.clone(), c.clone());
            Box::pin(async move { c.source().fetch().await.map_err(|e| e.into_session_error(&name)) })
        });
        let seed: Seed = Arc::new(move |fresh| {
            let c = cache.clone();
            Box::pin(async move { c.seed(fresh).await })
        });
        Self { fetch, seed }
    }
}

/// A `cognito:` session's credentials: the ccc configuration's user pool and identity pool,
/// the user's stored refresh token (from `ccc login`), kept fresh in a refreshing cache.
#[cfg(feature = "cognito")]
pub(crate) fn cognito_cache(
    session: &str,
    config_file: &std::path::Path,
    username: &str,
    store: cred_store::TokenStore,
    sdk: &aws_config::SdkConfig,
    options: &crate::ManagerOptions,
) -> Result<Refreshing<cognito_auth::CognitoSource>, SessionError> {
    let text = std::fs::read_to_string(config_file).map_err(|e| SessionError::Config {
        path: config_file.display().to_string(),
        message: format!("cannot read the ccc configuration: {e}; run `ccc configure`"),
    })?;
    let ccc: cred_store::CccConfig = serde_json::from_str(&text).map_err(|e| SessionError::Config {
        path: config_file.display().to_string(),
        message: format!("not a valid ccc configuration (line {}, column {})", e.line(), e.column()),
    })?;
    let config = cognito_auth::CognitoConfig::from_ccc_config(&ccc).map_err(|e| e.into_session_error(session))?;
    if config.identity_pool_id.is_none() {
        return Err(SessionError::Config {
            path: config_file.display().to_string(),
            message: "a cognito session needs identity_pool_id in the ccc configuration (run `ccc configure`)".into(),
        });
    }
    let auth = cognito_auth::CognitoAuthenticator::new(config, sdk).with_clock(options.clock.clone());
    let source = cognito_auth::CognitoSource::new(auth, store, username);
    Ok(Refreshing::builder(source).policy(options.refresh).clock(options.clock.clone()).build())
}

/// An `sso_profile:` session's credentials: sso-refresh's self-refreshing provider, configured
/// from the manager's environment (`AWS_SSO_REFRESH_WINDOW`, `AWS_SSO_MAX_RETRIES`, ...).
#[cfg(feature = "sso")]
pub(crate) async fn sso_cache(
    session: &str,
    profile: &str,
    paths: &cred_store::Paths,
    sdk: &aws_config::SdkConfig,
    options: &crate::ManagerOptions,
) -> Result<Refreshing<sso_refresh::SsoSource>, SessionError> {
    let env = options.env.clone();
    let config = sso_refresh::SsoConfig::from_lookup(move |k| env(k)).map_err(|e| e.into_session_error(session))?;
    let sso = sso_refresh::AwsSso::builder(config, paths, profile)
        .sdk_config(sdk)
        .clock(options.clock.clone())
        .margin(options.refresh)
        .build()
        .await
        .map_err(|e| e.into_session_error(session))?;
    Ok(sso.credentials_provider())
}
