//! A loopback protocol stub of AWS IAM Identity Center (no peer implements it): SSO-OIDC
//! `CreateToken` (refresh and device-code grants), `RegisterClient`, `StartDeviceAuthorization`
//! and SSO `GetRoleCredentials`,
//! `ListAccounts`, `ListAccountRoles`, in their restJson wire format. It validates inputs,
//! counts calls and injects faults.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};

#[derive(Default)]
struct State {
    calls: HashMap<String, usize>,
    faults: HashMap<String, (u16, String, usize)>,
    refresh_tokens: HashSet<String>,
    access_tokens: HashSet<String>,
    issued: usize,
    expires_in: i64,
    role_lifetime_ms: i64,
    now_ms: i64,
    /// Device-code polls answered `authorization_pending` before approval.
    pending_polls: usize,
    /// Answer the first device-code poll with `slow_down`.
    slow_down_first: bool,
    /// The person refuses the device sign-in.
    device_denied: bool,
    /// (account id, name) `ListAccounts` serves; each has the role `Developer`.
    accounts: Vec<(String, String)>,
    /// The portal's throttle: at most this many `List*` calls in any second; more are
    /// answered 429 `TooManyRequestsException` with `Retry-After: 1`.
    rate_limit: Option<usize>,
    /// When the recent `List*` calls came (the last second's).
    recent: std::collections::VecDeque<std::time::Instant>,
    /// Calls the throttle refused.
    throttled: usize,
}

/// The service's page size when the caller names none (small, so paging is exercised).
const DEFAULT_PAGE: usize = 2;

/// The running stub; stops when dropped.
pub struct SsoStub {
    /// The base URL to use as the SSO and SSO-OIDC endpoint.
    pub url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SsoStub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoStub").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for SsoStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(s: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SsoStub {
    /// Starts the stub. Role credentials expire `role_lifetime_ms` after `now_ms` (the test's clock).
    pub async fn start(now_ms: i64, role_lifetime_ms: i64) -> Self {
        let state = Arc::new(Mutex::new(State {
            expires_in: 28_800,
            role_lifetime_ms,
            now_ms,
            accounts: vec![("111122223333".into(), "dev".into())],
            ..State::default()
        }));
        let shared = state.clone();
        let (url, task) = crate::serve::serve(move |req| handle(shared.clone(), req)).await;
        Self { url, state, task }
    }

    /// Accepts this refresh token (until it is used: refresh tokens rotate).
    pub fn allow_refresh_token(&self, token: &str) {
        lock(&self.state).refresh_tokens.insert(token.to_owned());
    }

    /// Accepts this access token for GetRoleCredentials / ListAccounts.
    pub fn allow_access_token(&self, token: &str) {
        lock(&self.state).access_tokens.insert(token.to_owned());
    }

    /// The person approves a device sign-in after `pending` polls (the first answered
    /// `slow_down` when `slow_down_first`), or refuses it (`denied`).
    pub fn device_approval(&self, pending: usize, slow_down_first: bool, denied: bool) {
        let mut s = lock(&self.state);
        (s.pending_polls, s.slow_down_first, s.device_denied) = (pending, slow_down_first, denied);
    }

    /// The accounts (id, name) the signed-in user can use (default one, `111122223333` dev).
    pub fn set_accounts(&self, accounts: &[(&str, &str)]) {
        lock(&self.state).accounts = accounts.iter().map(|(i, n)| ((*i).to_owned(), (*n).to_owned())).collect();
    }

    /// Calls of an operation (`CreateToken`, `GetRoleCredentials`, ...).
    pub fn calls(&self, op: &str) -> usize {
        lock(&self.state).calls.get(op).copied().unwrap_or(0)
    }

    /// Throttles `ListAccounts` / `ListAccountRoles` at `per_second` calls (429 with
    /// `Retry-After: 1` beyond), as the portal does at about 20.
    pub fn rate_limit(&self, per_second: usize) {
        lock(&self.state).rate_limit = Some(per_second);
    }

    /// Calls the rate limit refused.
    pub fn throttled(&self) -> usize {
        lock(&self.state).throttled
    }

    /// The next `times` calls of `op` fail with `status` and AWS error type `code`.
    pub fn inject(&self, op: &str, status: u16, code: &str, times: usize) {
        lock(&self.state).faults.insert(op.to_owned(), (status, code.to_owned(), times));
    }
}

fn respond(status: u16, body: Value, error_type: Option<&str>) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(status).header("content-type", "application/json");
    if let Some(t) = error_type {
        b = b.header("x-amzn-errortype", t);
    }
    let text = body.to_string();
    crate::leak::secrets_in_response(&text);
    b.body(Full::new(Bytes::from(text))).unwrap_or_default()
}

/// A 429 says when to come back, as the portal's throttle does.
fn with_retry_after(status: u16, mut r: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    if status == 429 {
        r.headers_mut().insert("retry-after", hyper::header::HeaderValue::from_static("1"));
    }
    r
}

fn err(status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    let oauth = match code {
        "InvalidGrantException" => "invalid_grant",
        "InvalidClientException" => "invalid_client",
        "InvalidRequestException" => "invalid_request",
        "AuthorizationPendingException" => "authorization_pending",
        "SlowDownException" => "slow_down",
        "AccessDeniedException" => "access_denied",
        _ => "",
    };
    respond(status, json!({"error": oauth, "error_description": message, "message": message}), Some(code))
}

async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    let bearer = parts.headers.get("x-amz-sso_bearer_token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let op = match (parts.method.as_str(), path.as_str()) {
        ("POST", "/token") => "CreateToken",
        ("POST", "/client/register") => "RegisterClient",
        ("POST", "/device_authorization") => "StartDeviceAuthorization",
        ("GET", "/federation/credentials") => "GetRoleCredentials",
        ("GET", "/assignment/accounts") => "ListAccounts",
        ("GET", "/assignment/roles") => "ListAccountRoles",
        ("POST", "/logout") => "Logout",
        _ => return Ok(err(404, "UnknownOperationException", &format!("no operation at {} {path}", parts.method))),
    };
    let mut s = lock(&state);
    *s.calls.entry(op.to_owned()).or_default() += 1;
    if let Some((status, code, left)) = s.faults.get_mut(op)
        && *left > 0
    {
        *left -= 1;
        let (status, code) = (*status, code.clone());
        return Ok(with_retry_after(status, err(status, &code, "injected fault")));
    }
    if op.starts_with("List")
        && let Some(limit) = s.rate_limit
    {
        let now = std::time::Instant::now();
        while s.recent.front().is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1)) {
            s.recent.pop_front();
        }
        if s.recent.len() >= limit {
            s.throttled += 1;
            return Ok(with_retry_after(429, err(429, "TooManyRequestsException", "Rate exceeded")));
        }
        s.recent.push_back(now);
    }
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let field = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(match op {
        "CreateToken" => {
            let (Some(_), Some(_), Some(grant)) = (field("clientId"), field("clientSecret"), field("grantType")) else {
                return Ok(err(400, "InvalidRequestException", "clientId, clientSecret and grantType are required"));
            };
            match grant.as_str() {
                "refresh_token" => {
                    let Some(rt) = field("refreshToken") else {
                        return Ok(err(400, "InvalidRequestException", "refreshToken is required"));
                    };
                    if !s.refresh_tokens.remove(&rt) {
                        return Ok(err(400, "InvalidGrantException", "refresh token is invalid or was already used"));
                    }
                }
                "urn:ietf:params:oauth:grant-type:device_code" => {
                    if field("deviceCode").as_deref() != Some("stub-device") {
                        return Ok(err(400, "InvalidGrantException", "unknown device code"));
                    }
                    if s.device_denied {
                        return Ok(err(400, "AccessDeniedException", "the user denied the authorization"));
                    }
                    if s.slow_down_first {
                        s.slow_down_first = false;
                        return Ok(err(400, "SlowDownException", "polling too fast"));
                    }
                    if s.pending_polls > 0 {
                        s.pending_polls -= 1;
                        return Ok(err(400, "AuthorizationPendingException", "the user has not approved yet"));
                    }
                }
                _ => return Ok(err(400, "UnsupportedGrantTypeException", "refresh_token or device_code only")),
            }
            s.issued += 1;
            let (access, refresh) = (format!("stub-access-{}", s.issued), format!("stub-refresh-{}", s.issued));
            s.access_tokens.insert(access.clone());
            s.refresh_tokens.insert(refresh.clone());
            respond(
                200,
                json!({"accessToken": access, "tokenType": "Bearer", "expiresIn": s.expires_in, "refreshToken": refresh}),
                None,
            )
        }
        "RegisterClient" => match (field("clientName"), field("clientType")) {
            (Some(name), Some(t)) if t == "public" => respond(
                200,
                json!({"clientId": format!("client-{name}"), "clientSecret": "stub-client-secret", "clientIdIssuedAt": s.now_ms / 1000, "clientSecretExpiresAt": s.now_ms / 1000 + 7_776_000}),
                None,
            ),
            _ => err(400, "InvalidRequestException", "clientName and clientType=public are required"),
        },
        "StartDeviceAuthorization" => match (field("clientId"), field("clientSecret"), field("startUrl")) {
            (Some(_), Some(_), Some(url)) => respond(
                200,
                json!({"deviceCode": "stub-device", "userCode": "ABCD-EFGH", "verificationUri": format!("{url}/#/device"), "verificationUriComplete": format!("{url}/#/device?user_code=ABCD-EFGH"), "expiresIn": 600, "interval": 1}),
                None,
            ),
            _ => err(400, "InvalidRequestException", "clientId, clientSecret and startUrl are required"),
        },
        _ => {
            let Some(token) = bearer else {
                return Ok(err(400, "InvalidRequestException", "x-amz-sso_bearer_token is required"));
            };
            if !s.access_tokens.contains(&token) {
                return Ok(err(401, "UnauthorizedException", "Session token not found or invalid"));
            }
            match op {
                // the token is no longer accepted
                "Logout" => {
                    s.access_tokens.retain(|t| *t != token);
                    respond(200, json!({}), None)
                }
                "GetRoleCredentials" => match (query.get("role_name"), query.get("account_id")) {
                    (Some(role), Some(account)) => respond(
                        200,
                        json!({"roleCredentials": {"accessKeyId": format!("ASIASTUB{}", s.calls["GetRoleCredentials"]), "secretAccessKey": format!("stub-secret-{role}-{account}"), "sessionToken": "stub-session-token", "expiration": s.now_ms + s.role_lifetime_ms}}),
                        None,
                    ),
                    _ => err(400, "InvalidRequestException", "role_name and account_id are required"),
                },
                "ListAccounts" => {
                    let all: Vec<Value> = s
                        .accounts
                        .iter()
                        .map(|(id, name)| json!({"accountId": id, "accountName": name, "emailAddress": format!("{name}@example.com")}))
                        .collect();
                    page(&query, "accountList", &all)
                }
                _ => match query.get("account_id") {
                    Some(a) if s.accounts.iter().any(|(id, _)| id == a) => {
                        page(&query, "roleList", &[json!({"roleName": "Developer", "accountId": a})])
                    }
                    Some(_) => err(404, "ResourceNotFoundException", "no such account for this user"),
                    None => err(400, "InvalidRequestException", "account_id is required"),
                },
            }
        }
    })
}

/// One page of `items` under `key`, as the SSO portal pages: `max_result` (1 to 100) and
/// `next_token` in the query, `nextToken` in the answer while more remain.
fn page(query: &HashMap<String, String>, key: &str, items: &[Value]) -> Response<Full<Bytes>> {
    let size = match query.get("max_result").map(|m| m.parse::<usize>()) {
        None => DEFAULT_PAGE,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return err(400, "InvalidRequestException", "max_result must be 1 to 100"),
    };
    let start = match query.get("next_token").map(|t| t.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) if n <= items.len() => n,
        Some(_) => return err(400, "InvalidRequestException", "invalid next_token"),
    };
    let end = (start + size).min(items.len());
    let mut out = json!({ key: items[start..end] });
    if end < items.len() {
        out["nextToken"] = json!(end.to_string());
    }
    respond(200, out, None)
}

/// Writes an SSO profile (`sso_session = corp`, account 111122223333, role Developer) and a
/// cached token (access `initial-access`, refresh `initial-refresh`) expiring at `expires_at`
/// under `paths`; allows both tokens at `stub`.
pub fn seed_home(paths: &cred_store::Paths, profile: &str, stub: &SsoStub, expires_at: std::time::SystemTime) {
    use core_types::SecretString;
    let files = cred_store::AwsFiles::new(paths);
    files
        .set_profile_values(
            profile,
            &[
                ("sso_session", "corp"),
                ("sso_account_id", "111122223333"),
                ("sso_role_name", "Developer"),
                ("region", "eu-west-1"),
            ],
        )
        .expect("write profile");
    cred_store::fsutil::update(&paths.config_file, |t| {
        let t = t.unwrap_or_default();
        let add = if t.contains("[sso-session corp]") {
            String::new()
        } else {
            "\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n".to_owned()
        };
        Ok((Some(format!("{t}{add}")), ()))
    })
    .expect("write sso-session");
    stub.allow_access_token("initial-access");
    stub.allow_refresh_token("initial-refresh");
    cred_store::SsoCache::new(paths)
        .save(
            "corp",
            &cred_store::SsoToken {
                access_token: SecretString::from("initial-access".to_owned()),
                expires_at,
                refresh_token: Some(SecretString::from("initial-refresh".to_owned())),
                client_id: Some("client-ccc".into()),
                client_secret: Some(SecretString::from("client-secret".to_owned())),
                registration_expires_at: Some(expires_at + std::time::Duration::from_secs(90 * 86400)),
                region: Some("us-east-1".into()),
                start_url: Some("https://corp.awsapps.com/start".into()),
                extra: Default::default(),
            },
        )
        .expect("write token cache");
}
