//! How the manager builds sessions.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::{Clock, RefreshPolicy, RetryPolicy, SystemClock};
use cred_store::TokenStore;

use crate::refs::EnvLookup;

/// How the manager builds sessions: `ManagerOptions::default()` and the setters below.
#[derive(Clone)]
pub struct ManagerOptions {
    pub(crate) endpoint_url: Option<String>,
    pub(crate) env: EnvLookup,
    pub(crate) retry: RetryPolicy,
    pub(crate) refresh_window: RefreshPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) token_store: Option<TokenStore>,
    /// Where Azure access tokens are kept between processes (none: in memory only).
    #[cfg(feature = "azure")]
    pub(crate) azure_token_cache: Option<TokenStore>,
    pub(crate) attempt_timeout: Duration,
    #[cfg(feature = "azure")]
    pub(crate) http: reqwest::Client,
    pub(crate) paths: Option<cred_store::Paths>,
    /// Consecutive transient failures that open a session's circuit, and its cool-down.
    pub(crate) breaker: (u32, Duration),
    /// The region of STS calls for profile chains (default: the profile's, else us-east-1).
    pub(crate) region: Option<String>,
    /// How long a refresh waits for another process's refresh of the same entry.
    pub(crate) lock_wait: Duration,
    /// The code a person gave for a role's MFA device (spent by the next AssumeRole).
    pub(crate) mfa_code: Option<core_types::SecretString>,
    /// The user's role for access control (over the file's `user.role`).
    pub(crate) user_role: Option<String>,
    /// Asks a person for an MFA device's code when a role needs one and none was given.
    pub(crate) mfa_prompt: Option<MfaPrompt>,
    /// The SDK configuration every AWS client starts from (HTTP client, sleep, ...).
    pub(crate) sdk_config: Option<SdkConfig>,
    /// The fleet level: every last step's refreshes go through this team store.
    pub(crate) team: Option<crate::team::Team>,
}

/// Asks a person for the code of the MFA device `serial` (`None`: no one to ask). Called only
/// by the process that refreshes, under the entry's lock: once per role session, however many
/// processes need it.
pub type MfaPrompt = Arc<dyn Fn(&str) -> Option<core_types::SecretString> + Send + Sync>;

impl fmt::Debug for ManagerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerOptions")
            .field("endpoint_url", &self.endpoint_url)
            .field("retry", &self.retry)
            .field("refresh_window", &self.refresh_window)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

impl Default for ManagerOptions {
    #[allow(clippy::disallowed_methods)] // the default reads the real environment; tests pass their own
    fn default() -> Self {
        Self {
            endpoint_url: None,
            env: Arc::new(|k| std::env::var(k).ok()),
            retry: RetryPolicy::default(),
            refresh_window: RefreshPolicy::default(),
            clock: Arc::new(SystemClock),
            token_store: None,
            #[cfg(feature = "azure")]
            azure_token_cache: None,
            attempt_timeout: Duration::from_secs(10),
            #[cfg(feature = "azure")]
            http: crate::azure::default_client(),
            paths: None,
            breaker: (5, Duration::from_secs(30)),
            region: None,
            lock_wait: cred_store::DEFAULT_REFRESH_LOCK_WAIT,
            mfa_code: None,
            user_role: None,
            mfa_prompt: None,
            sdk_config: None,
            team: None,
        }
    }
}

impl ManagerOptions {
    /// After `threshold` transient failures in a row (default 5), a session's checks and
    /// rotations fail fast for `cool_down` (default 30 s) instead of retrying against a
    /// service that is down; then one trial call decides.
    #[must_use]
    pub fn circuit_breaker(mut self, threshold: u32, cool_down: Duration) -> Self {
        self.breaker = (threshold.max(1), cool_down);
        self
    }

    /// Overrides every AWS endpoint (tests, VPC endpoints, LocalStack-style servers).
    #[must_use]
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }
    /// The environment lookup for `ENV/` references and the SDK settings (default: the
    /// process environment).
    #[must_use]
    pub fn env(mut self, env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Arc::new(env);
        self
    }
    /// Retries of health checks and rotations (throttling, 5xx, timeouts only).
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Renew temporary credentials and tokens this long before expiry (default 5 min).
    #[must_use]
    pub fn refresh_window(mut self, window: RefreshPolicy) -> Self {
        self.refresh_window = window;
        self
    }
    /// The clock (default the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// The local secret store for `SEC/` references.
    #[must_use]
    pub fn token_store(mut self, store: TokenStore) -> Self {
        self.token_store = Some(store);
        self
    }
    /// Keeps Azure sessions' access tokens in `store` (0600; one entry per authority and
    /// tenant, client and credential, and scope set) so that another process, or the next
    /// run, is served while a token is valid instead of asking the credential again (for the
    /// Azure CLI, a run of `az` that takes seconds). Renewals take the entry's lock: one
    /// process at a time asks, the others wait and read its token. Default: in memory only.
    #[cfg(feature = "azure")]
    #[must_use]
    pub fn azure_token_cache(mut self, store: TokenStore) -> Self {
        self.azure_token_cache = Some(store);
        self
    }
    /// How long one attempt of an AWS call (or one Azure credential) may take before it
    /// counts as a (retryable) timeout (default 10 s).
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }
    /// The HTTP client Azure credentials and Key Vault send through (default: rustls with
    /// the platform's roots).
    #[cfg(feature = "azure")]
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = client;
        self
    }
    /// Where `~/.aws`, `~/.ccc` and the caches are (SSO and Cognito sessions); default: from
    /// `HOME` / `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` in the environment lookup.
    #[must_use]
    pub fn paths(mut self, paths: cred_store::Paths) -> Self {
        self.paths = Some(paths);
        self
    }

    /// The region of STS calls made for profile chains (default: the profile's own
    /// `region`, else us-east-1).
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Like [`ManagerOptions::region`], or back to the default with `None`.
    pub fn set_region(&mut self, region: Option<String>) -> &mut Self {
        self.region = region;
        self
    }

    /// How long a refresh waits for another process's refresh of the same cache entry
    /// (default `cred_store::DEFAULT_REFRESH_LOCK_WAIT`).
    #[must_use]
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The code a person read off the MFA device a role names (`mfa_serial`): the next
    /// AssumeRole of such a role sends it. Without one, that refresh fails as needing a
    /// person (`ErrorKind::NotAuthorized`).
    #[must_use]
    pub fn mfa_code(mut self, code: core_types::SecretString) -> Self {
        self.mfa_code = Some(code);
        self
    }

    /// The user's role for access control (`roles.ROLE.allowed_sessions`), over the file's
    /// `user.role`: [`crate::CloudSessionManager::get_user_session`] honours it.
    #[must_use]
    pub fn user_role(mut self, role: impl Into<String>) -> Self {
        self.user_role = Some(role.into());
        self
    }

    /// Who is asked for an MFA code when a role needs one and [`ManagerOptions::mfa_code`]
    /// gave none (default: no one; the refresh fails as needing a person). Only the process
    /// that refreshes asks, under the entry's lock.
    #[must_use]
    pub fn mfa_prompt(
        mut self,
        prompt: impl Fn(&str) -> Option<core_types::SecretString> + Send + Sync + 'static,
    ) -> Self {
        self.mfa_prompt = Some(Arc::new(prompt));
        self
    }

    /// The SDK configuration every AWS client the engine builds starts from: its HTTP client,
    /// sleep and identity cache stay; region, retries, deadlines, endpoint and credentials
    /// are the engine's.
    #[must_use]
    pub fn sdk_config(mut self, sdk: SdkConfig) -> Self {
        self.sdk_config = Some(sdk);
        self
    }

    /// Shares every built chain's last refresh with a fleet through `store` (one machine
    /// renews, the others read its value), keyed by the chain's content.
    #[cfg(feature = "team-store")]
    #[must_use]
    pub fn team_store(mut self, store: cred_store::TeamStore) -> Self {
        self.team = Some(store);
        self
    }

    /// The paths given, else those of the environment lookup.
    pub(crate) fn resolved_paths(&self) -> Result<cred_store::Paths, cred_store::Error> {
        match &self.paths {
            Some(p) => Ok(p.clone()),
            None => cred_store::Paths::from_lookup(|k| (self.env)(k)),
        }
    }

    pub(crate) fn sts_region(&self) -> String {
        self.region.clone().unwrap_or_else(|| "us-east-1".to_owned())
    }

    #[cfg(feature = "azure")]
    pub(crate) fn azure_transport(&self) -> Arc<dyn azure_core::http::HttpClient> {
        Arc::new(self.http.clone())
    }
}

/// An SDK configuration for `region` with the manager's endpoint and attempt timeout.
pub(crate) fn base_config(
    region: &str,
    options: &ManagerOptions,
    provider: Option<SharedCredentialsProvider>,
    retry: RetryConfig,
) -> SdkConfig {
    let start = options.sdk_config.as_ref().map_or_else(SdkConfig::builder, SdkConfig::to_builder);
    let mut b = start
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .retry_config(retry)
        // a stalled endpoint costs one attempt, not the run: the attempt times out and the
        // retry policy decides what next
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(options.attempt_timeout)
                .operation_attempt_timeout(options.attempt_timeout)
                .build(),
        );
    b.set_endpoint_url(options.endpoint_url.clone());
    b.set_credentials_provider(provider);
    b.build()
}
