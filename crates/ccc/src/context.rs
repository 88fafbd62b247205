//! What every command needs, resolved once from the environment at start-up.

use std::path::PathBuf;
use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use cognito_auth::{CognitoAuthenticator, CognitoConfig, CognitoSource};
use core_types::{Clock, SystemClock};
use cred_store::{CccConfig, Ledger, Paths, Refreshing, TokenStore, load_config};

use crate::cli::Output;
use crate::error::{CliError, CliResult};

/// The per-profile setting naming the Cognito user signed in on that profile.
pub const USERNAME_KEY: &str = "username";

/// The Cognito user signed in on `profile`: its own setting, or, for a config written
/// before profiles remembered their users, the one `username` of the configured profile.
pub fn signed_in_user(config: &CccConfig, profile: &str) -> Option<String> {
    if let Some(u) = config.profile_setting(profile, USERNAME_KEY) {
        return Some(u.to_owned());
    }
    let legacy = config.extra.get(USERNAME_KEY).and_then(|v| v.as_str()).filter(|u| !u.is_empty())?;
    (profile == config.profile_or_default()).then(|| legacy.to_owned())
}
/// The config key for the refresh window in seconds (default 300).
pub const REFRESH_WINDOW_KEY: &str = "refresh_window_seconds";

/// Refresh when less than `refresh_window_seconds` (default five minutes) is left.
pub fn refresh_policy(config: &CccConfig) -> CliResult<core_types::RefreshPolicy> {
    match config.extra.get(REFRESH_WINDOW_KEY) {
        None => Ok(core_types::RefreshPolicy::default()),
        Some(v) => {
            let secs = v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).ok_or_else(|| {
                CliError::new(format!("{REFRESH_WINDOW_KEY} must be a whole number of seconds"))
                    .hint(format!("run `ccc config set {REFRESH_WINDOW_KEY} 300`"))
            })?;
            Ok(core_types::RefreshPolicy::new(std::time::Duration::from_secs(secs)))
        }
    }
}

pub struct Ctx {
    pub paths: Paths,
    pub output: Output,
    pub verbose: bool,
    pub endpoint_url: Option<String>,
    pub ledger_location: Option<String>,
    pub clock: Arc<dyn Clock>,
}

impl Ctx {
    /// Reads the environment once: paths, `AWS_ENDPOINT_URL`, `AWS_CREDENTIALS_DB_PATH`.
    #[allow(clippy::disallowed_methods)] // the one place the CLI reads its environment
    pub fn from_env(output: Output, verbose: bool) -> CliResult<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Self {
            paths: Paths::from_env()?,
            output,
            verbose,
            endpoint_url: var("AWS_ENDPOINT_URL"),
            ledger_location: var("AWS_CREDENTIALS_DB_PATH"),
            clock: Arc::new(SystemClock),
        })
    }

    pub fn config(&self) -> CliResult<CccConfig> {
        Ok(load_config(&self.paths)?)
    }

    pub fn cognito_config(&self, config: &CccConfig) -> CliResult<CognitoConfig> {
        Ok(CognitoConfig::from_ccc_config(config)?)
    }

    /// An SDK configuration for `region` without reading any file (fast start-up for
    /// `ccc creds`); Cognito's sign-in calls need no AWS credentials.
    pub fn sdk_config(&self, region: &str) -> SdkConfig {
        let mut b =
            SdkConfig::builder().region(Region::new(region.to_owned())).behavior_version(BehaviorVersion::latest());
        if let Some(e) = &self.endpoint_url {
            b = b.endpoint_url(e.clone());
        }
        b.build()
    }

    pub fn authenticator(&self, config: &CognitoConfig) -> CognitoAuthenticator {
        CognitoAuthenticator::new(config.clone(), &self.sdk_config(&config.region)).with_clock(self.clock.clone())
    }

    pub fn token_store(&self) -> TokenStore {
        TokenStore::new(&self.paths)
    }

    pub fn cache_file(&self, profile: &str) -> PathBuf {
        self.paths.cache_dir().join(format!("cognito-{profile}.json"))
    }

    /// Forgets `profile`'s cached credentials.
    pub fn refreshing_cache_remove(&self, profile: &str) -> CliResult {
        let cache = self.cache_file(profile);
        match std::fs::remove_file(&cache) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CliError::new(format!("cannot remove {}: {e}", cache.display())))
            }
            _ => Ok(()),
        }
    }

    /// The profile a command acts on.
    pub fn profile(&self, config: &CccConfig, given: Option<&str>) -> String {
        given.map(str::to_owned).unwrap_or_else(|| config.profile_or_default().to_owned())
    }

    /// The signed-in user's self-refreshing credentials for `profile`.
    pub fn refreshing(&self, config: &CccConfig, profile: &str) -> CliResult<Refreshing<CognitoSource>> {
        self.refreshing_within(config, profile, cred_store::DEFAULT_REFRESH_LOCK_WAIT)
    }

    /// Like [`Ctx::refreshing`], waiting at most `lock_wait` for another process's refresh.
    pub fn refreshing_within(
        &self,
        config: &CccConfig,
        profile: &str,
        lock_wait: std::time::Duration,
    ) -> CliResult<Refreshing<CognitoSource>> {
        let cognito = self.cognito_config(config)?;
        let username = signed_in_user(config, profile).ok_or_else(|| {
            CliError::new(format!("no one is signed in on profile {profile}"))
                .kind(core_types::ErrorKind::NotConfigured)
                .hint(format!("run `ccc login --profile {profile}`"))
        })?;
        let (sdk, clock, pool) = (self.sdk_config(&cognito.region), self.clock.clone(), cognito.user_pool_id.clone());
        let make = move || CognitoAuthenticator::new(cognito.clone(), &sdk).with_clock(clock.clone());
        let source = CognitoSource::lazy(&pool, make, self.token_store(), &username);
        Ok(Refreshing::builder(source)
            .policy(refresh_policy(config)?)
            .clock(self.clock.clone())
            .persist_to(self.cache_file(profile))
            .lock_wait(lock_wait)
            .build())
    }

    pub async fn ledger(&self) -> CliResult<Ledger> {
        Ok(match &self.ledger_location {
            Some(loc) => Ledger::open(loc).await?,
            None => Ledger::open_default(&self.paths).await?,
        })
    }
}
