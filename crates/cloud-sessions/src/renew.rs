//! Sessions whose credentials come from a refreshing cache (role, Cognito, SSO): how rotation
//! re-obtains them, and how a Cognito base is built (behind its feature).

use std::sync::Arc;

use core_types::{AwsCredentials, CredentialSource};
use cred_store::Refreshing;

use aws_credential_types::provider::SharedCredentialsProvider;

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

pub(crate) type Fetch = Arc<dyn Fn() -> BoxFuture<'static, Result<AwsCredentials, SessionError>> + Send + Sync>;
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

/// One step's credentials: its provider, its typed fetch, and (for a refreshing cache) how
/// rotation renews it and the entry file the warm path reads.
pub(crate) struct Step {
    pub provider: SharedCredentialsProvider,
    pub fetch: Fetch,
    pub renewer: Option<Renewer>,
    pub entry: Option<cred_store::warm::Entry>,
}

/// A refreshing cache as a step of a plan.
pub(crate) fn refreshing_step<S>(name: &str, cache: Refreshing<S>) -> Step
where
    S: CredentialSource<Output = AwsCredentials>,
    S::Error: crate::renew::IntoSessionError,
{
    Step {
        entry: cache.entry_file().map(|f| cred_store::warm::Entry::new(f.to_owned(), cache.policy())),
        renewer: Some(Renewer::new(name, cache.clone())),
        fetch: fetch_from(&cache),
        provider: SharedCredentialsProvider::new(cache),
    }
}

/// A refreshing cache's credentials, its errors kept.
fn fetch_from<S>(cache: &Refreshing<S>) -> Fetch
where
    S: CredentialSource<Output = AwsCredentials>,
{
    let cache = cache.clone();
    Arc::new(move || {
        let cache = cache.clone();
        Box::pin(async move { cache.get().await.map_err(SessionError::from) })
    })
}

/// A Cognito user's credentials (a plan's `Base::Cognito`): the ccc configuration's user pool
/// and identity pool, the user's stored refresh token (from `ccc login`), kept fresh in a
/// refreshing cache with the manager's clock and window, through the team store when the
/// session shares its refreshes. `default` names `~/.ccc/config.json`.
#[cfg(feature = "cognito")]
pub(crate) fn cognito(
    name: &str,
    sdk: &aws_config::SdkConfig,
    options: &crate::options::ManagerOptions,
    config_file: &str,
    profile: Option<&str>,
    username: &str,
    team: Option<&crate::team::Team>,
) -> Result<Step, SessionError> {
    let paths = options.resolved_paths()?;
    let config_file = match config_file {
        "default" | "~/.ccc/config.json" => paths.ccc_config_file(),
        other => std::path::PathBuf::from(other),
    };
    let ccc = cred_store::load_config_from(&config_file).map_err(|e| SessionError::Config {
        path: config_file.display().to_string(),
        message: format!("cannot read the ccc configuration: {e}"),
    })?;
    let config = match profile {
        Some(p) => cognito_auth::CognitoConfig::for_profile(&ccc, p),
        None => cognito_auth::CognitoConfig::from_ccc_config(&ccc),
    }
    .map_err(|e| e.into_session_error(name))?;
    if config.identity_pool_id.is_none() {
        return Err(SessionError::Config {
            path: config_file.display().to_string(),
            message: "a cognito session needs identity_pool_id in the ccc configuration".into(),
        });
    }
    // the user pool's region, whatever region the other calls go to
    let sdk = sdk.to_builder().region(aws_config::Region::new(config.region.clone())).build();
    let mut profile = cognito_auth::CognitoProfile::for_user(config, &paths, username)
        .sdk_config(&sdk)
        .clock(options.clock.clone())
        .refresh_window(options.refresh_window)
        .lock_wait(options.lock_wait);
    if let Some(store) = &options.token_store {
        profile = profile.token_store(store.clone());
    }
    let cache =
        crate::team::cognito_fleet(profile, team).build().credentials().map_err(|e| e.into_session_error(name))?;
    Ok(refreshing_step(name, cache))
}

#[cfg(not(feature = "cognito"))]
pub(crate) fn cognito(
    name: &str,
    _sdk: &aws_config::SdkConfig,
    _options: &crate::options::ManagerOptions,
    _config_file: &str,
    _profile: Option<&str>,
    _username: &str,
    _team: Option<&crate::team::Team>,
) -> Result<Step, SessionError> {
    Err(SessionError::Unsupported {
        name: name.to_owned(),
        message: "Cognito sessions need cloud-sessions built with the `cognito` feature".into(),
    })
}
