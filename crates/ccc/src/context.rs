//! What every command needs, resolved once from the environment at start-up.

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use cognito_auth::{CognitoConfig, CognitoProfile, CognitoProfileBuilder, CognitoSource};
use core_types::{Clock, SystemClock};
use cred_store::{CccConfig, Ledger, Paths, Refreshing, TokenStore, load_config};

use crate::cli::Output;
use crate::error::{CliError, CliResult};

/// The config key naming the profile commands act on when none is given.
pub use cognito_auth::DEFAULT_PROFILE_KEY as PROFILE_KEY;

/// The refresh window: `refresh_window_seconds` in the ccc config (default five minutes).
pub fn refresh_window(config: &CccConfig) -> CliResult<core_types::RefreshPolicy> {
    config
        .refresh_window()
        .map_err(|e| CliError::from(e).hint(format!("run `ccc config set {} 300`", cred_store::REFRESH_WINDOW_KEY)))
}

/// The region commands use: the configured one, else `us-east-1`.
pub fn region(config: &CccConfig) -> String {
    config.get_str(cognito_auth::keys::REGION).unwrap_or("us-east-1").to_owned()
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

    pub fn token_store(&self) -> TokenStore {
        TokenStore::new(&self.paths)
    }

    /// The profile a command acts on.
    pub fn profile(&self, config: &CccConfig, given: Option<&str>) -> String {
        given.map(str::to_owned).unwrap_or_else(|| cognito_auth::default_profile(config).to_owned())
    }

    /// The Cognito sign-in of `profile`.
    pub fn cognito_profile(&self, config: &CccConfig, profile: &str) -> CliResult<CognitoProfileBuilder> {
        let cognito = self.cognito_config(config)?;
        let sdk = self.sdk_config(&cognito.region);
        Ok(CognitoProfile::builder(cognito, &self.paths, profile)?
            .sdk_config(&sdk)
            .clock(self.clock.clone())
            .refresh_window(refresh_window(config)?))
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
        self.cognito_profile(config, profile)?.lock_wait(lock_wait).build().credentials().map_err(|e| match e {
            cognito_auth::CognitoError::NotSignedIn(_) => {
                CliError::from(e).hint(format!("run `ccc login --profile {profile}`"))
            }
            e => e.into(),
        })
    }

    pub async fn ledger(&self) -> CliResult<Ledger> {
        Ok(match &self.ledger_location {
            Some(loc) => Ledger::open(loc).await?,
            None => Ledger::open_default(&self.paths).await?,
        })
    }
}
