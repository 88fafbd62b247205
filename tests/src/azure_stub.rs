//! Azure protocol stubs. No Azure peer runs locally (PEERS.md), so these speak the wire
//! formats azure_identity expects, count every call and can fail on demand:
//! - [`Entra`]: the Entra ID v2 token endpoint (`/{tenant}/oauth2/v2.0/token`) over HTTPS
//!   with a throwaway CA ([`TestCa`]), for client secrets and federated (workload) tokens;
//! - [`KeyVault`]: Key Vault's secrets API over HTTPS, wanting Entra's bearer tokens;
//! - [`ManagedIdentity`]: the App Service managed-identity endpoint (`IDENTITY_ENDPOINT`,
//!   `X-IDENTITY-HEADER`, api-version 2019-08-01);
//! - [`FakeAz`]: an `az` on `PATH` answering `az account get-access-token -o json`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};

use crate::serve::{serve, serve_tls};

/// The host name the Key Vault stub answers as: Key Vault's challenge names the audience
/// `https://vault.azure.net`, and the SDK accepts it only for a host of that domain.
pub const VAULT_HOST: &str = "ccc-test.vault.azure.net";

/// A CA made for one test, and a localhost server certificate it signed.
pub struct TestCa {
    /// The CA certificate (PEM).
    pub pem: String,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    /// Generates the CA and a `localhost` / `127.0.0.1` / [`VAULT_HOST`] certificate.
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca = CertificateParams::new(Vec::new()).expect("ca params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        ca.distinguished_name.push(rcgen::DnType::CommonName, "ccc test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().expect("leaf key");
        let mut leaf =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned(), VAULT_HOST.to_owned()])
                .expect("leaf");
        leaf.use_authority_key_identifier_extension = true;
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("leaf cert");
        let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).expect("key der");
        let config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocols")
                .with_no_client_auth()
                .with_single_cert(vec![leaf_cert.der().clone(), ca_cert.der().clone()], key)
                .expect("server config");
        Self { pem: ca_cert.pem(), acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)) }
    }

    /// A client that trusts this CA and nothing else, and finds [`VAULT_HOST`] on this machine.
    pub fn client(&self) -> reqwest::Client {
        let cert = reqwest::Certificate::from_pem(self.pem.as_bytes()).expect("ca pem");
        // port 0: the URL's own port is used
        let here = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        reqwest::Client::builder().tls_certs_only([cert]).resolve(VAULT_HOST, here).build().expect("client")
    }
}

fn json(status: StatusCode, body: serde_json::Value) -> Result<Response<Full<Bytes>>, Infallible> {
    let text = body.to_string();
    crate::leak::secrets_in_response(&text);
    let mut r = Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", "application/json".parse().expect("header"));
    Ok(r)
}

fn unix_now() -> u64 {
    #[allow(clippy::disallowed_methods)] // the stub issues real-time expiries, like Azure
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A "status" that makes the Key Vault stub say nothing for a minute (a stalled vault).
pub const STALL: u16 = 0;

/// Statuses to answer the next requests with, in order, before serving normally.
#[derive(Debug, Default)]
struct Faults(Mutex<Vec<u16>>);

impl Faults {
    fn push(&self, statuses: &[u16]) {
        self.0.lock().expect("faults").extend_from_slice(statuses);
    }

    fn next(&self) -> Option<u16> {
        let mut f = self.0.lock().expect("faults");
        if f.is_empty() { None } else { Some(f.remove(0)) }
    }
}

#[derive(Debug, Default)]
struct EntraState {
    calls: AtomicUsize,
    /// Answer this many requests with this status first.
    faults: Faults,
    forms: Mutex<Vec<HashMap<String, String>>>,
}

/// The Entra ID token endpoint of one tenant, one application.
#[derive(Debug)]
pub struct Entra {
    /// `https://localhost:PORT`: the `authority_host`.
    pub authority: String,
    state: Arc<EntraState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Entra {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Entra {
    /// Serves tenant `tenant`; `client_id` signs in with `secret` or with the federated token
    /// `assertion`.
    pub async fn start(ca: &TestCa, tenant: &str, client_id: &str, secret: &str, assertion: &str) -> Self {
        crate::leak::init();
        crate::leak::secret(secret);
        crate::leak::secret(assertion);
        let state = Arc::new(EntraState::default());
        let (tenant, client_id, secret, assertion) =
            (tenant.to_owned(), client_id.to_owned(), secret.to_owned(), assertion.to_owned());
        let s = state.clone();
        let handler = move |req: Request<Incoming>| {
            let (s, tenant, client_id, secret, assertion) =
                (s.clone(), tenant.clone(), client_id.clone(), secret.clone(), assertion.clone());
            async move {
                let n = s.calls.fetch_add(1, Ordering::SeqCst) + 1;
                let path = req.uri().path().to_owned();
                let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
                s.forms.lock().expect("forms").push(form.clone());
                let fault = s.faults.next();
                if let Some(code) = fault {
                    return json(
                        StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                        serde_json::json!({"error": "temporarily_unavailable", "error_description": "AADSTS50196: injected fault", "error_codes": [50196]}),
                    );
                }
                if path != format!("/{tenant}/oauth2/v2.0/token") {
                    return json(
                        StatusCode::BAD_REQUEST,
                        serde_json::json!({"error": "invalid_request", "error_description": format!("AADSTS90002: Tenant not found for {path}."), "error_codes": [90002]}),
                    );
                }
                let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
                let proof_ok = match get("client_assertion_type") {
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" => get("client_assertion") == assertion,
                    _ => get("client_secret") == secret,
                };
                if get("grant_type") != "client_credentials" || get("client_id") != client_id || !proof_ok {
                    return json(
                        StatusCode::UNAUTHORIZED,
                        serde_json::json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]}),
                    );
                }
                json(
                    StatusCode::OK,
                    serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": format!("entra-token-{n}")}),
                )
            }
        };
        let (authority, task) = serve_tls(handler, ca.acceptor.clone()).await;
        Self { authority, state, task }
    }

    /// Token requests received.
    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    /// The form fields of every request.
    pub fn forms(&self) -> Vec<HashMap<String, String>> {
        self.state.forms.lock().expect("forms").clone()
    }

    /// Answers the next requests with these statuses, in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.state.faults.push(statuses);
    }
}

#[derive(Debug, Default)]
struct VaultState {
    secrets: Mutex<HashMap<String, String>>,
    /// Every request: path, query, and the Authorization header.
    requests: Mutex<Vec<(String, String, Option<String>)>>,
    denied: std::sync::atomic::AtomicBool,
    /// Answer this many requests with this status first (429s with `Retry-After: 0`).
    faults: Faults,
    /// The audience its challenge names (default Key Vault's own, `https://vault.azure.net`).
    audience: Mutex<Option<String>>,
}

fn vault_error(status: StatusCode, code: &str, message: String) -> Result<Response<Full<Bytes>>, Infallible> {
    json(status, serde_json::json!({"error": {"code": code, "message": message}}))
}

/// Azure Key Vault's secrets API (`GET /secrets/{name}[/{version}]?api-version=…`) over HTTPS:
/// it wants a bearer token [`Entra`] issued, answers Key Vault's JSON (secret bundles, and
/// `SecretNotFound` / `Unauthorized` / `Forbidden` errors), records every request and can
/// deny access on demand.
#[derive(Debug)]
pub struct KeyVault {
    /// `https://ccc-test.vault.azure.net:PORT/` (see [`VAULT_HOST`]): the `vault_url`.
    pub url: String,
    state: Arc<VaultState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for KeyVault {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl KeyVault {
    /// Serves `secrets` (name → value).
    pub async fn start(ca: &TestCa, secrets: &[(&str, &str)]) -> Self {
        crate::leak::init();
        let state = Arc::new(VaultState::default());
        for (name, value) in secrets {
            crate::leak::secret(value);
            state.secrets.lock().expect("secrets").insert((*name).to_owned(), (*value).to_owned());
        }
        let s = state.clone();
        let handler = move |req: Request<Incoming>| {
            let s = s.clone();
            async move {
                let path = req.uri().path().to_owned();
                let query = req.uri().query().unwrap_or_default().to_owned();
                let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
                s.requests.lock().expect("requests").push((path.clone(), query.clone(), auth.clone()));
                let q: HashMap<String, String> = serde_urlencoded::from_str(&query).unwrap_or_default();
                if !q.contains_key("api-version") {
                    return vault_error(
                        StatusCode::BAD_REQUEST,
                        "BadParameter",
                        "The api-version parameter is missing.".into(),
                    );
                }
                let fault = s.faults.next();
                if fault == Some(STALL) {
                    // accept and say nothing for a long time (a hung vault)
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                }
                if let Some(code) = fault {
                    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                    let mut r = vault_error(status, "Throttled", "Injected fault.".into())?;
                    if code == 429 {
                        r.headers_mut().insert("retry-after", "0".parse().expect("header"));
                    }
                    return Ok(r);
                }
                if !auth.as_deref().is_some_and(|a| a.starts_with("Bearer entra-token-")) {
                    // Key Vault's challenge: which authority and audience a token must have
                    let mut r = vault_error(
                        StatusCode::UNAUTHORIZED,
                        "Unauthorized",
                        "AKV10000: Request is missing a Bearer or PoP token.".into(),
                    )?;
                    let challenge = format!(
                        "Bearer authorization=\"https://login.microsoftonline.com/ccc-test\", resource=\"{}\"",
                        s.audience.lock().expect("audience").as_deref().unwrap_or("https://vault.azure.net")
                    );
                    r.headers_mut().insert("www-authenticate", challenge.parse().expect("header"));
                    return Ok(r);
                }
                if s.denied.load(Ordering::SeqCst) {
                    return vault_error(
                        StatusCode::FORBIDDEN,
                        "Forbidden",
                        "Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'".into(),
                    );
                }
                let name = match path.strip_prefix("/secrets/").map(|rest| rest.split('/').next().unwrap_or_default()) {
                    Some(n) if !n.is_empty() && req.method() == hyper::Method::GET => n.to_owned(),
                    _ => {
                        return vault_error(
                            StatusCode::BAD_REQUEST,
                            "BadParameter",
                            format!("Unsupported request {path}."),
                        );
                    }
                };
                let value = s.secrets.lock().expect("secrets").get(&name).cloned();
                match value {
                    Some(v) => json(
                        StatusCode::OK,
                        serde_json::json!({
                            "value": v,
                            "id": format!("https://stub.vault.azure.net/secrets/{name}/0123456789abcdef"),
                            "attributes": {"enabled": true, "created": unix_now(), "updated": unix_now(), "recoveryLevel": "Recoverable+Purgeable"},
                            "tags": {},
                        }),
                    ),
                    None => vault_error(
                        StatusCode::NOT_FOUND,
                        "SecretNotFound",
                        format!(
                            "A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command."
                        ),
                    ),
                }
            }
        };
        let (authority, task) = serve_tls(handler, ca.acceptor.clone()).await;
        let url = format!("{}/", authority.replace("localhost", VAULT_HOST).replace("127.0.0.1", VAULT_HOST));
        Self { url, state, task }
    }

    /// Challenges for a token of another audience (a vault impersonated, or misconfigured).
    pub fn challenge_for(&self, audience: &str) {
        *self.state.audience.lock().expect("audience") = Some(audience.to_owned());
    }

    /// Every request: path, query and Authorization header.
    pub fn requests(&self) -> Vec<(String, String, Option<String>)> {
        self.state.requests.lock().expect("requests").clone()
    }

    /// Answers the next requests with these statuses, in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.state.faults.push(statuses);
    }

    /// From now on, answers 403 Forbidden (the identity lost its role).
    pub fn deny(&self) {
        self.state.denied.store(true, Ordering::SeqCst);
    }
}

/// The App Service managed-identity endpoint.
#[derive(Debug)]
pub struct ManagedIdentity {
    /// `IDENTITY_ENDPOINT`.
    pub endpoint: String,
    /// `IDENTITY_HEADER`.
    pub header: String,
    calls: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ManagedIdentity {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ManagedIdentity {
    /// Starts it; tokens live `lifetime_secs`.
    pub async fn start(lifetime_secs: u64) -> Self {
        crate::leak::init();
        let header = format!("identity-header-{}", fastrand::u64(..));
        crate::leak::secret(&header);
        let calls = Arc::new(AtomicUsize::new(0));
        let (h, c) = (header.clone(), calls.clone());
        let handler = move |req: Request<Incoming>| {
            let (h, c) = (h.clone(), c.clone());
            async move {
                let n = c.fetch_add(1, Ordering::SeqCst) + 1;
                let q: HashMap<String, String> =
                    serde_urlencoded::from_str(req.uri().query().unwrap_or_default()).unwrap_or_default();
                let header_ok =
                    req.headers().get("x-identity-header").and_then(|v| v.to_str().ok()) == Some(h.as_str());
                if req.uri().path() != "/msi/token" || q.get("api-version").map(String::as_str) != Some("2019-08-01") {
                    return json(StatusCode::NOT_FOUND, serde_json::json!({"error": "not found"}));
                }
                if !header_ok {
                    return json(
                        StatusCode::UNAUTHORIZED,
                        serde_json::json!({"statusCode": 401, "message": "X-IDENTITY-HEADER missing or wrong"}),
                    );
                }
                let resource = q.get("resource").cloned().unwrap_or_default();
                json(
                    StatusCode::OK,
                    serde_json::json!({
                        "access_token": format!("mi-access-token-{n}"),
                        "expires_on": (unix_now() + lifetime_secs).to_string(),
                        "resource": resource,
                        "token_type": "Bearer",
                        "client_id": q.get("client_id").cloned().unwrap_or_else(|| "system-assigned".into()),
                    }),
                )
            }
        };
        let (url, task) = serve(handler).await;
        Self { endpoint: format!("{url}/msi/token"), header, calls, task }
    }

    /// Token requests received.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// An `az` executable in a directory of its own; every invocation is logged.
#[derive(Debug)]
pub struct FakeAz {
    dir: tempfile::TempDir,
}

impl FakeAz {
    /// A signed-in `az` whose tokens live `lifetime_secs`.
    pub fn signed_in(lifetime_secs: u64) -> Self {
        crate::leak::init();
        for n in 1..=8 {
            crate::leak::secret(&format!("az-access-token-{n}"));
        }
        let me = Self { dir: tempfile::tempdir().expect("tempdir") };
        me.sign_in(lifetime_secs);
        me
    }

    /// Makes it answer with tokens again.
    pub fn sign_in(&self, lifetime_secs: u64) {
        self.write(&format!(
            r#"case "$*" in
  "account get-access-token -o json --scope "*) ;;
  *) echo "ERROR: unexpected arguments: $*" >&2; exit 2 ;;
esac
n=$(wc -l < "{log}")
exp=$(( $(date +%s) + {lifetime_secs} ))
printf '{{"accessToken": "az-access-token-%s", "expiresOn": "unused", "expires_on": %s, "subscription": "00000000-0000-0000-0000-000000000000", "tenant": "contoso", "tokenType": "Bearer"}}\n' "$n" "$exp"
"#,
            log = self.log().display()
        ));
    }

    /// Makes it answer like a CLI nobody signed in to.
    pub fn sign_out(&self) {
        self.write("echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n");
    }

    fn write(&self, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let script = format!("#!/bin/sh\necho \"$*\" >> \"{}\"\n{body}", self.log().display());
        let path = self.dir.path().join("az");
        let tmp = self.dir.path().join("az.tmp");
        std::fs::write(&tmp, script).expect("write az");
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).expect("chmod az");
        std::fs::rename(&tmp, &path).expect("install az");
    }

    fn log(&self) -> std::path::PathBuf {
        self.dir.path().join("calls.log")
    }

    /// The directory holding `az`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A `PATH` with this `az` first (then the system's tools).
    pub fn path(&self) -> String {
        format!("{}:/usr/local/bin:/usr/bin:/bin", self.dir.path().display())
    }

    /// The argument lines of every invocation.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.log()).unwrap_or_default().lines().map(str::to_owned).collect()
    }
}
