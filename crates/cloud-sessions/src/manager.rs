//! `CloudSessionManager`: the built sessions, looked up by name and guarded by roles. Cheap
//! clones share everything. Building is `plan` then `build`; health checks and rotation are
//! in health.rs and rotation.rs.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::{AwsCredentials, Clock, Kinded, RefreshPolicy, RetryPolicy, SystemClock, Verdict};
use cred_store::{Refreshing, TokenStore};

use crate::azure::{AzureSession, ReqwestTransport};
use crate::config::{RoleSpec, SessionType};
use crate::error::SessionError;
use crate::plan::{Plan, plan};
use crate::refs::EnvLookup;
use crate::renew::Renewer;
use crate::reports::RotationReport;
use crate::sources::AssumeRoleSource;

/// How the manager builds sessions: `ManagerOptions::default()` and the setters below.
#[derive(Clone)]
pub struct ManagerOptions {
    pub(crate) endpoint_url: Option<String>,
    pub(crate) env: EnvLookup,
    pub(crate) retry: RetryPolicy,
    pub(crate) refresh_window: RefreshPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) token_store: Option<TokenStore>,
    pub(crate) attempt_timeout: Duration,
    pub(crate) http: reqwest::Client,
    pub(crate) paths: Option<cred_store::Paths>,
}

impl fmt::Debug for ManagerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerOptions")
            .field("endpoint_url", &self.endpoint_url)
            .field("retry", &self.retry)
            .field("refresh_window", &self.refresh_window)
            .field("attempt_timeout", &self.attempt_timeout)
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
            attempt_timeout: Duration::from_secs(10),
            http: ReqwestTransport::default_client(),
            paths: None,
        }
    }
}

impl ManagerOptions {
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
    /// How long one attempt of an AWS call (or one Azure credential) may take before it
    /// counts as a (retryable) timeout (default 10 s).
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }
    /// The HTTP client Azure credentials and Key Vault send through (default: rustls with
    /// the platform's roots).
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

    pub(crate) fn azure_transport(&self) -> Arc<dyn azure_core::http::HttpClient> {
        Arc::new(ReqwestTransport::new(self.http.clone()))
    }
}

/// An AWS session: an `SdkConfig` whose credentials keep themselves valid.
#[derive(Clone)]
pub struct AwsSession {
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) sdk: SdkConfig,
    pub(crate) provider: SharedCredentialsProvider,
    pub(crate) role: Option<Refreshing<AssumeRoleSource>>,
    pub(crate) renewer: Option<Renewer>,
    pub(crate) static_keys: Option<AwsCredentials>,
}

impl fmt::Debug for AwsSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSession").field("name", &self.name).field("region", &self.region).finish_non_exhaustive()
    }
}

impl AwsSession {
    /// The session's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its region.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// Build any aws-sdk client from this.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }
    /// Its credentials provider.
    pub fn credentials_provider(&self) -> SharedCredentialsProvider {
        self.provider.clone()
    }
}

/// A declared session of either kind.
#[derive(Debug, Clone)]
pub enum Session {
    /// An AWS session (boxed: an `SdkConfig` is large).
    Aws(Box<AwsSession>),
    /// An Azure session.
    Azure(AzureSession),
}

impl Session {
    /// The session's name.
    pub fn name(&self) -> &str {
        match self {
            Session::Aws(s) => s.name(),
            Session::Azure(s) => s.name(),
        }
    }
    /// Its kind.
    pub fn session_type(&self) -> SessionType {
        match self {
            Session::Aws(_) => SessionType::Aws,
            Session::Azure(_) => SessionType::Azure,
        }
    }
    /// The AWS session, if it is one.
    pub fn as_aws(&self) -> Option<&AwsSession> {
        match self {
            Session::Aws(s) => Some(s),
            Session::Azure(_) => None,
        }
    }
    /// The Azure session, if it is one.
    pub fn as_azure(&self) -> Option<&AzureSession> {
        match self {
            Session::Azure(s) => Some(s),
            Session::Aws(_) => None,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) roles: BTreeMap<String, RoleSpec>,
    pub(crate) warnings: Vec<String>,
    pub(crate) options: ManagerOptions,
    pub(crate) aws: BTreeMap<String, AwsSession>,
    pub(crate) azure: BTreeMap<String, AzureSession>,
    pub(crate) rotations: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    pub(crate) reports: Arc<Mutex<Vec<RotationReport>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for t in self.rotations.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
            t.abort();
        }
    }
}

/// The declared sessions. Cheap to clone: clones share everything (no process-global state).
#[derive(Clone)]
pub struct CloudSessionManager {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for CloudSessionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudSessionManager").field("sessions", &self.session_names()).finish()
    }
}

impl CloudSessionManager {
    /// Plans and builds every session of `yaml` (resolving `ENV/` and `SEC/` references).
    pub async fn from_yaml(yaml: &str, options: ManagerOptions) -> Result<Self, SessionError> {
        Self::from_plan(plan(yaml)?, options).await
    }

    /// Builds every session of `plan`, in its order.
    pub async fn from_plan(plan: Plan, options: ManagerOptions) -> Result<Self, SessionError> {
        for w in &plan.warnings {
            tracing::warn!("{w}");
        }
        let built = crate::build::build(&plan, &options).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                roles: plan.roles,
                warnings: plan.warnings,
                options,
                aws: built.aws,
                azure: built.azure,
                rotations: Mutex::default(),
                reports: Arc::default(),
            }),
        })
    }

    /// Reads, plans and builds a YAML file.
    pub async fn from_file(path: &std::path::Path, options: ManagerOptions) -> Result<Self, SessionError> {
        let text = cred_store::fsutil::read_text(path).map_err(|e| SessionError::Config {
            path: path.display().to_string(),
            message: match e {
                cred_store::Error::Io { source, .. } => format!("cannot read: {source}"),
                e => e.to_string(),
            },
        })?;
        Self::from_yaml(&text, options).await
    }

    /// Calls `op` until it succeeds, retrying throttling / unavailable errors only, per the
    /// manager's retry policy. Returns the result and the attempts made.
    pub(crate) async fn with_retry<T, F, Fut>(&self, op: F) -> (Result<T, SessionError>, u32)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SessionError>>,
    {
        let judge = |e: &SessionError| {
            if e.kind().is_retryable() { Verdict::Retry { after: None } } else { Verdict::Final }
        };
        self.inner.options.retry.run(op, judge, tokio::time::sleep).await
    }

    /// Warnings found at load (plaintext secrets).
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// Every session name (regional ones included).
    pub fn session_names(&self) -> Vec<String> {
        self.inner.aws.keys().chain(self.inner.azure.keys()).cloned().collect()
    }

    /// A session by name.
    pub fn get_session(&self, name: &str) -> Result<Session, SessionError> {
        if let Some(s) = self.inner.aws.get(name) {
            return Ok(Session::Aws(Box::new(s.clone())));
        }
        if let Some(s) = self.inner.azure.get(name) {
            return Ok(Session::Azure(s.clone()));
        }
        Err(SessionError::UnknownSession(name.to_owned()))
    }

    /// An AWS session by name (an Azure one of that name is an error saying so).
    pub fn aws_session(&self, name: &str) -> Result<AwsSession, SessionError> {
        match self.get_session(name)? {
            Session::Aws(s) => Ok(*s),
            Session::Azure(_) => Err(wrong_kind(name, "an Azure", "AWS")),
        }
    }

    /// An Azure session by name (an AWS one of that name is an error saying so).
    pub fn azure_session(&self, name: &str) -> Result<AzureSession, SessionError> {
        match self.get_session(name)? {
            Session::Azure(s) => Ok(s),
            Session::Aws(_) => Err(wrong_kind(name, "an AWS", "Azure")),
        }
    }

    /// A session, if `role` may use it (`roles.ROLE.allowed_sessions`).
    pub fn get_authorized_session(&self, role: &str, name: &str) -> Result<Session, SessionError> {
        let allowed =
            self.inner.roles.get(role).is_some_and(|r| r.allowed_sessions.iter().any(|s| s == "*" || s == name));
        if !allowed {
            return Err(SessionError::PermissionDenied { role: role.to_owned(), session: name.to_owned() });
        }
        self.get_session(name)
    }
}

fn wrong_kind(name: &str, is: &str, wanted: &str) -> SessionError {
    SessionError::Unsupported {
        name: name.to_owned(),
        message: format!("is {is} session; this needs an {wanted} session"),
    }
}

#[allow(dead_code)]
fn _is_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<CloudSessionManager>();
}
