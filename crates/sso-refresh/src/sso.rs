//! `AwsSso`: keeps one SSO profile's credentials valid.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use core_types::{AwsCredentials, Clock, ExposeSecret, RefreshPolicy, SystemClock};
use cred_store::{AwsFiles, Paths, Refreshing, SsoCache};

use crate::config::SsoConfig;

/// How long one SSO / SSO-OIDC call attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
use crate::error::SsoError;
use crate::journal::Journal;
use crate::profile::SsoProfile;
use crate::runner::{CommandRunner, Sleeper, SystemRunner, TokioSleeper};
use crate::upstream::{Inner, SsoSource};

/// What an [`AwsSso`] is for: a profile, or an `[sso-session]` alone.
#[derive(Debug, Clone)]
enum Target {
    Profile(String),
    Session(String),
}

/// Builds an [`AwsSso`].
pub struct AwsSsoBuilder {
    config: SsoConfig,
    paths: Paths,
    target: Target,
    sdk: Option<SdkConfig>,
    runner: Arc<dyn CommandRunner>,
    sleeper: Arc<dyn Sleeper>,
    clock: Arc<dyn Clock>,
    refresh_window: RefreshPolicy,
    write_profile: Option<String>,
}

impl fmt::Debug for AwsSsoBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSsoBuilder")
            .field("config", &self.config)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl AwsSsoBuilder {
    /// The SDK configuration for the SSO endpoints (endpoint override, HTTP client). The
    /// region always comes from the profile's `sso_region`.
    #[must_use]
    pub fn sdk_config(mut self, sdk: &SdkConfig) -> Self {
        self.sdk = Some(sdk.clone());
        self
    }
    /// Runs `aws sso login` through `runner`.
    #[must_use]
    pub fn runner(mut self, runner: Arc<dyn CommandRunner>) -> Self {
        self.runner = runner;
        self
    }
    /// Waits between retries with `sleeper`.
    #[must_use]
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }
    /// Judges expiry with `clock`.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Refresh tokens and role credentials this long before they expire (default 5 min).
    #[must_use]
    pub fn refresh_window(mut self, window: RefreshPolicy) -> Self {
        self.refresh_window = window;
        self
    }
    /// Also write refreshed role credentials to this profile of `~/.aws/credentials`.
    #[must_use]
    pub fn write_credentials_to(mut self, profile: impl Into<String>) -> Self {
        self.write_profile = Some(profile.into());
        self
    }

    /// Reads the profile, opens the ledger and builds the clients.
    pub async fn build(self) -> Result<AwsSso, SsoError> {
        let files = AwsFiles::new(&self.paths);
        let profile = match &self.target {
            Target::Profile(p) => SsoProfile::load(&files, p)?,
            Target::Session(s) => SsoProfile::load_session(&files, s)?,
        };
        let journal = Journal::open(&self.config, &self.paths).await?;
        // every attempt has a deadline, so a stalled endpoint cannot hang a refresh
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(ATTEMPT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .build();
        let sdk = self.sdk.unwrap_or_else(|| {
            SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .timeout_config(timeouts.clone())
                .build()
        });
        let region = aws_config::Region::new(profile.sso_region.clone());
        let sso = aws_sdk_sso::Client::from_conf(
            aws_sdk_sso::config::Builder::from(&sdk).region(region.clone()).timeout_config(timeouts.clone()).build(),
        );
        let oidc = aws_sdk_ssooidc::Client::from_conf(
            aws_sdk_ssooidc::config::Builder::from(&sdk).region(region).timeout_config(timeouts).build(),
        );
        let inner = Arc::new(Inner {
            cache: SsoCache::new(&self.paths),
            config: self.config,
            profile,
            sso,
            oidc,
            runner: self.runner,
            sleeper: self.sleeper,
            clock: self.clock,
            journal,
            refresh_window: self.refresh_window,
            files,
            write_profile: self.write_profile,
        });
        // keyed by what decides the credentials (session, start URL, region, account, role),
        // never by a name: an edited profile is a new entry, not the old account's
        let entry = role_cache_file(&self.paths, &inner.profile);
        let credentials = Refreshing::builder(SsoSource { inner: inner.clone() })
            .refresh_window(inner.refresh_window)
            .clock(inner.clock.clone())
            .persist_to(entry)
            .build();
        // signed out (the token cache entry is gone): nothing that sign-in gave is served
        let signed_in = inner.cache.path_for(inner.profile.cache_key()).exists();
        if !signed_in && let Err(e) = credentials.invalidate().await {
            tracing::debug!(error = %e, "could not forget the role credentials of a signed-out session");
        }
        Ok(AwsSso { inner, credentials })
    }
}

/// Keeps an SSO profile's credentials valid: silently through the SSO-OIDC refresh token
/// when it can, through `aws sso login` when it must, recording every attempt in the ledger.
#[derive(Clone)]
pub struct AwsSso {
    pub(crate) inner: Arc<Inner>,
    credentials: Refreshing<SsoSource>,
}

impl fmt::Debug for AwsSso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSso")
            .field("profile", &self.inner.profile)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn elapsed_since(now: SystemTime, then: SystemTime) -> Duration {
    now.duration_since(then).unwrap_or(Duration::ZERO)
}

impl AwsSso {
    /// A builder for `profile`, with the real CLI runner, sleeper and clock.
    pub fn builder(config: SsoConfig, paths: &Paths, profile: &str) -> AwsSsoBuilder {
        Self::builder_for(config, paths, Target::Profile(profile.to_owned()))
    }

    /// A builder for an `[sso-session]` alone: signing in, and listing accounts and roles,
    /// before (or without) a profile that names a role. Role credentials need a profile.
    pub fn session_builder(config: SsoConfig, paths: &Paths, session: &str) -> AwsSsoBuilder {
        Self::builder_for(config, paths, Target::Session(session.to_owned()))
    }

    fn builder_for(config: SsoConfig, paths: &Paths, target: Target) -> AwsSsoBuilder {
        AwsSsoBuilder {
            config,
            paths: paths.clone(),
            target,
            sdk: None,
            runner: Arc::new(SystemRunner),
            sleeper: Arc::new(TokioSleeper),
            clock: Arc::new(SystemClock),
            refresh_window: RefreshPolicy::default(),
            write_profile: None,
        }
    }

    /// The profile's SSO settings.
    pub fn profile(&self) -> &SsoProfile {
        &self.inner.profile
    }

    /// The ledger's name for this credential.
    pub fn source_name(&self) -> String {
        format!("sso:{}", self.inner.profile.cache_key())
    }

    /// The SSO token cache file this profile's sign-in is kept in (what `aws sso logout`
    /// removes): the role credentials come from it.
    pub fn token_file(&self) -> PathBuf {
        self.inner.cache.path_for(self.inner.profile.cache_key())
    }

    /// The self-refreshing credentials, usable as an AWS SDK credentials provider.
    pub fn credentials_provider(&self) -> Refreshing<SsoSource> {
        self.credentials.clone()
    }

    /// Whether a refresh is due: no good sign-in within the window (per the ledger), or the
    /// SSO token or the role credentials are missing, expired or inside the refresh window.
    pub async fn should_refresh_credentials(&self) -> Result<bool, SsoError> {
        let i = &self.inner;
        let now = i.clock.now();
        let recent = match i.journal.last_sign_in(&self.source_name(), &i.profile.name()).await? {
            Some(t) => elapsed_since(now, t) < i.config.max_sign_in_age,
            None => true,
        };
        if !recent {
            return Ok(true);
        }
        let token_ok = i
            .cache
            .load(i.profile.cache_key())?
            .is_some_and(|t| !i.refresh_window.needs_refresh(Some(t.expires_at), now));
        if !token_ok {
            return Ok(true);
        }
        let role_ok =
            self.credentials.peek().await.is_some_and(|c| !i.refresh_window.needs_refresh(c.expiration(), now));
        Ok(!role_ok)
    }

    /// Signs out: tells the portal (SSO `Logout`, best effort: a portal that cannot be reached
    /// does not keep the sign-in on this machine), removes the token from the SSO cache, and
    /// forgets the role credentials it gave. Any other profile of the same sign-in finds the
    /// token gone and forgets its credentials when next used. Whether the portal was told.
    pub async fn sign_out(&self) -> Result<bool, SsoError> {
        let key = self.inner.profile.cache_key();
        let mut told = false;
        if let Some(token) = self.inner.cache.load(key)? {
            match self.inner.sso.logout().access_token(token.access_token.expose_secret()).send().await {
                Ok(_) => told = true,
                Err(e) => {
                    let f = aws_failure::call_failure("SSO", "Logout", &e);
                    tracing::warn!(error = %f, "the portal was not told of the sign-out; the sign-in is removed here anyway");
                }
            }
        }
        self.inner.cache.remove(key)?;
        self.credentials.invalidate().await?;
        Ok(told)
    }

    /// Refreshes now: a new SSO token (silently if possible), then role credentials.
    pub async fn refresh_credentials(&self) -> Result<AwsCredentials, SsoError> {
        let token = self.inner.obtain_token(true).await?;
        let creds = self.inner.role_credentials(&token).await?;
        self.credentials.seed(creds.clone()).await?;
        Ok(creds)
    }

    /// Valid credentials, refreshing first when [`AwsSso::should_refresh_credentials`] says so.
    pub async fn ensure_valid_credentials(&self) -> Result<AwsCredentials, SsoError> {
        if self.should_refresh_credentials().await? {
            return self.refresh_credentials().await;
        }
        match self.credentials.peek().await {
            Some(c) => Ok(c),
            None => self.refresh_credentials().await,
        }
    }

    /// Keeps the credentials valid in the background, checking every `interval`, until
    /// [`LongRunning::stop`] is called. Failures are logged and retried at the next tick.
    pub fn run_long_process(&self, interval: Duration) -> LongRunning {
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let this = self.clone();
        let task = tokio::spawn(async move {
            let mut checks = 0u64;
            loop {
                match this.ensure_valid_credentials().await {
                    Ok(_) => checks += 1,
                    Err(e) => {
                        tracing::warn!(error = %e, "keeping SSO credentials valid failed; retrying at the next check")
                    }
                }
                tokio::select! {
                    _ = stop_rx.changed() => break,
                    () = this.inner.sleeper.sleep(interval) => {}
                }
            }
            checks
        });
        LongRunning { stop: stop_tx, task }
    }
}

/// A background task started by [`AwsSso::run_long_process`].
#[derive(Debug)]
pub struct LongRunning {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<u64>,
}

impl LongRunning {
    /// Stops the task and waits for it; returns how many checks succeeded.
    pub async fn stop(self) -> u64 {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or(0)
    }
}

/// Where the refreshing cache keeps an SSO profile's role credentials: an entry named by a
/// hash of what decides them (session, start URL, Identity Center region, account, role).
pub fn role_cache_file(paths: &Paths, profile: &crate::SsoProfile) -> PathBuf {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let parts = [
        opt(&profile.session),
        profile.start_url.clone(),
        profile.sso_region.clone(),
        opt(&profile.account_id),
        opt(&profile.role_name),
    ];
    paths.cache_entry("sso", &parts.iter().map(String::as_str).collect::<Vec<_>>())
}
