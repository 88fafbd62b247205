//! Azure sessions: azure_identity credentials behind one explicit chain that caches tokens,
//! reports which credential answered and why the others did not, and never switches
//! identity once one has answered.
//!
//! azure_identity 1.0 dropped `DefaultAzureCredential` because a chain that silently falls
//! through to another identity surprises people; [`AzureChain`] keeps the convenience and
//! makes the choice visible: [`AzureSession::attempts`] says what was tried.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions, Executor,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use core_types::{Clock, ErrorKind, ExposeSecret, RefreshPolicy};

use crate::error::{SessionError, find_source};

/// The scope a health check asks for (Azure Resource Manager).
pub const MANAGEMENT_SCOPE: &str = "https://management.azure.com/.default";

/// How long the chain waits for the VM metadata endpoint when no managed-identity endpoint
/// is configured (it answers in milliseconds on Azure and never elsewhere).
const IMDS_PROBE: Duration = Duration::from_secs(2);

/// azure_core's HTTP hook served by our reqwest (one HTTP stack, one TLS stack for the
/// whole workspace: azure_core's own reqwest feature would pull a second reqwest major).
#[derive(Debug, Clone)]
pub(crate) struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// Sends through `client`.
    pub(crate) fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// The default client: rustls, a connect timeout, no redirects (a bearer token never
    /// follows a redirect to another host).
    pub(crate) fn default_client() -> reqwest::Client {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    }
}

#[async_trait]
impl HttpClient for ReqwestTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        use azure_core::error::ErrorKind as K;
        let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
            .map_err(|e| azure_core::Error::with_error(K::Other, e, "unsupported HTTP method"))?;
        let mut req = self.client.request(method, request.url().clone());
        for (name, value) in request.headers().iter() {
            req = req.header(name.as_str(), value.as_str());
        }
        req = match request.body() {
            azure_core::http::Body::Bytes(b) => req.body(b.clone()),
            #[allow(unreachable_patterns)] // SeekableStream exists only with some azure_core features
            _ => {
                return Err(azure_core::Error::with_message(
                    K::Other,
                    "streaming request bodies are not supported by the cloud-sessions transport",
                ));
            }
        };
        let rsp = req.send().await.map_err(|e| {
            let kind = if e.is_connect() { K::Connection } else { K::Io };
            azure_core::Error::with_error(kind, e, "the HTTP request failed")
        })?;
        let status = rsp.status().as_u16();
        let mut headers = azure_core::http::headers::Headers::new();
        for (k, v) in rsp.headers() {
            if let Ok(v) = v.to_str() {
                headers.insert(k.as_str().to_owned(), v.to_owned());
            }
        }
        let body = rsp.bytes().await.map_err(|e| azure_core::Error::with_error(K::Io, e, "reading the response"))?;
        Ok(AsyncRawResponse::from_bytes(status.into(), headers, body))
    }
}

/// Runs `az` with the `PATH` the manager was given (the process's, unless a test injects one).
#[derive(Debug)]
struct CliExecutor {
    path: Option<String>,
    timeout: Duration,
}

#[async_trait]
impl Executor for CliExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> std::io::Result<std::process::Output> {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args).kill_on_drop(true).stdin(std::process::Stdio::null());
        if let Some(p) = &self.path {
            cmd.env("PATH", p);
        }
        match tokio::time::timeout(self.timeout, cmd.output()).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "az did not answer in time")),
        }
    }
}

/// What happened to one credential of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// It gave a token.
    Answered,
    /// Not configured here (the reason says which setting is missing).
    Skipped(String),
    /// Configured but unavailable (endpoint not reachable, `az` not installed or signed out).
    Unavailable(String),
    /// It rejected the credentials: the chain stops rather than try another identity.
    Rejected(String),
    /// Not tried: an earlier one answered or rejected.
    NotTried,
}

/// One line of the chain's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainAttempt {
    /// `environment`, `workload identity`, `managed identity`, `azure cli`, `service principal`.
    pub credential: &'static str,
    /// What happened.
    pub outcome: AttemptOutcome,
}

impl fmt::Display for ChainAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            AttemptOutcome::Answered => write!(f, "{}: answered", self.credential),
            AttemptOutcome::Skipped(r) => write!(f, "{}: skipped ({r})", self.credential),
            AttemptOutcome::Unavailable(r) => write!(f, "{}: unavailable ({r})", self.credential),
            AttemptOutcome::Rejected(r) => write!(f, "{}: rejected ({r})", self.credential),
            AttemptOutcome::NotTried => write!(f, "{}: not tried", self.credential),
        }
    }
}

/// One credential of the chain, or why it is not configured.
struct Link {
    name: &'static str,
    credential: Result<Arc<dyn TokenCredential>, String>,
    timeout: Duration,
    /// Whether a 4xx answer means "these credentials are wrong" (a service principal's
    /// secret, a workload's token) rather than "no identity here" (a metadata endpoint that
    /// is not Azure's, a signed-out CLI).
    can_reject: bool,
}

/// Tries credentials in order; the first that answers is pinned for the chain's life, and
/// tokens are cached per scope set until they enter the refresh window.
pub(crate) struct AzureChain {
    session: String,
    links: Vec<Link>,
    pinned: Mutex<Option<usize>>,
    attempts: Mutex<Vec<ChainAttempt>>,
    cache: tokio::sync::Mutex<HashMap<String, AccessToken>>,
    clock: Arc<dyn Clock>,
    refresh_window: RefreshPolicy,
    fetches: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for AzureChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureChain")
            .field("session", &self.session)
            .field("credentials", &self.links.iter().map(|l| l.name).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// How an azure_core failure should steer the chain.
fn classify(e: &azure_core::Error) -> (AttemptOutcome, ErrorKind) {
    use azure_core::error::ErrorKind as K;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut status = None;
    let mut io = false;
    while let Some(err) = cur {
        if let Some(ae) = err.downcast_ref::<azure_core::Error>() {
            match ae.kind() {
                K::HttpResponse { status: s, .. } => status = status.or(Some(u16::from(*s))),
                K::Connection | K::Io => io = true,
                _ => {}
            }
        }
        if err.downcast_ref::<std::io::Error>().is_some() || err.downcast_ref::<reqwest::Error>().is_some() {
            io = true;
        }
        cur = err.source();
    }
    let message = first_line(&e.to_string());
    match status {
        Some(429) => (AttemptOutcome::Unavailable(message), ErrorKind::Throttled),
        Some(s) if s >= 500 => (AttemptOutcome::Unavailable(message), ErrorKind::Unavailable),
        // 400 from a managed-identity endpoint means "no identity assigned here"
        Some(400) if message.contains("not been assigned") => {
            (AttemptOutcome::Unavailable(message), ErrorKind::NotConfigured)
        }
        Some(_) => (AttemptOutcome::Rejected(message), ErrorKind::NotAuthorized),
        None if io => (AttemptOutcome::Unavailable(message), ErrorKind::Unavailable),
        None => (AttemptOutcome::Unavailable(message), ErrorKind::NotConfigured),
    }
}

fn first_line(s: &str) -> String {
    // azure_identity appends a troubleshooting link on its own line; keep the cause
    s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_owned()
}

/// The chain's verdict, carried inside the `azure_core::Error` it returns so that
/// [`azure_error`] can recover the kind.
#[derive(Debug)]
struct ChainFailure {
    kind: ErrorKind,
    message: String,
}

impl fmt::Display for ChainFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ChainFailure {}

fn chain_error(kind: ErrorKind, message: String) -> azure_core::Error {
    azure_core::Error::with_error(
        azure_core::error::ErrorKind::Credential,
        ChainFailure { kind, message: message.clone() },
        message,
    )
}

fn to_system(t: azure_core::time::OffsetDateTime) -> SystemTime {
    let secs = t.unix_timestamp();
    if secs >= 0 { SystemTime::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs()) } else { SystemTime::UNIX_EPOCH }
}

impl AzureChain {
    async fn try_link(&self, i: usize, scopes: &[&str]) -> Result<AccessToken, (AttemptOutcome, ErrorKind)> {
        let link = &self.links[i];
        let credential = match &link.credential {
            Ok(c) => c,
            Err(why) => return Err((AttemptOutcome::Skipped(why.clone()), ErrorKind::NotConfigured)),
        };
        match tokio::time::timeout(link.timeout, credential.get_token(scopes, None)).await {
            Ok(Ok(t)) => Ok(t),
            Ok(Err(e)) => match classify(&e) {
                (AttemptOutcome::Rejected(m), _) if !link.can_reject => {
                    Err((AttemptOutcome::Unavailable(m), ErrorKind::NotConfigured))
                }
                other => Err(other),
            },
            Err(_) => Err((
                AttemptOutcome::Unavailable(format!("no answer within {} ms", link.timeout.as_millis())),
                ErrorKind::Unavailable,
            )),
        }
    }

    async fn fetch(&self, scopes: &[&str]) -> azure_core::Result<AccessToken> {
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pinned = *self.pinned.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = pinned {
            let name = self.links[i].name;
            return self.try_link(i, scopes).await.map_err(|(outcome, kind)| {
                let attempt = ChainAttempt { credential: name, outcome };
                chain_error(
                    kind,
                    format!(
                        "session {:?}: {attempt}; it answered before, so the session does not switch to another identity",
                        self.session
                    ),
                )
            });
        }
        let mut attempts = Vec::with_capacity(self.links.len());
        let mut result = None;
        for i in 0..self.links.len() {
            let name = self.links[i].name;
            if result.is_some() {
                attempts.push(ChainAttempt { credential: name, outcome: AttemptOutcome::NotTried });
                continue;
            }
            match self.try_link(i, scopes).await {
                Ok(token) => {
                    attempts.push(ChainAttempt { credential: name, outcome: AttemptOutcome::Answered });
                    *self.pinned.lock().unwrap_or_else(PoisonError::into_inner) = Some(i);
                    tracing::info!(session = %self.session, credential = name, "azure credential answered");
                    result = Some(Ok(token));
                }
                Err((outcome @ AttemptOutcome::Rejected(_), kind)) => {
                    attempts.push(ChainAttempt { credential: name, outcome });
                    result = Some(Err(kind));
                }
                Err((outcome, _)) => {
                    tracing::debug!(session = %self.session, credential = name, ?outcome, "azure credential passed over");
                    attempts.push(ChainAttempt { credential: name, outcome });
                }
            }
        }
        let report = attempts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        *self.attempts.lock().unwrap_or_else(PoisonError::into_inner) = attempts;
        match result {
            Some(Ok(token)) => Ok(token),
            Some(Err(kind)) => Err(chain_error(
                kind,
                format!(
                    "session {:?}: a credential rejected the sign-in, so no other identity was tried: {report}",
                    self.session
                ),
            )),
            None => Err(chain_error(
                ErrorKind::NotConfigured,
                format!(
                    "session {:?}: no Azure credential is available: {report}. Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, run on a managed identity, or `az login`",
                    self.session
                ),
            )),
        }
    }
}

impl AzureChain {
    /// Re-obtains every cached token now (rotation). A failure keeps the cached tokens, which
    /// stay valid until their own expiry, and is returned.
    pub(crate) async fn renew_all(&self) -> Result<usize, azure_core::Error> {
        let mut cache = self.cache.lock().await;
        let keys: Vec<String> = cache.keys().cloned().collect();
        for key in &keys {
            let scopes: Vec<&str> = key.split(' ').collect();
            let fresh = self.fetch(&scopes).await?;
            cache.insert(key.clone(), fresh);
        }
        Ok(keys.len())
    }
}

#[async_trait]
impl TokenCredential for AzureChain {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        if scopes.is_empty() {
            return Err(azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, "no scopes given"));
        }
        let key = scopes.join(" ");
        // one fetch at a time per session: concurrent callers wait for it and share the token
        let mut cache = self.cache.lock().await;
        if let Some(t) = cache.get(&key)
            && !self.refresh_window.needs_refresh(Some(to_system(t.expires_on)), self.clock.now())
        {
            return Ok(t.clone());
        }
        match self.fetch(scopes).await {
            Ok(t) => {
                cache.insert(key, t.clone());
                Ok(t)
            }
            // inside the refresh window a failed refresh still serves the valid token
            Err(e) => match cache.get(&key) {
                Some(t) if to_system(t.expires_on) > self.clock.now() => {
                    tracing::warn!(session = %self.session, error = %e, "azure token refresh failed; serving the current token");
                    Ok(t.clone())
                }
                _ => Err(e),
            },
        }
    }
}

/// An Azure declaration with its references resolved.
pub(crate) struct AzureSpec {
    pub tenant_id: Option<String>,
    pub subscription_id: Option<String>,
    pub client_id: Option<String>,
    pub authority_host: Option<String>,
    pub way: AzureWay,
}

/// The credential a declaration asks for, resolved (the plan's `AzureCredentialPlan`).
pub(crate) enum AzureWay {
    ClientSecret(Secret),
    Workload(String),
    ManagedIdentity,
    AzureCli,
    Chain,
}

/// What building a chain needs from the manager.
pub(crate) struct AzureEnv<'a> {
    pub env: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
    pub transport: Arc<dyn HttpClient>,
    pub clock: Arc<dyn Clock>,
    pub refresh_window: RefreshPolicy,
    pub attempt_timeout: Duration,
}

impl AzureEnv<'_> {
    fn client_options(&self, authority_host: Option<&str>) -> ClientOptions {
        let mut o = ClientOptions { transport: Some(Transport::new(self.transport.clone())), ..Default::default() };
        if let Some(host) = authority_host {
            let mut custom = azure_core::cloud::CustomConfiguration::default();
            custom.authority_host = host.to_owned();
            o.cloud = Some(Arc::new(custom.into()));
        }
        o
    }

    fn var(&self, k: &str) -> Option<String> {
        (self.env)(k).filter(|v| !v.is_empty())
    }

    fn link(&self, name: &'static str, credential: Result<Arc<dyn TokenCredential>, String>) -> Link {
        Link { name, credential, timeout: self.attempt_timeout, can_reject: false }
    }

    fn service_principal(&self, tenant: &str, client: &str, secret: Secret, host: Option<&str>) -> Link {
        let options = ClientSecretCredentialOptions { client_options: self.client_options(host) };
        let made = ClientSecretCredential::new(tenant, client.to_owned(), secret, Some(options))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| first_line(&e.to_string()));
        Link { can_reject: true, ..self.link("service principal", made) }
    }

    fn workload(&self, tenant: &str, client: &str, file: &str, host: Option<&str>) -> Link {
        let mut options = WorkloadIdentityCredentialOptions {
            tenant_id: Some(tenant.to_owned()),
            client_id: Some(client.to_owned()),
            token_file_path: Some(file.into()),
            ..Default::default()
        };
        options.credential_options.client_options = self.client_options(host);
        let made = WorkloadIdentityCredential::new(Some(options))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| first_line(&e.to_string()));
        Link { can_reject: true, ..self.link("workload identity", made) }
    }

    fn managed(&self, client_id: Option<&str>) -> Link {
        let options = ManagedIdentityCredentialOptions {
            user_assigned_id: client_id.map(|c| UserAssignedId::ClientId(c.to_owned())),
            client_options: self.client_options(None),
        };
        let endpoint_configured = self.var("IDENTITY_ENDPOINT").is_some() || self.var("MSI_ENDPOINT").is_some();
        let made = ManagedIdentityCredential::new(Some(options))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| first_line(&e.to_string()));
        let mut link = self.link("managed identity", made);
        if !endpoint_configured {
            link.timeout = link.timeout.min(IMDS_PROBE);
        }
        link
    }

    fn cli(&self, tenant: Option<&str>, subscription: Option<&str>) -> Link {
        let options = AzureCliCredentialOptions {
            tenant_id: tenant.map(str::to_owned),
            subscription: subscription.map(str::to_owned),
            executor: Some(Arc::new(CliExecutor { path: self.var("PATH"), timeout: self.attempt_timeout })),
        };
        let made = AzureCliCredential::new(Some(options))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| first_line(&e.to_string()));
        self.link("azure cli", made)
    }

    /// The credentials a declaration asks for: exactly one when it names a way, else the chain
    /// environment → workload identity → managed identity → Azure CLI.
    pub(crate) fn chain(&self, session: &str, spec: &AzureSpec) -> AzureChain {
        let host = spec.authority_host.clone().or_else(|| self.var("AZURE_AUTHORITY_HOST"));
        let host = host.as_deref();
        // the plan has checked that a secret or a token file comes with tenant_id and client_id
        let (tenant, client) =
            (spec.tenant_id.as_deref().unwrap_or_default(), spec.client_id.as_deref().unwrap_or_default());
        let links = match &spec.way {
            AzureWay::ClientSecret(secret) => vec![self.service_principal(tenant, client, secret.clone(), host)],
            AzureWay::Workload(file) => vec![self.workload(tenant, client, file, host)],
            AzureWay::ManagedIdentity => vec![self.managed(spec.client_id.as_deref())],
            AzureWay::AzureCli => vec![self.cli(spec.tenant_id.as_deref(), spec.subscription_id.as_deref())],
            AzureWay::Chain => {
                let tenant = spec.tenant_id.clone().or_else(|| self.var("AZURE_TENANT_ID"));
                let client = spec.client_id.clone().or_else(|| self.var("AZURE_CLIENT_ID"));
                let missing = |names: &[(&str, bool)]| {
                    let m: Vec<&str> = names.iter().filter(|(_, set)| !set).map(|(n, _)| *n).collect();
                    format!("{} not set", m.join(", "))
                };
                let env_sp = match (&tenant, &client, self.var("AZURE_CLIENT_SECRET")) {
                    (Some(t), Some(c), Some(s)) => self.service_principal(t, c, Secret::new(s), host),
                    (t, c, s) => self.link(
                        "environment",
                        Err(missing(&[
                            ("AZURE_TENANT_ID", t.is_some()),
                            ("AZURE_CLIENT_ID", c.is_some()),
                            ("AZURE_CLIENT_SECRET", s.is_some()),
                        ])),
                    ),
                };
                let env_sp = Link { name: "environment", ..env_sp };
                let workload = match (&tenant, &client, self.var("AZURE_FEDERATED_TOKEN_FILE")) {
                    (Some(t), Some(c), Some(f)) => self.workload(t, c, &f, host),
                    (t, c, f) => self.link(
                        "workload identity",
                        Err(missing(&[
                            ("AZURE_TENANT_ID", t.is_some()),
                            ("AZURE_CLIENT_ID", c.is_some()),
                            ("AZURE_FEDERATED_TOKEN_FILE", f.is_some()),
                        ])),
                    ),
                };
                vec![
                    env_sp,
                    workload,
                    self.managed(spec.client_id.as_deref()),
                    self.cli(spec.tenant_id.as_deref(), spec.subscription_id.as_deref()),
                ]
            }
        };
        AzureChain {
            session: session.to_owned(),
            links,
            pinned: Mutex::default(),
            attempts: Mutex::default(),
            cache: tokio::sync::Mutex::default(),
            clock: self.clock.clone(),
            refresh_window: self.refresh_window,
            fetches: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

/// An Azure session: a caching [`TokenCredential`] for any Azure SDK client.
#[derive(Clone)]
pub struct AzureSession {
    pub(crate) name: String,
    pub(crate) tenant_id: Option<String>,
    pub(crate) subscription_id: Option<String>,
    pub(crate) chain: Arc<AzureChain>,
}

impl fmt::Debug for AzureSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureSession")
            .field("name", &self.name)
            .field("tenant_id", &self.tenant_id)
            .field("subscription_id", &self.subscription_id)
            .field("chain", &self.chain)
            .finish()
    }
}

impl AzureSession {
    /// The session's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The declared tenant.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }
    /// The declared subscription.
    pub fn subscription_id(&self) -> Option<&str> {
        self.subscription_id.as_deref()
    }
    /// The credential to hand to Azure SDK clients (tokens cached per scope set).
    pub fn credential(&self) -> Arc<dyn TokenCredential> {
        self.chain.clone()
    }
    /// The credential that answered first (and so serves this session from now on).
    pub fn answered_by(&self) -> Option<&'static str> {
        let pinned = *self.chain.pinned.lock().unwrap_or_else(PoisonError::into_inner);
        pinned.map(|i| self.chain.links[i].name)
    }
    /// What the chain tried when it last looked for a credential.
    pub fn attempts(&self) -> Vec<ChainAttempt> {
        self.chain.attempts.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
    /// How many times the session went to a credential (cache misses).
    pub fn fetches(&self) -> u64 {
        self.chain.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// A token for `scopes`, from the cache while it is fresh.
    pub async fn token(&self, scopes: &[&str]) -> Result<AccessToken, SessionError> {
        self.chain.get_token(scopes, None).await.map_err(|e| azure_error(&self.name, &e))
    }
}

/// A `SessionError` from an error of the chain (or of a credential used directly).
pub(crate) fn azure_error(session: &str, e: &azure_core::Error) -> SessionError {
    if let Some(f) = find_source::<ChainFailure>(e) {
        return SessionError::Azure { session: session.to_owned(), kind: f.kind, message: f.message.clone() };
    }
    SessionError::Azure { session: session.to_owned(), kind: classify(e).1, message: first_line(&e.to_string()) }
}

/// Our secret as azure_core's (whose `Debug` is redacted too), for a credential that needs it.
pub(crate) fn secret(s: &core_types::SecretString) -> Secret {
    Secret::new(s.expose_secret().to_owned())
}
