//! `CloudSessionManager`: the declared sessions, built once, shared by cheap clones.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::{
    AwsCredentials, Clock, CredentialSource, ErrorKind, ExposeSecret, Kinded, RefreshPolicy, RetryPolicy, SystemClock,
};
use cred_store::{Refreshing, TokenStore, to_sdk_credentials};

use crate::azure::{AzureEnv, AzureSession, AzureSpec, MANAGEMENT_SCOPE, ReqwestTransport, azure_error, secret};
use crate::config::{LoadedConfig, SessionSpec, SessionType, parse_config};
use crate::error::SessionError;
use crate::refs::{AwsSecretStore, EnvLookup, LocalSecretStore, Resolver};
use crate::renew::Renewer;
use crate::sources::{Assume, AssumeRoleSource, aws_error};

/// How the manager builds sessions.
#[derive(Clone)]
pub struct ManagerOptions {
    /// Overrides every AWS endpoint (tests, VPC endpoints, LocalStack-style servers).
    pub endpoint_url: Option<String>,
    /// Environment lookup for `ENV/` references.
    pub env: EnvLookup,
    /// Retries of health checks and rotations (throttling, 5xx, timeouts only).
    pub retry: RetryPolicy,
    /// Refresh temporary credentials this long before expiry.
    pub refresh: RefreshPolicy,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The local secret store for `SEC/` references.
    pub token_store: Option<TokenStore>,
    /// How long one attempt of an AWS call (or one Azure credential) may take before it
    /// counts as a (retryable) timeout.
    pub attempt_timeout: Duration,
    /// The HTTP client Azure credentials send through.
    pub azure_transport: Arc<dyn azure_core::http::HttpClient>,
    /// Where `~/.aws`, `~/.ccc` and the caches are (SSO and Cognito sessions); `None`: from
    /// `HOME` / `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` in `env`.
    pub paths: Option<cred_store::Paths>,
}

impl fmt::Debug for ManagerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerOptions")
            .field("endpoint_url", &self.endpoint_url)
            .field("retry", &self.retry)
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
            refresh: RefreshPolicy::default(),
            clock: Arc::new(SystemClock),
            token_store: None,
            attempt_timeout: Duration::from_secs(10),
            azure_transport: Arc::new(ReqwestTransport::default()),
            paths: None,
        }
    }
}

/// An AWS session: an `SdkConfig` whose credentials keep themselves valid.
#[derive(Clone)]
pub struct AwsSession {
    name: String,
    region: String,
    sdk: SdkConfig,
    provider: SharedCredentialsProvider,
    role: Option<Refreshing<AssumeRoleSource>>,
    renewer: Option<Renewer>,
    static_keys: Option<AwsCredentials>,
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

/// The result of a health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// The session.
    pub name: String,
    /// Whether GetCallerIdentity (AWS) or token acquisition (Azure) succeeded.
    pub healthy: bool,
    /// The caller ARN (AWS).
    pub arn: Option<String>,
    /// The account (AWS) or subscription (Azure).
    pub account: Option<String>,
    /// Which Azure credential answered.
    pub credential: Option<String>,
    /// What the Azure credential chain tried (`environment: skipped (...)`, ...).
    pub chain: Vec<String>,
    /// How long the check took (all attempts).
    pub latency: Duration,
    /// Attempts made.
    pub attempts: u32,
    /// The failure's kind.
    pub error_kind: Option<ErrorKind>,
    /// The failure.
    pub error: Option<String>,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The session.
    pub name: String,
    /// When.
    pub at: SystemTime,
    /// `None` on success, else why the old credential was kept.
    pub error: Option<String>,
}

/// Credentials for a long run (GetSessionToken for IAM-user keys, AssumeRole with a duration
/// for role sessions).
#[derive(Clone)]
pub struct ExtendedSession {
    credentials: AwsCredentials,
    sdk: SdkConfig,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ExtendedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtendedSession").field("credentials", &self.credentials).finish_non_exhaustive()
    }
}

impl ExtendedSession {
    /// The credentials.
    pub fn credentials(&self) -> &AwsCredentials {
        &self.credentials
    }
    /// An `SdkConfig` using them.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }
    /// Time left (zero when expired).
    pub fn time_until_expiry(&self) -> Duration {
        self.credentials.expiration().and_then(|e| e.duration_since(self.clock.now()).ok()).unwrap_or(Duration::ZERO)
    }
}

struct Inner {
    config: LoadedConfig,
    options: ManagerOptions,
    aws: BTreeMap<String, AwsSession>,
    azure: BTreeMap<String, AzureSession>,
    rotations: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    reports: Arc<Mutex<Vec<RotationReport>>>,
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
    inner: Arc<Inner>,
}

impl fmt::Debug for CloudSessionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudSessionManager").field("sessions", &self.session_names()).finish()
    }
}

fn base_config(
    region: &str,
    options: &ManagerOptions,
    provider: Option<SharedCredentialsProvider>,
    retry: RetryConfig,
) -> SdkConfig {
    let mut b = SdkConfig::builder()
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

impl CloudSessionManager {
    /// Parses `yaml` and builds every AWS session (resolving `ENV/` and `SEC/` references).
    pub async fn from_yaml(yaml: &str, options: ManagerOptions) -> Result<Self, SessionError> {
        let config = parse_config(yaml)?;
        for w in &config.warnings {
            tracing::warn!("{w}");
        }
        let mut resolver = Resolver::new({
            let env = options.env.clone();
            move |k| env(k)
        });
        if let Some(store) = &options.token_store {
            let local_priority = config
                .file
                .secrets_manager
                .cloud_stores
                .values()
                .find(|s| s.store_type == "local")
                .map(|s| s.priority)
                .unwrap_or(0);
            resolver.add_store(local_priority, Arc::new(LocalSecretStore::new(store.clone())));
        }
        let mut aws: BTreeMap<String, AwsSession> = BTreeMap::new();
        let mut azure_specs = Vec::new();
        let specs: Vec<(usize, SessionSpec)> = config.file.cloud_sessions.iter().cloned().enumerate().collect();
        // sessions that secret stores need come first; role sessions after their sources
        let mut pending: Vec<(usize, SessionSpec)> = specs;
        let mut stores_added = false;
        while !pending.is_empty() {
            let before = pending.len();
            let mut next = Vec::new();
            for (i, spec) in pending {
                if spec.session_type == Some(SessionType::Azure) {
                    azure_specs.push((i, spec));
                    continue;
                }
                if let Some(src) = &spec.source
                    && !aws.contains_key(src)
                {
                    next.push((i, spec));
                    continue;
                }
                let needs_secrets = [&spec.access_key_id, &spec.secret_access_key, &spec.session_token]
                    .iter()
                    .any(|v| v.as_deref().is_some_and(|v| v.starts_with("SEC/")));
                if needs_secrets && !stores_added && !next.is_empty() {
                    next.push((i, spec));
                    continue;
                }
                for s in Self::build_aws(i, &spec, &options, &resolver, &aws).await? {
                    aws.insert(s.name.clone(), s);
                }
                if !stores_added {
                    stores_added = Self::add_aws_stores(&config, &aws, &mut resolver);
                }
            }
            if next.len() == before {
                let (i, spec) = &next[0];
                return Err(SessionError::Config {
                    path: format!("cloud_sessions[{i}].source"),
                    message: format!(
                        "source {:?} is not a declared AWS session (or the sources form a cycle)",
                        spec.source.clone().unwrap_or_default()
                    ),
                });
            }
            pending = next;
        }
        let mut azure = BTreeMap::new();
        for (i, spec) in azure_specs {
            let session = Self::build_azure(i, &spec, &options, &resolver).await?;
            azure.insert(spec.name.clone(), session);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                options,
                aws,
                azure,
                rotations: Mutex::default(),
                reports: Arc::default(),
            }),
        })
    }

    /// Adds the Secrets Manager stores whose sessions exist. Returns whether all did.
    fn add_aws_stores(config: &LoadedConfig, aws: &BTreeMap<String, AwsSession>, resolver: &mut Resolver) -> bool {
        let mut all = true;
        for spec in config.file.secrets_manager.cloud_stores.values().filter(|s| s.store_type == "aws") {
            match spec.session_name.as_ref().and_then(|n| aws.get(n)) {
                Some(s) => {
                    let sdk = match &spec.region {
                        Some(r) => s.sdk.to_builder().region(Region::new(r.clone())).build(),
                        None => s.sdk.clone(),
                    };
                    resolver.add_store(spec.priority, Arc::new(AwsSecretStore::new(&sdk)));
                }
                None => all = false,
            }
        }
        all
    }

    async fn build_aws(
        i: usize,
        spec: &SessionSpec,
        options: &ManagerOptions,
        resolver: &Resolver,
        built: &BTreeMap<String, AwsSession>,
    ) -> Result<Vec<AwsSession>, SessionError> {
        let at = |f: &str| format!("cloud_sessions[{i}].{f}");
        let mut regions: Vec<String> = spec.regions.clone().unwrap_or_default();
        if let Some(r) = &spec.region
            && !regions.contains(r)
        {
            regions.insert(0, r.clone());
        }
        let mut out = Vec::new();
        for (n, region) in regions.iter().enumerate() {
            let name = if n == 0 { spec.name.clone() } else { format!("{}-{region}", spec.name) };
            let mut static_keys = None;
            let mut role = None;
            let mut renewer = None;
            let provider: SharedCredentialsProvider = if let Some(id) = &spec.access_key_id {
                let id = resolver.resolve(id, &at("access_key_id")).await?;
                let secret = resolver
                    .resolve(spec.secret_access_key.as_deref().unwrap_or_default(), &at("secret_access_key"))
                    .await?;
                let token = resolver.resolve_opt(spec.session_token.as_deref(), &at("session_token")).await?;
                let creds = AwsCredentials::new(
                    id.expose_secret(),
                    secret.expose_secret(),
                    token.map(|t| t.expose_secret().to_owned()),
                    None,
                );
                let p = SharedCredentialsProvider::new(to_sdk_credentials(&creds));
                static_keys = Some(creds);
                p
            } else if let Some(role_arn) = &spec.role_arn {
                let (sts_provider, how) = if let Some(file) = &spec.web_identity_token_file {
                    (None, Assume::WebIdentity { token_file: file.clone() })
                } else {
                    let source = match (&spec.source, &spec.source_profile) {
                        (Some(s), _) => built.get(s).map(|b| b.provider.clone()),
                        (None, Some(p)) => Some(SharedCredentialsProvider::new(
                            aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(p).build(),
                        )),
                        (None, None) => Some(SharedCredentialsProvider::new(
                            aws_config::default_provider::credentials::DefaultCredentialsChain::builder().build().await,
                        )),
                    };
                    (source, Assume::Role { external_id: spec.external_id.clone() })
                };
                let sts_config = base_config(region, options, sts_provider, RetryConfig::standard());
                let source = AssumeRoleSource {
                    session: name.clone(),
                    sts: aws_sdk_sts::Client::new(&sts_config),
                    role_arn: role_arn.clone(),
                    session_name: spec.session_name.clone().unwrap_or_else(|| format!("cloud-sessions-{name}")),
                    duration_seconds: spec.duration_seconds,
                    how,
                };
                let cache = Refreshing::builder(source).policy(options.refresh).clock(options.clock.clone()).build();
                role = Some(cache.clone());
                renewer = Some(Renewer::new(&name, cache.clone()));
                SharedCredentialsProvider::new(cache)
            } else if spec.cognito.is_some() || spec.sso_profile.is_some() {
                let sdk = base_config(region, options, None, RetryConfig::standard());
                let ctx = crate::renew::Ctx { name: &name, index: i, sdk: &sdk, options };
                let (provider, r) = match &spec.cognito {
                    Some(file) => crate::renew::cognito(&ctx, file, spec.username.as_deref().unwrap_or_default())?,
                    None => crate::renew::sso(&ctx, spec.sso_profile.as_deref().unwrap_or_default()).await?,
                };
                renewer = Some(r);
                provider
            } else if let Some(profile) = &spec.profile {
                SharedCredentialsProvider::new(
                    aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(profile).build(),
                )
            } else {
                SharedCredentialsProvider::new(
                    aws_config::default_provider::credentials::DefaultCredentialsChain::builder().build().await,
                )
            };
            let mut sdk = base_config(region, options, Some(provider.clone()), RetryConfig::standard());
            if renewer.is_some() {
                // the refreshing cache decides when to renew (on the manager's clock); the
                // SDK's own identity cache would hold credentials by wall-clock expiry instead
                sdk = sdk.to_builder().identity_cache(aws_config::identity::IdentityCache::no_cache()).build();
            }
            out.push(AwsSession { name, region: region.clone(), sdk, provider, role, renewer, static_keys });
        }
        Ok(out)
    }

    async fn build_azure(
        i: usize,
        spec: &SessionSpec,
        options: &ManagerOptions,
        resolver: &Resolver,
    ) -> Result<AzureSession, SessionError> {
        let at = |f: &str| format!("cloud_sessions[{i}].{f}");
        let plain = async |v: &Option<String>, field: &str| -> Result<Option<String>, SessionError> {
            Ok(resolver.resolve_opt(v.as_deref(), &at(field)).await?.map(|s| s.expose_secret().to_owned()))
        };
        let az = AzureSpec {
            tenant_id: plain(&spec.tenant_id, "tenant_id").await?,
            subscription_id: plain(&spec.subscription_id, "subscription_id").await?,
            client_id: plain(&spec.client_id, "client_id").await?,
            client_secret: resolver
                .resolve_opt(spec.client_secret.as_deref(), &at("client_secret"))
                .await?
                .as_ref()
                .map(secret),
            use_managed_identity: spec.use_managed_identity,
            use_azure_cli: spec.use_azure_cli,
            federated_token_file: plain(&spec.federated_token_file, "federated_token_file").await?,
            authority_host: spec.authority_host.clone(),
        };
        let env = options.env.clone();
        let lookup = move |k: &str| env(k);
        let ctx = AzureEnv {
            env: &lookup,
            transport: options.azure_transport.clone(),
            clock: options.clock.clone(),
            refresh: options.refresh,
            attempt_timeout: options.attempt_timeout,
        };
        let chain = ctx.chain(&spec.name, &az)?;
        Ok(AzureSession {
            name: spec.name.clone(),
            tenant_id: az.tenant_id,
            subscription_id: az.subscription_id,
            chain: Arc::new(chain),
        })
    }

    /// Parses a YAML file.
    pub async fn from_file(path: &std::path::Path, options: ManagerOptions) -> Result<Self, SessionError> {
        let text = std::fs::read_to_string(path).map_err(|e| SessionError::Config {
            path: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        Self::from_yaml(&text, options).await
    }

    /// Warnings found at load (plaintext secrets).
    pub fn warnings(&self) -> &[String] {
        &self.inner.config.warnings
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
        let allowed = self
            .inner
            .config
            .file
            .roles
            .get(role)
            .is_some_and(|r| r.allowed_sessions.iter().any(|s| s == "*" || s == name));
        if !allowed {
            return Err(SessionError::PermissionDenied { role: role.to_owned(), session: name.to_owned() });
        }
        self.get_session(name)
    }

    /// Calls `op` until it succeeds, retrying throttling / unavailable errors only.
    async fn with_retry<T, F, Fut>(&self, mut op: F) -> (Result<T, SessionError>, u32)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SessionError>>,
    {
        let mut delays = self.inner.options.retry.backoff(fastrand::u64(..));
        let mut attempts = 0;
        loop {
            attempts += 1;
            match op().await {
                Ok(v) => return (Ok(v), attempts),
                Err(e) if e.kind().is_retryable() => match delays.next() {
                    Some(d) => tokio::time::sleep(d).await,
                    None => return (Err(e), attempts),
                },
                Err(e) => return (Err(e), attempts),
            }
        }
    }

    /// AWS: `GetCallerIdentity` with the session's credentials; Azure: a token for Azure
    /// Resource Manager. Retried per the retry policy (transient failures only).
    pub async fn check_health(&self, name: &str) -> Result<HealthReport, SessionError> {
        let start = Instant::now();
        let mut report = HealthReport {
            name: name.to_owned(),
            healthy: false,
            arn: None,
            account: None,
            credential: None,
            chain: Vec::new(),
            latency: Duration::ZERO,
            attempts: 0,
            error_kind: None,
            error: None,
        };
        let failure = match self.get_session(name)? {
            Session::Aws(session) => {
                // our retry policy governs here, not the SDK's
                let sts =
                    aws_sdk_sts::Client::new(&session.sdk.to_builder().retry_config(RetryConfig::disabled()).build());
                let (result, attempts) = self
                    .with_retry(|| async {
                        // credentials first: a source's failure keeps its own kind (a missing
                        // sign-in is not a transient network error)
                        credentials_of(name, &session.provider).await?;
                        sts.get_caller_identity().send().await.map_err(|e| aws_error(name, "sts:GetCallerIdentity", &e))
                    })
                    .await;
                report.attempts = attempts;
                match result {
                    Ok(who) => {
                        report.arn = who.arn().map(str::to_owned);
                        report.account = who.account().map(str::to_owned);
                        None
                    }
                    Err(e) => Some(e),
                }
            }
            Session::Azure(session) => {
                let credential = session.credential();
                let (result, attempts) = self
                    .with_retry(|| async {
                        credential.get_token(&[MANAGEMENT_SCOPE], None).await.map_err(|e| azure_error(name, &e))
                    })
                    .await;
                report.attempts = attempts;
                report.account = session.subscription_id().map(str::to_owned);
                report.credential = session.answered_by().map(str::to_owned);
                report.chain = session.attempts().iter().map(ToString::to_string).collect();
                result.err()
            }
        };
        report.latency = start.elapsed();
        report.healthy = failure.is_none();
        if let Some(e) = failure {
            report.error_kind = Some(e.kind());
            report.error = Some(e.to_string());
        }
        Ok(report)
    }

    /// Health of every session.
    pub async fn check_all(&self) -> Vec<HealthReport> {
        let mut out = Vec::new();
        for name in self.session_names() {
            if let Ok(r) = self.check_health(&name).await {
                out.push(r);
            }
        }
        out
    }

    /// Re-obtains a session's credentials every `every`, before their time: role, Cognito and
    /// SSO credentials, or an Azure session's cached tokens. A failed rotation keeps the old,
    /// still-valid credentials and is reported.
    pub fn schedule_rotation(&self, name: &str, every: Duration) -> Result<(), SessionError> {
        let session = match self.get_session(name)? {
            Session::Aws(s) => *s,
            Session::Azure(azure) => return self.schedule_azure_rotation(azure, every),
        };
        let Some(renewer) = session.renewer.clone() else {
            return Err(SessionError::Unsupported {
                name: name.to_owned(),
                message: "only role, Cognito and SSO sessions have credentials to rotate".into(),
            });
        };
        let reports = self.inner.reports.clone();
        let clock = self.inner.options.clock.clone();
        let me = self.clone();
        let name = name.to_owned();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let (result, _) = me.with_retry(|| (renewer.fetch)()).await;
                let error = match result {
                    Ok(fresh) => (renewer.seed)(fresh).await.err().map(|e| e.to_string()),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(e) = &error {
                    tracing::warn!(session = %name, error = %e, "rotation failed; keeping the current credentials");
                }
                reports.lock().unwrap_or_else(PoisonError::into_inner).push(RotationReport {
                    name: name.clone(),
                    at: clock.now(),
                    error,
                });
            }
        });
        self.inner.rotations.lock().unwrap_or_else(PoisonError::into_inner).push(task);
        Ok(())
    }

    /// Azure: re-obtains the session's cached tokens every `every`.
    fn schedule_azure_rotation(&self, session: AzureSession, every: Duration) -> Result<(), SessionError> {
        let reports = self.inner.reports.clone();
        let clock = self.inner.options.clock.clone();
        let me = self.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let (result, _) = me
                    .with_retry(|| async {
                        session.chain.renew_all().await.map_err(|e| azure_error(&session.name, &e))
                    })
                    .await;
                let error = result.err().map(|e| e.to_string());
                if let Some(e) = &error {
                    tracing::warn!(session = %session.name, error = %e, "rotation failed; keeping the current tokens");
                }
                reports.lock().unwrap_or_else(PoisonError::into_inner).push(RotationReport {
                    name: session.name.clone(),
                    at: clock.now(),
                    error,
                });
            }
        });
        self.inner.rotations.lock().unwrap_or_else(PoisonError::into_inner).push(task);
        Ok(())
    }

    /// What the rotations did so far.
    pub fn rotation_reports(&self) -> Vec<RotationReport> {
        self.inner.reports.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Credentials for a long run: `GetSessionToken` (IAM-user keys, up to 12 h) or AssumeRole
    /// with `duration` (role sessions).
    pub async fn extended_session(&self, name: &str, duration: Duration) -> Result<ExtendedSession, SessionError> {
        let session = self.aws_session(name)?;
        let secs = i32::try_from(duration.as_secs()).unwrap_or(i32::MAX);
        let credentials = if let Some(keys) = &session.static_keys {
            if keys.session_token().is_some() {
                return Err(SessionError::Unsupported {
                    name: name.to_owned(),
                    message: "cannot call GetSessionToken with session credentials (these keys already carry a session token); declare role_arn with duration_seconds to get long-lived role credentials instead".into(),
                });
            }
            if !(900..=129_600).contains(&secs) {
                return Err(SessionError::Config {
                    path: name.to_owned(),
                    message: "GetSessionToken durations are 900 s to 36 h".into(),
                });
            }
            let sts = aws_sdk_sts::Client::new(&session.sdk);
            let out = sts
                .get_session_token()
                .duration_seconds(secs)
                .send()
                .await
                .map_err(|e| aws_error(name, "sts:GetSessionToken", &e))?;
            let c = out.credentials().ok_or_else(|| aws_error_msg(name, "sts:GetSessionToken"))?;
            AwsCredentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                SystemTime::try_from(*c.expiration()).ok(),
            )
        } else if let Some(cache) = &session.role {
            let mut source = cache.source().clone();
            source.duration_seconds = Some(u32::try_from(secs).unwrap_or(3600));
            source.fetch().await?
        } else {
            return Err(SessionError::Unsupported {
                name: name.to_owned(),
                message:
                    "extended sessions need access keys (GetSessionToken) or role_arn (AssumeRole with a duration)"
                        .into(),
            });
        };
        let sdk = base_config(
            &session.region,
            &self.inner.options,
            Some(SharedCredentialsProvider::new(to_sdk_credentials(&credentials))),
            RetryConfig::standard(),
        );
        Ok(ExtendedSession { credentials, sdk, clock: self.inner.options.clock.clone() })
    }
}

/// Resolves a provider's credentials, recovering the kind of a cred-store failure.
async fn credentials_of(session: &str, provider: &SharedCredentialsProvider) -> Result<(), SessionError> {
    use aws_credential_types::provider::ProvideCredentials;
    let Err(e) = provider.provide_credentials().await else { return Ok(()) };
    let mut kind = ErrorKind::NotAuthorized;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = cur {
        if let Some(store) = err.downcast_ref::<cred_store::Error>() {
            kind = store.kind();
            break;
        }
        cur = err.source();
    }
    let message = aws_sdk_sts::error::DisplayErrorContext(&e).to_string();
    Err(SessionError::Credentials { session: session.to_owned(), kind, message })
}

fn wrong_kind(name: &str, is: &str, wanted: &str) -> SessionError {
    SessionError::Unsupported {
        name: name.to_owned(),
        message: format!("is {is} session; this needs an {wanted} session"),
    }
}

fn aws_error_msg(session: &str, operation: &'static str) -> SessionError {
    SessionError::Aws {
        session: session.to_owned(),
        operation,
        code: "InvalidResponse".into(),
        message: "no credentials in the response".into(),
    }
}

#[allow(dead_code)]
fn _is_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<CloudSessionManager>();
}
