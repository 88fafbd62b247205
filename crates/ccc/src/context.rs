//! What every command needs, resolved once from the environment at start-up.

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use cognito_auth::{CognitoConfig, CognitoProfile, CognitoProfileBuilder};
use core_types::{Clock, SystemClock};
use cred_store::{CccConfig, Ledger, Paths, TokenStore, load_config};

use crate::cli::Output;
use crate::error::{CliError, CliResult};

/// Set in the environment `ccc exec` gives its command (the profile's name): a nested
/// `ccc exec` or `ccc env` sees it and refuses rather than stack credentials silently.
pub const CCC_PROFILE_VAR: &str = "CCC_PROFILE";

/// The config key naming the profile commands act on when none is given.
pub use cognito_auth::DEFAULT_PROFILE_KEY as PROFILE_KEY;

/// The refresh window: `refresh_window_seconds` in the ccc config (default five minutes).
pub fn refresh_window(config: &CccConfig) -> CliResult<core_types::RefreshPolicy> {
    config
        .refresh_window()
        .map_err(|e| CliError::from(e).hint(format!("run `ccc config set {} 300`", cred_store::REFRESH_WINDOW_KEY)))
}

/// How long one attempt of an AWS call may take before it counts as a (retryable) timeout:
/// every client ccc builds has it, so nothing waits forever.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long one AWS operation may take, its retries included.
pub const OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(45);

/// The deadlines every AWS client ccc builds has: connect and each attempt within
/// [`ATTEMPT_TIMEOUT`], the operation with its retries within [`OPERATION_TIMEOUT`].
pub fn sdk_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(ATTEMPT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

pub struct Ctx {
    pub paths: Paths,
    pub output: Output,
    pub verbose: bool,
    pub endpoint_url: Option<String>,
    pub ledger_location: Option<String>,
    pub clock: Arc<dyn Clock>,
    /// `--profile`, as given.
    pub profile_flag: Option<String>,
    /// `--region`, as given.
    pub region_flag: Option<String>,
    /// `AWS_PROFILE`.
    aws_profile: Option<String>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    aws_region: Option<String>,
    /// Set inside `ccc exec`: the profile whose credentials it exported (nesting is refused).
    pub exported: Option<String>,
    /// Whether `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` are set (the first source of every
    /// SDK's default chain, which the engine uses when no `--profile` is given), and whether
    /// `AWS_SESSION_TOKEN` is too.
    env_keys: Option<bool>,
    /// `CCC_TOKEN_STORE=keyring`: tokens sealed with a key in the platform keyring.
    sealed_tokens: bool,
    /// `CCC_NO_PROMPT` set: never ask on the terminal (scripts, tests), as `GIT_TERMINAL_PROMPT=0`.
    pub no_prompt: bool,
    /// `CCC_TEAM_STORE`: the team store's URL (else the ccc config's `team_store`).
    team_store: Option<String>,
    /// `CCC_TEAM_KEY`: where the team key is (else the ccc config's `team_key`).
    team_key: Option<TeamKeyRef>,
    /// The code a person gave for a role profile's `mfa_serial` (spent by the next refresh).
    pub mfa_code: std::sync::OnceLock<core_types::SecretString>,
    /// `CCC_ROLE`: the role whose `allowed_sessions` the `ccc sessions` commands honour (else
    /// the sessions file's `user.role`).
    pub role: Option<String>,
    /// `CCC_FEDERATION_ENDPOINT`: the console federation endpoint (default AWS's).
    pub federation_endpoint: Option<String>,
    /// The credential engine's environment, made once per run (`Ctx::engine_options`).
    engine: std::sync::OnceLock<cloud_sessions::ManagerOptions>,
}

/// The ccc config's key naming the team store (`postgres://…`).
pub const TEAM_STORE_KEY: &str = "team_store";
/// The ccc config's key saying where the team key is.
pub const TEAM_KEY_KEY: &str = "team_key";

/// Where the team key is: `ENV/NAME` (its base64 text in the variable NAME, read at start-up),
/// or a private file holding it.
#[derive(Debug, Clone)]
pub enum TeamKeyRef {
    /// The variable's name, and its value when it was set.
    Env(String, Option<core_types::SecretString>),
    /// A file (0600) holding the key's base64 text.
    File(std::path::PathBuf),
}

impl TeamKeyRef {
    fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Self {
        match text.strip_prefix("ENV/") {
            Some(name) => Self::Env(name.to_owned(), env(name).map(core_types::SecretString::from)),
            None => Self::File(text.into()),
        }
    }

    fn key(&self) -> CliResult<cred_store::TeamKey> {
        use core_types::ExposeSecret;
        let hint = "make one with `ccc team key --new FILE` and point CCC_TEAM_KEY at it (or at ENV/NAME)";
        match self {
            Self::Env(name, Some(v)) => Ok(cred_store::TeamKey::from_base64(v.expose_secret())
                .map_err(|e| CliError::new(format!("{name}: {e}")).kind(core_types::ErrorKind::InvalidInput))?),
            Self::Env(name, None) => Err(CliError::new(format!("the team key's variable {name} is not set"))
                .kind(core_types::ErrorKind::NotConfigured)
                .hint(hint)),
            Self::File(path) => Ok(cred_store::TeamKey::from_file(path).map_err(|e| CliError::from(e).hint(hint))?),
        }
    }
}

impl Ctx {
    /// Reads the environment once: paths, `AWS_ENDPOINT_URL`, `AWS_CREDENTIALS_DB_PATH`,
    /// `AWS_PROFILE`, `AWS_REGION` / `AWS_DEFAULT_REGION`, `CCC_ROLE`.
    #[allow(clippy::disallowed_methods)] // the one place the CLI reads its environment
    pub fn from_env(
        output: Output,
        verbose: bool,
        profile_flag: Option<String>,
        region_flag: Option<String>,
    ) -> CliResult<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Self {
            paths: Paths::from_env()?,
            output,
            verbose,
            endpoint_url: var("AWS_ENDPOINT_URL"),
            ledger_location: var("AWS_CREDENTIALS_DB_PATH"),
            clock: Arc::new(SystemClock),
            profile_flag: profile_flag.filter(|p| !p.is_empty()),
            region_flag: region_flag.filter(|r| !r.is_empty()),
            aws_profile: var("AWS_PROFILE"),
            aws_region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            sealed_tokens: match var("CCC_TOKEN_STORE").as_deref() {
                None | Some("file") => false,
                Some("keyring") => true,
                Some(other) => {
                    return Err(CliError::new(format!("CCC_TOKEN_STORE={other:?} is not a token store"))
                        .kind(core_types::ErrorKind::InvalidInput)
                        .hint("use `file` (the default) or `keyring`"));
                }
            },
            no_prompt: var("CCC_NO_PROMPT").is_some_and(|v| v != "0"),
            team_store: var("CCC_TEAM_STORE"),
            team_key: var("CCC_TEAM_KEY").map(|k| TeamKeyRef::parse(&k, var)),
            mfa_code: std::sync::OnceLock::new(),
            role: var("CCC_ROLE"),
            engine: std::sync::OnceLock::new(),
            federation_endpoint: var("CCC_FEDERATION_ENDPOINT"),
            exported: var(CCC_PROFILE_VAR).map(|p| format!("`ccc exec` for profile {p}")),
            env_keys: (var("AWS_ACCESS_KEY_ID").is_some() && var("AWS_SECRET_ACCESS_KEY").is_some())
                .then(|| var("AWS_SESSION_TOKEN").is_some()),
        })
    }

    /// The region of AWS calls for `profile`: `--region`, `AWS_REGION` / `AWS_DEFAULT_REGION`,
    /// the profile's `region` in ~/.aws/config, the ccc config's `region`, us-east-1.
    pub fn region(&self, config: &CccConfig, profile: &str) -> String {
        self.region_with(config, || cred_store::AwsFiles::new(&self.paths).load_profile(profile).ok().flatten())
    }

    /// Like [`Ctx::region`], with the profile's settings from `load` (read only when the
    /// flag and the environment name no region).
    fn region_with(&self, config: &CccConfig, load: impl FnOnce() -> Option<cred_store::Profile>) -> String {
        self.region_flag
            .clone()
            .or_else(|| self.aws_region.clone())
            .or_else(|| load().and_then(|p| p.region))
            .or_else(|| config.get_str(cognito_auth::keys::REGION).map(str::to_owned))
            .unwrap_or_else(|| "us-east-1".to_owned())
    }

    pub fn config(&self) -> CliResult<CccConfig> {
        Ok(load_config(&self.paths)?)
    }

    /// The Cognito settings of `profile` (its own, else the file's top-level ones).
    pub fn cognito_config(&self, config: &CccConfig, profile: &str) -> CliResult<CognitoConfig> {
        Ok(CognitoConfig::for_profile(config, profile)?)
    }

    /// An SDK configuration for `region` without reading any file (fast start-up for
    /// `ccc creds`); Cognito's sign-in calls need no AWS credentials.
    pub fn sdk_config(&self, region: &str) -> SdkConfig {
        let mut b = SdkConfig::builder()
            .region(Region::new(region.to_owned()))
            .behavior_version(BehaviorVersion::latest())
            .timeout_config(sdk_timeouts());
        if let Some(e) = &self.endpoint_url {
            b = b.endpoint_url(e.clone());
        }
        b.build()
    }

    /// The token store: the 0600 file, its tokens sealed with a key in the platform keyring
    /// when `CCC_TOKEN_STORE=keyring`.
    pub fn token_store(&self) -> TokenStore {
        let store = TokenStore::new(&self.paths);
        if self.sealed_tokens { store.sealed_with_keyring() } else { store }
    }

    /// The team store (the refreshing caches' fleet level), when `CCC_TEAM_STORE` or the
    /// config's `team_store` names one; its key from `CCC_TEAM_KEY` or the config's
    /// `team_key`. Only the key is read (a small file, or the variable): a warm call never
    /// reaches the database.
    pub fn team_store(&self, config: &CccConfig) -> CliResult<Option<cred_store::TeamStore>> {
        let Some(url) = self.team_store.clone().or_else(|| config.get_str(TEAM_STORE_KEY).map(str::to_owned)) else {
            return Ok(None);
        };
        #[allow(clippy::disallowed_methods)] // a config file's ENV/ reference, read where it is named
        let from_config = || config.get_str(TEAM_KEY_KEY).map(|k| TeamKeyRef::parse(k, |n| std::env::var(n).ok()));
        let key = self.team_key.clone().or_else(from_config).ok_or_else(|| {
            CliError::new("a team store is set but no team key")
                .kind(core_types::ErrorKind::NotConfigured)
                .hint("set CCC_TEAM_KEY to the key file (or ENV/NAME); `ccc team key --new FILE` makes one")
        })?;
        // this machine remembers each entry's highest version and refuses a restored older one
        let versions = self.paths.ccc_dir.join("team-versions.json");
        Ok(Some(cred_store::TeamStore::new(&url, key.key()?)?.remember_versions_in(versions)))
    }

    /// The AWS profile a command acts on: `--profile`, `AWS_PROFILE`, the ccc config's
    /// `profile`, `default`.
    pub fn profile(&self, config: &CccConfig) -> String {
        self.profile_flag
            .clone()
            .or_else(|| self.aws_profile.clone())
            .unwrap_or_else(|| cognito_auth::default_profile(config).to_owned())
    }

    /// The Cognito sign-in of `profile`.
    pub fn cognito_profile(&self, config: &CccConfig, profile: &str) -> CliResult<CognitoProfileBuilder> {
        let cognito = self.cognito_config(config, profile)?;
        let sdk = self.sdk_config(&cognito.region);
        let builder = CognitoProfile::builder(cognito, &self.paths, profile)?
            .token_store(self.token_store())
            .sdk_config(&sdk)
            .clock(self.clock.clone())
            .refresh_window(refresh_window(config)?);
        Ok(match self.team_store(config)? {
            Some(team) => builder.fleet(team),
            None => builder,
        })
    }

    /// The identity-pool identity of the Cognito user signed in on `profile` (what CloudTrail
    /// records for calls made with the profile's credentials).
    pub async fn cognito_identity(&self, config: &CccConfig, profile: &str) -> CliResult<String> {
        Ok(self.cognito_profile(config, profile)?.build().identity_id().await?)
    }

    /// An SDK configuration whose credentials are `profile`'s: ccc's own Cognito sign-in on
    /// it when there is one; otherwise, for a profile of the AWS config files that ccc does
    /// not serve, the AWS SDK's provider for that profile (keys, roles, SSO, processes).
    /// Credentials are obtained first, so a sign-in that needs renewing is reported as that.
    /// Returns the configuration, the ccc user (if any), and the credentials just obtained.
    pub async fn profile_sdk(
        &self,
        config: &CccConfig,
        profile: &str,
    ) -> CliResult<(SdkConfig, Option<String>, aws_credential_types::Credentials)> {
        let ProfileCredentials { provider, user, credentials: creds, .. } =
            self.profile_credentials(config, profile, cred_store::DEFAULT_REFRESH_LOCK_WAIT).await?;
        let mut b = SdkConfig::builder()
            .timeout_config(sdk_timeouts())
            .region(Region::new(self.region(config, profile)))
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(provider);
        b.set_endpoint_url(self.endpoint_url.clone());
        Ok((b.build(), user, creds))
    }

    /// `profile`'s credentials and their provider, as the credential engine decides them
    /// (`cloud_sessions::credentials_for`: ccc's Cognito sign-in on it; else, unless
    /// `--profile` named one, the environment's keys; else the profile of the AWS files, both
    /// merged, with every setting). A name no file has is an error naming the closest ones.
    /// Waits at most `lock_wait` for another process's refresh.
    pub async fn profile_credentials(
        &self,
        config: &CccConfig,
        profile: &str,
        lock_wait: std::time::Duration,
    ) -> CliResult<ProfileCredentials> {
        let named = match self.profile_flag {
            Some(_) => cloud_sessions::Named::Explicitly,
            None => cloud_sessions::Named::ByDefault,
        };
        let options = self.engine_options(config, lock_wait)?;
        let built = cloud_sessions::credentials_for(profile, named, &options)
            .await
            .map_err(|e| self.profile_error(profile, e))?;
        let creds = built.credentials().await.map_err(|e| {
            let err = self.profile_error(profile, e);
            // an IAM Identity Center sign-in that ended is renewed by its own command
            let sso = matches!(built.plan.base, cred_store::Base::Sso { .. });
            match err.kind {
                core_types::ErrorKind::NotAuthorized | core_types::ErrorKind::ExpiredToken if sso => {
                    err.hint(format!("run `ccc sso login --profile {}`", built.plan.base_profile))
                }
                _ => err,
            }
        })?;
        Ok(ProfileCredentials {
            user: built.cognito_user().map(str::to_owned),
            provider: built.provider.clone(),
            credentials: cred_store::to_sdk_credentials(&creds),
            entry: built.entry.clone(),
            built,
        })
    }

    /// Whether a command without `--profile` uses the keys in the environment (as every SDK's
    /// default chain does first).
    pub fn uses_environment_keys(&self) -> bool {
        self.profile_flag.is_none() && self.env_keys.is_some()
    }

    /// Whether the environment's keys are temporary (`AWS_SESSION_TOKEN` set).
    pub fn environment_has_session_token(&self) -> bool {
        self.env_keys == Some(true)
    }

    /// The variables that hold ccc's own secrets (the team store's URL, the team key, and
    /// the variable `CCC_TEAM_KEY=ENV/NAME` names): never handed to a command ccc runs.
    pub fn own_secret_vars(&self) -> Vec<String> {
        let mut vars = vec!["CCC_TEAM_STORE".to_owned(), "CCC_TEAM_KEY".to_owned()];
        if let Some(TeamKeyRef::Env(name, _)) = &self.team_key {
            vars.push(name.clone());
        }
        vars
    }

    /// The engine's environment, read once per run from ccc's: paths, clock, the configured
    /// refresh window, token store, team store (the fleet level), endpoint, region, attempt
    /// deadline and the SDK configuration its clients start from. Each call sets the lock wait
    /// and the MFA code a person gave.
    pub fn engine_options(
        &self,
        config: &CccConfig,
        lock_wait: std::time::Duration,
    ) -> CliResult<cloud_sessions::ManagerOptions> {
        let engine = match self.engine.get() {
            Some(e) => e,
            None => {
                let built = self.engine_from(config)?;
                self.engine.get_or_init(|| built)
            }
        };
        let mut options = engine.clone().lock_wait(lock_wait);
        if let Some(code) = self.mfa_code.get() {
            options = options.mfa_code(code.clone());
        }
        Ok(options)
    }

    fn engine_from(&self, config: &CccConfig) -> CliResult<cloud_sessions::ManagerOptions> {
        let region = self.region_flag.clone().or_else(|| self.aws_region.clone());
        let mut options = cloud_sessions::ManagerOptions::default()
            .paths(self.paths.clone())
            .clock(self.clock.clone())
            .refresh_window(refresh_window(config)?)
            .attempt_timeout(cognito_auth::attempt_timeout(config)?.unwrap_or(ATTEMPT_TIMEOUT))
            .token_store(self.token_store())
            .sdk_config(self.sdk_config(region.as_deref().unwrap_or("us-east-1")));
        if let Some(e) = &self.endpoint_url {
            options = options.endpoint_url(e.clone());
        }
        if let Some(team) = self.team_store(config)? {
            options = options.team_store(team);
        }
        options.set_region(region);
        Ok(options)
    }

    /// An engine error for `profile`, with a hint that fits it: an unknown name lists the
    /// files searched, a refused or failed call is the service's answer (not a config hint).
    pub fn profile_error(&self, profile: &str, e: cloud_sessions::SessionError) -> CliError {
        let searched =
            format!("searched {} and {}", self.paths.config_file.display(), self.paths.credentials_file.display());
        match &e {
            cloud_sessions::SessionError::Store(cred_store::Error::NoSuchProfile { .. }) => CliError::from_kinded(&e)
                .hint(format!("{searched}; `aws configure --profile {profile}` or `ccc configure` makes one")),
            cloud_sessions::SessionError::NotSignedIn { profile: p } => {
                let p = p.clone();
                CliError::from_kinded(&e).hint(format!("run `ccc login --profile {p}`"))
            }
            cloud_sessions::SessionError::Store(cred_store::Error::Profile { profile: p, .. }) => {
                let p = p.clone();
                CliError::from_kinded(&e).hint(format!("fix [profile {p}] in {}", self.paths.config_file.display()))
            }
            // the service's answer or the source's own words say what is wrong: a network
            // failure gets the network hint, a refusal the permission hint, nothing names
            // `ccc configure` (that is Cognito's)
            _ => {
                let err = CliError::from_kinded(&e);
                match (err.kind, &self.endpoint_url) {
                    (core_types::ErrorKind::NotConfigured, _) => CliError { hint: None, ..err },
                    // no answer: where it was asked, and that it is the network, not the profile
                    (core_types::ErrorKind::Unavailable, Some(endpoint)) => {
                        err.hint(format!("check that something answers at AWS_ENDPOINT_URL ({endpoint}), then retry"))
                    }
                    _ => err,
                }
            }
        }
    }

    /// The role of an MFA role profile assumed with `code` (a person's) and kept for every
    /// process; the code is set once per command, by its one prompt.
    pub async fn assume_with_mfa_code(
        &self,
        config: &CccConfig,
        profile: &str,
        code: core_types::SecretString,
        budget: std::time::Duration,
    ) -> CliResult<core_types::AwsCredentials> {
        let _ = self.mfa_code.set(code);
        let served = self.profile_credentials(config, profile, budget).await?;
        Ok(cred_store::from_sdk_credentials(&served.credentials))
    }

    /// sso-refresh over an IAM Identity Center profile (settings from the environment).
    pub async fn sso(&self, profile: &str) -> CliResult<sso_refresh::AwsSso> {
        self.sso_for(profile, None).await
    }

    /// An SSO handle for `profile`, or for an `[sso-session]` alone when `session` is given,
    /// made by the engine (`cloud_sessions::sso_handle`) with the configured refresh window
    /// and ccc's clock, as every IAM Identity Center credential is.
    pub async fn sso_for(&self, profile: &str, session: Option<&str>) -> CliResult<sso_refresh::AwsSso> {
        // an SSO command does not need the ccc config, so a damaged one leaves the defaults
        let config = self.config().unwrap_or_default();
        let options = match self.engine_options(&config, cred_store::DEFAULT_REFRESH_LOCK_WAIT) {
            Ok(o) => o,
            Err(_) => self.engine_from(&CccConfig::default())?,
        };
        Ok(cloud_sessions::sso_handle(profile, session, &options).await?)
    }

    pub async fn ledger(&self) -> CliResult<Ledger> {
        Ok(match &self.ledger_location {
            Some(loc) => Ledger::open(loc).await?,
            None => Ledger::open_default(&self.paths).await?,
        })
    }
}

/// A profile's credentials, what serves them, and for whom.
pub struct ProfileCredentials {
    /// The provider that keeps them valid.
    pub provider: aws_credential_types::provider::SharedCredentialsProvider,
    /// The ccc user signed in on the profile, if it is a Cognito one.
    pub user: Option<String>,
    /// The credentials just obtained.
    pub credentials: aws_credential_types::Credentials,
    /// The refreshing cache's entry file that keeps them and its window, when one does: the
    /// credential_process warm path serves it from the next start (`cred_store::warm`).
    pub entry: Option<cred_store::warm::Entry>,
    /// What the engine built (its typed `credentials()` serves them from its cache while they
    /// are fresh).
    pub built: cloud_sessions::ProfileCredentials,
}
