//! `AwsSso`: keeps one SSO profile's credentials valid.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_sso::error::ProvideErrorMetadata;
use core_types::{
    AwsCredentials, Clock, CredentialSource, ErrorKind, ExposeSecret, RefreshPolicy, SecretString, SystemClock,
};
use cred_store::{AwsFiles, Ledger, Outcome, Paths, Refreshing, SsoCache, SsoToken};

use crate::config::SsoConfig;

/// How long one SSO / SSO-OIDC call attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a refresh waits for another process refreshing the same SSO token.
const REFRESH_LOCK_WAIT: Duration = Duration::from_secs(45);
use crate::error::SsoError;
use crate::runner::{CommandRunner, Sleeper, SystemRunner, TokioSleeper};

/// The SSO settings of a profile, as the AWS CLI resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SsoProfile {
    /// The profile name.
    pub profile: String,
    /// The `sso_session` it uses (absent for legacy profiles).
    pub session: Option<String>,
    /// The portal start URL.
    pub start_url: String,
    /// The Identity Center region.
    pub sso_region: String,
    /// The account.
    pub account_id: String,
    /// The permission set's role.
    pub role_name: String,
}

impl SsoProfile {
    /// Reads a profile (and its `[sso-session]`) from `~/.aws/config`.
    pub fn load(files: &AwsFiles, profile: &str) -> Result<Self, SsoError> {
        let missing = |m: &str| SsoError::NotConfigured { profile: profile.to_owned(), message: m.to_owned() };
        let p = files.load_profile(profile)?.ok_or_else(|| missing("no such profile in the AWS config file"))?;
        let (start_url, sso_region) = match &p.sso_session {
            Some(s) => {
                let section =
                    files.load_sso_session(s)?.ok_or_else(|| missing(&format!("[sso-session {s}] is missing")))?;
                (section.get("sso_start_url").cloned(), section.get("sso_region").cloned())
            }
            None => (p.sso_start_url.clone(), p.sso_region.clone()),
        };
        Ok(Self {
            profile: profile.to_owned(),
            session: p.sso_session.clone(),
            start_url: start_url.ok_or_else(|| missing("sso_start_url is not set"))?,
            sso_region: sso_region.ok_or_else(|| missing("sso_region is not set"))?,
            account_id: p.sso_account_id.clone().ok_or_else(|| missing("sso_account_id is not set"))?,
            role_name: p.sso_role_name.clone().ok_or_else(|| missing("sso_role_name is not set"))?,
        })
    }

    /// The token cache key: the session name, or the start URL for legacy profiles.
    pub fn cache_key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }
}

struct Inner {
    config: SsoConfig,
    profile: SsoProfile,
    cache: SsoCache,
    sso: aws_sdk_sso::Client,
    oidc: aws_sdk_ssooidc::Client,
    runner: Arc<dyn CommandRunner>,
    sleeper: Arc<dyn Sleeper>,
    clock: Arc<dyn Clock>,
    ledger: Ledger,
    refresh_window: RefreshPolicy,
    files: AwsFiles,
    write_profile: Option<String>,
}

/// Builds an [`AwsSso`].
pub struct AwsSsoBuilder {
    config: SsoConfig,
    paths: Paths,
    profile: String,
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
            .field("profile", &self.profile)
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
        let profile = SsoProfile::load(&files, &self.profile)?;
        let ledger = match &self.config.db_path {
            Some(loc) => Ledger::open(loc).await?,
            None => Ledger::open_default(&self.paths).await?,
        };
        let sdk = self
            .sdk
            .unwrap_or_else(|| SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build());
        let region = aws_config::Region::new(profile.sso_region.clone());
        // every attempt has a deadline, so a stalled endpoint cannot hang a refresh
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(ATTEMPT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .build();
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
            ledger,
            refresh_window: self.refresh_window,
            files,
            write_profile: self.write_profile,
        });
        let entry = self.paths.cache_dir().join(format!("sso-{}.json", inner.profile.profile));
        let credentials = Refreshing::builder(SsoSource { inner: inner.clone() })
            .refresh_window(inner.refresh_window)
            .clock(inner.clock.clone())
            .persist_to(entry)
            .build();
        Ok(AwsSso { inner, credentials })
    }
}

/// Keeps an SSO profile's credentials valid: silently through the SSO-OIDC refresh token
/// when it can, through `aws sso login` when it must, recording every attempt in the ledger.
#[derive(Clone)]
pub struct AwsSso {
    inner: Arc<Inner>,
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
        AwsSsoBuilder {
            config,
            paths: paths.clone(),
            profile: profile.to_owned(),
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

    /// The self-refreshing credentials, usable as an AWS SDK credentials provider.
    pub fn credentials_provider(&self) -> Refreshing<SsoSource> {
        self.credentials.clone()
    }

    /// Whether a refresh is due: no good sign-in within the window (per the ledger), or the
    /// SSO token or the role credentials are missing, expired or inside the refresh window.
    pub async fn should_refresh_credentials(&self) -> Result<bool, SsoError> {
        let i = &self.inner;
        let now = i.clock.now();
        let status = i.ledger.status(&self.source_name(), &i.profile.profile).await?;
        let recent =
            status.and_then(|s| s.obtained_at).is_some_and(|t| elapsed_since(now, t) < i.config.max_sign_in_age);
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

/// A failed SSO / SSO-OIDC call as facts, the SDK's error kept as the cause.
fn call_error<O>(
    service: &str,
    operation: &str,
    e: aws_sdk_sso::error::SdkError<O, aws_sdk_sso::config::http::HttpResponse>,
    kind: ErrorKind,
) -> SsoError
where
    O: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    SsoError::Call(aws_failure::AwsCallError::new(service, operation, e).with_kind(kind))
}

fn is_auth_failure(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "InvalidGrantException"
                | "UnauthorizedClientException"
                | "ExpiredTokenException"
                | "AccessDeniedException"
                | "InvalidClientException"
                | "UnauthorizedException"
        )
    )
}

impl Inner {
    fn source(&self) -> String {
        format!("sso:{}", self.profile.cache_key())
    }

    async fn record(&self, outcome: Outcome) {
        if let Err(e) =
            self.ledger.record_attempt(&self.source(), &self.profile.profile, self.clock.now(), &outcome).await
        {
            tracing::warn!(error = %e, "could not record the attempt in the ledger");
        }
    }

    /// A valid SSO access token: the cached one (unless `force`), else refreshed through
    /// SSO-OIDC, else from `aws sso login`. Refreshes are single-flight across processes:
    /// under the cache entry's refresh lock the file is read again, and a token another
    /// process refreshed meanwhile is used instead of spending the refresh token again.
    async fn obtain_token(&self, force: bool) -> Result<SsoToken, SsoError> {
        let now = self.clock.now();
        let key = self.profile.cache_key();
        let seen = self.cache.load(key)?;
        if !force
            && let Some(t) = &seen
            && !self.refresh_window.needs_refresh(Some(t.expires_at), now)
        {
            return Ok(t.clone());
        }
        let target = self.cache.refresh_lock(key);
        let _lock = tokio::task::spawn_blocking(move || cred_store::fsutil::lock_within(&target, REFRESH_LOCK_WAIT))
            .await
            .map_err(|e| SsoError::Unavailable(format!("lock task failed: {e}")))??;
        let cached = self.cache.load(key)?;
        if let Some(t) = &cached
            && !self.refresh_window.needs_refresh(Some(t.expires_at), self.clock.now())
            && (!force || seen.as_ref().is_none_or(|s| t.expires_at > s.expires_at))
        {
            return Ok(t.clone());
        }
        if let Some(t) = &cached {
            match self.silent_refresh(t).await {
                Ok(Some(fresh)) => return Ok(fresh),
                Ok(None) => {}
                Err(e) => return Err(e),
            }
        }
        self.cli_login().await?;
        let token = self.cache.load(self.profile.cache_key())?.ok_or_else(|| {
            SsoError::Authentication("`aws sso login` succeeded but wrote no token to the SSO cache".into())
        })?;
        if self.refresh_window.freshness(Some(token.expires_at), self.clock.as_ref()) == core_types::Freshness::Expired
        {
            return Err(SsoError::Authentication("the token `aws sso login` wrote is already expired".into()));
        }
        Ok(token)
    }

    /// `CreateToken` with the refresh token. `Ok(None)` means "not possible or refused: use
    /// the CLI"; an unreachable service is an error (the CLI would fail too).
    async fn silent_refresh(&self, t: &SsoToken) -> Result<Option<SsoToken>, SsoError> {
        let now = self.clock.now();
        let (Some(refresh), Some(client_id), Some(secret)) = (&t.refresh_token, &t.client_id, &t.client_secret) else {
            return Ok(None);
        };
        if t.registration_expires_at.is_some_and(|r| r <= now) {
            tracing::info!("the SSO-OIDC client registration has expired; falling back to `aws sso login`");
            return Ok(None);
        }
        let result = self
            .oidc
            .create_token()
            .client_id(client_id)
            .client_secret(secret.expose_secret())
            .grant_type("refresh_token")
            .refresh_token(refresh.expose_secret())
            // sent once: a copy that reached the service before a reset spent the token
            .customize()
            .config_override(
                aws_sdk_ssooidc::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match result {
            Ok(out) => {
                let access = out
                    .access_token()
                    .ok_or_else(|| SsoError::Unavailable("CreateToken returned no access token".into()))?;
                let lifetime = Duration::from_secs(u64::try_from(out.expires_in()).unwrap_or(0));
                let mut fresh = t.clone();
                fresh.access_token = SecretString::from(access.to_owned());
                fresh.expires_at = now + lifetime;
                if let Some(rt) = out.refresh_token() {
                    fresh.refresh_token = Some(SecretString::from(rt.to_owned()));
                }
                tracing::info!(profile = %self.profile.profile, "SSO token refreshed silently");
                match self.cache.save(self.profile.cache_key(), &fresh) {
                    // the file may hold a newer token still (`aws sso login` meanwhile)
                    Ok(kept) => Ok(Some(kept)),
                    Err(e) => {
                        // the refresh token is spent upstream: use the fresh token, and say
                        // loudly that it could not be kept
                        tracing::error!(error = %e, "refreshed the SSO token, but could NOT SAVE it to the SSO cache; it is used now but lost when this process ends — free disk space or fix the permissions");
                        Ok(Some(fresh))
                    }
                }
            }
            Err(e) => {
                let code = e.code().map(str::to_owned);
                let message = format!("CreateToken: {}", code.as_deref().unwrap_or("no response"));
                if is_auth_failure(code.as_deref()) {
                    self.record(Outcome::Failure { kind: ErrorKind::NotAuthorized, message }).await;
                    Ok(None)
                } else {
                    self.record(Outcome::Failure { kind: ErrorKind::Unavailable, message }).await;
                    Err(call_error("SSO OIDC", "CreateToken", e, ErrorKind::Unavailable))
                }
            }
        }
    }

    /// `aws sso login --profile P`, retried with growing delays.
    async fn cli_login(&self) -> Result<(), SsoError> {
        let exe = &self.config.aws_exec_file_path;
        let args: Vec<String> =
            ["sso", "login", "--profile", &self.profile.profile].iter().map(|s| (*s).to_owned()).collect();
        let args = &args;
        let mut attempt = 0u32;
        let once = || {
            attempt += 1;
            let n = attempt;
            async move {
                tracing::info!(attempt = n, "running {} sso login --profile {}", exe.display(), self.profile.profile);
                let failure = match self.runner.run(exe, args).await {
                    Ok(out) if out.success => {
                        self.record(Outcome::Success { expires_at: None }).await;
                        return Ok(());
                    }
                    Ok(out) => format!(
                        "exit {}: {}",
                        out.code.map(|c| c.to_string()).unwrap_or_else(|| "by signal".into()),
                        out.stderr.lines().next().unwrap_or("").trim()
                    ),
                    Err(e) => format!("cannot run {}: {e}", exe.display()),
                };
                self.record(Outcome::Failure {
                    kind: ErrorKind::NotAuthorized,
                    message: format!("aws sso login attempt {n}: {failure}"),
                })
                .await;
                Err(failure)
            }
        };
        // every failed run is worth another, with growing delays, until the policy is spent
        let judge = |_: &String| core_types::Verdict::Retry { after: None };
        let (result, attempts) = self.config.retry_policy().run(once, judge, |d| self.sleeper.sleep(d)).await;
        result.map_err(|failure| {
            SsoError::Authentication(format!(
                "`{} sso login --profile {}` failed {attempts} time(s), last: {failure}; run it yourself to finish the browser sign-in",
                exe.display(),
                self.profile.profile
            ))
        })
    }

    async fn role_credentials(&self, token: &SsoToken) -> Result<AwsCredentials, SsoError> {
        let out = self
            .sso
            .get_role_credentials()
            .role_name(&self.profile.role_name)
            .account_id(&self.profile.account_id)
            .access_token(token.access_token.expose_secret())
            .send()
            .await;
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                let code = e.code().unwrap_or("no response").to_owned();
                let kind = if is_auth_failure(Some(&code)) { ErrorKind::AccessDenied } else { ErrorKind::Unavailable };
                self.record(Outcome::Failure { kind, message: format!("GetRoleCredentials: {code}") }).await;
                return Err(if kind == ErrorKind::Unavailable {
                    call_error("IAM Identity Center", "GetRoleCredentials", e, kind)
                } else {
                    SsoError::Credential(format!(
                        "GetRoleCredentials refused ({code}) for role {} in {}",
                        self.profile.role_name, self.profile.account_id
                    ))
                });
            }
        };
        let rc = out
            .role_credentials()
            .ok_or_else(|| SsoError::Credential("GetRoleCredentials returned no credentials".into()))?;
        let (Some(id), Some(secret)) = (rc.access_key_id(), rc.secret_access_key()) else {
            return Err(SsoError::Credential("role credentials lack a key id or secret".into()));
        };
        let expiry = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(rc.expiration()).unwrap_or(0));
        let creds = AwsCredentials::new(id, secret, rc.session_token().map(str::to_owned), Some(expiry))
            .with_account_id(self.profile.account_id.clone());
        if let Some(p) = &self.write_profile {
            self.files.save_credentials(p, &creds)?;
        }
        self.record(Outcome::Success { expires_at: Some(expiry) }).await;
        Ok(creds)
    }
}

/// The [`CredentialSource`] behind [`AwsSso::credentials_provider`]: a valid token (cached,
/// refreshed or from the CLI), then role credentials.
#[derive(Clone)]
pub struct SsoSource {
    inner: Arc<Inner>,
}

impl fmt::Debug for SsoSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoSource").field("profile", &self.inner.profile.profile).finish()
    }
}

impl CredentialSource for SsoSource {
    type Output = AwsCredentials;
    type Error = SsoError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Owned(self.inner.source())
    }

    async fn fetch(&self) -> Result<AwsCredentials, SsoError> {
        let token = self.inner.obtain_token(false).await?;
        self.inner.role_credentials(&token).await
    }
}

/// Where the refreshing cache keeps an SSO profile's role credentials.
pub fn role_cache_file(paths: &Paths, profile: &str) -> PathBuf {
    paths.cache_dir().join(format!("sso-{profile}.json"))
}
