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

/// What building a Cognito or SSO session needs.
pub(crate) struct Ctx<'a> {
    pub name: &'a str,
    /// The declaration's index (named by errors of a build without a feature).
    #[cfg_attr(all(feature = "cognito", feature = "sso"), expect(dead_code))]
    pub index: usize,
    /// Region and endpoint, no credentials (their calls are unsigned or bearer-token ones).
    #[cfg_attr(not(any(feature = "cognito", feature = "sso")), expect(dead_code))]
    pub sdk: &'a aws_config::SdkConfig,
    #[cfg_attr(not(any(feature = "cognito", feature = "sso")), expect(dead_code))]
    pub options: &'a crate::options::ManagerOptions,
}

type Built = (aws_credential_types::provider::SharedCredentialsProvider, Renewer);

impl Ctx<'_> {
    #[cfg(any(feature = "cognito", feature = "sso"))]
    fn paths(&self) -> Result<cred_store::Paths, SessionError> {
        match &self.options.paths {
            Some(p) => Ok(p.clone()),
            None => Ok(cred_store::Paths::from_lookup(|k| (self.options.env)(k))?),
        }
    }

    #[cfg(any(feature = "cognito", feature = "sso"))]
    fn built<S>(&self, cache: Refreshing<S>) -> Built
    where
        S: CredentialSource<Output = AwsCredentials>,
        S::Error: IntoSessionError,
    {
        let renewer = Renewer::new(self.name, cache.clone());
        (aws_credential_types::provider::SharedCredentialsProvider::new(cache), renewer)
    }

    #[cfg(not(all(feature = "cognito", feature = "sso")))]
    fn missing(&self, field: &str) -> SessionError {
        SessionError::Unsupported {
            name: self.name.to_owned(),
            message: format!(
                "cloud_sessions[{}].{field} needs cloud-sessions built with the `{}` feature",
                self.index,
                if field == "cognito" { "cognito" } else { "sso" }
            ),
        }
    }
}

/// A `cognito:` session's credentials: the ccc configuration's user pool and identity pool,
/// the user's stored refresh token (from `ccc login`), kept fresh in a refreshing cache.
/// `default` names `~/.ccc/config.json`.
#[cfg(feature = "cognito")]
pub(crate) fn cognito(
    ctx: &Ctx<'_>,
    config_file: &str,
    username: &str,
    team: Option<&crate::team::Team>,
) -> Result<Built, SessionError> {
    let paths = ctx.paths()?;
    let config_file = match config_file {
        "default" | "~/.ccc/config.json" => paths.ccc_config_file(),
        other => std::path::PathBuf::from(other),
    };
    let ccc = cred_store::load_config_from(&config_file).map_err(|e| SessionError::Config {
        path: config_file.display().to_string(),
        message: format!("cannot read the ccc configuration: {e}"),
    })?;
    let config = cognito_auth::CognitoConfig::from_ccc_config(&ccc).map_err(|e| e.into_session_error(ctx.name))?;
    if config.identity_pool_id.is_none() {
        return Err(SessionError::Config {
            path: config_file.display().to_string(),
            message: "a cognito session needs identity_pool_id in the ccc configuration".into(),
        });
    }
    let options = ctx.options;
    let mut profile = cognito_auth::CognitoProfile::for_user(config, &paths, username)
        .sdk_config(ctx.sdk)
        .clock(options.clock.clone())
        .refresh_window(options.refresh_window);
    if let Some(store) = &options.token_store {
        profile = profile.token_store(store.clone());
    }
    let cache =
        crate::team::cognito_fleet(profile, team).build().credentials().map_err(|e| e.into_session_error(ctx.name))?;
    Ok(ctx.built(cache))
}

#[cfg(not(feature = "cognito"))]
pub(crate) fn cognito(
    ctx: &Ctx<'_>,
    _config_file: &str,
    _username: &str,
    _team: Option<&crate::team::Team>,
) -> Result<Built, SessionError> {
    Err(ctx.missing("cognito"))
}

/// An `sso_profile:` session's credentials: sso-refresh's self-refreshing provider, configured
/// from the manager's environment (`AWS_SSO_REFRESH_WINDOW`, `AWS_SSO_MAX_RETRIES`, ...).
#[cfg(feature = "sso")]
pub(crate) async fn sso(ctx: &Ctx<'_>, profile: &str) -> Result<Built, SessionError> {
    let paths = ctx.paths()?;
    let env = ctx.options.env.clone();
    let config = sso_refresh::SsoConfig::from_lookup(move |k| env(k)).map_err(|e| e.into_session_error(ctx.name))?;
    let sso = sso_refresh::AwsSso::builder(config, &paths, profile)
        .sdk_config(ctx.sdk)
        .clock(ctx.options.clock.clone())
        .refresh_window(ctx.options.refresh_window)
        .build()
        .await
        .map_err(|e| e.into_session_error(ctx.name))?;
    Ok(ctx.built(sso.credentials_provider()))
}

#[cfg(not(feature = "sso"))]
pub(crate) async fn sso(ctx: &Ctx<'_>, _profile: &str) -> Result<Built, SessionError> {
    Err(ctx.missing("sso_profile"))
}
