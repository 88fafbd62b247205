//! `CloudSessionManager`: the declared sessions, built once, shared by cheap clones (health,
//! rotation and extended sessions are in ops.rs).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::{AwsCredentials, Clock, ExposeSecret, RefreshPolicy, RetryPolicy, SystemClock};
use cred_store::{Refreshing, TokenStore, to_sdk_credentials};

use crate::azure::{AzureEnv, AzureSession, AzureSpec, ReqwestTransport, secret};
use crate::config::{LoadedConfig, SessionSpec, SessionType, StoreType, parse_config};
use crate::error::SessionError;
use crate::ops::RotationReport;
use crate::refs::{AwsSecretStore, AzureKeyVaultStore, EnvLookup, LocalSecretStore, Resolver, ValueRef};
use crate::renew::Renewer;
use crate::sources::{Assume, AssumeRoleSource};

/// How the manager builds sessions.
#[derive(Clone)]
pub struct ManagerOptions {
    /// Overrides every AWS endpoint (tests, VPC endpoints, LocalStack-style servers).
    pub endpoint_url: Option<String>,
    /// Environment lookup for `ENV/` references.
    pub env: EnvLookup,
    /// Retries of health checks and rotations (throttling, 5xx, timeouts only).
    pub retry: RetryPolicy,
    /// Renew temporary credentials and tokens this long before expiry.
    pub refresh_window: RefreshPolicy,
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
            refresh_window: RefreshPolicy::default(),
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
    pub(crate) config: LoadedConfig,
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

pub(crate) fn base_config(
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

/// Whether any of these configured values is a `SEC/` reference (needs a secret store).
fn any_secret_ref(values: &[&Option<String>]) -> bool {
    values.iter().any(|v| v.as_deref().is_some_and(|v| matches!(ValueRef::parse(v), ValueRef::Sec(_))))
}

/// Hands `session` to the Key Vault stores that read through it.
fn give_to_vaults(vaults: &[(String, AzureKeyVaultStore)], session: &AzureSession) {
    for (_, store) in vaults.iter().filter(|(name, _)| name == session.name()) {
        store.set_session(session.clone());
    }
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
                .find(|s| s.store_type == StoreType::Local)
                .map(|s| s.priority)
                .unwrap_or(0);
            resolver.add_store(local_priority, Arc::new(LocalSecretStore::new(store.clone())));
        }
        // Key Vault stores are asked from the start; each answers once its session is built
        let mut vaults: Vec<(String, AzureKeyVaultStore)> = Vec::new();
        for (name, spec) in &config.file.secrets_manager.cloud_stores {
            if spec.store_type != StoreType::Azure {
                continue;
            }
            let url = spec.vault_url.as_deref().unwrap_or_default();
            let store = AzureKeyVaultStore::pending(url, options.azure_transport.clone())
                .map_err(|message| SessionError::Config {
                    path: format!("secrets_manager.cloud_stores.{name}.vault_url"),
                    message,
                })?
                .with_retry(options.retry)
                .with_attempt_timeout(options.attempt_timeout);
            resolver.add_store(spec.priority, Arc::new(store.clone()));
            vaults.push((spec.session_name.clone().unwrap_or_default(), store));
        }
        let reads_a_vault = |spec: &SessionSpec| vaults.iter().any(|(s, _)| *s == spec.name);
        let mut azure = BTreeMap::new();
        let mut azure_specs = Vec::new();
        // a vault's session comes first when its own values need no secret store, so that every
        // other session can take secrets from the vault
        for (i, spec) in config.file.cloud_sessions.iter().enumerate() {
            let needs_secrets =
                any_secret_ref(&[&spec.tenant_id, &spec.client_id, &spec.client_secret, &spec.federated_token_file]);
            if spec.session_type == Some(SessionType::Azure) && reads_a_vault(spec) && !needs_secrets {
                let session = Self::build_azure(i, spec, &options, &resolver).await?;
                give_to_vaults(&vaults, &session);
                azure.insert(spec.name.clone(), session);
            }
        }
        let mut aws: BTreeMap<String, AwsSession> = BTreeMap::new();
        let specs: Vec<(usize, SessionSpec)> = config
            .file
            .cloud_sessions
            .iter()
            .cloned()
            .enumerate()
            .filter(|(_, s)| !azure.contains_key(&s.name))
            .collect();
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
                let needs_secrets =
                    any_secret_ref(&[&spec.access_key_id, &spec.secret_access_key, &spec.session_token]);
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
        // vaults' sessions first, then the rest in declaration order
        azure_specs.sort_by_key(|(i, spec)| (!reads_a_vault(spec), *i));
        for (i, spec) in azure_specs {
            let session = Self::build_azure(i, &spec, &options, &resolver).await?;
            give_to_vaults(&vaults, &session);
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
        for spec in config.file.secrets_manager.cloud_stores.values().filter(|s| s.store_type == StoreType::Aws) {
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
                let cache = Refreshing::builder(source)
                    .refresh_window(options.refresh_window)
                    .clock(options.clock.clone())
                    .build();
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
            refresh_window: options.refresh_window,
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
