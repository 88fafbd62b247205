//! The verifying front: a judge for the credentials moto cannot judge.
//!
//! moto with authentication on refuses a key it never issued and a wrong signature for IAM
//! users' keys and AssumeRole credentials, but the credentials of GetSessionToken (always
//! `AKIAIOSFODNN7EXAMPLE`, which it then refuses), of Cognito's GetCredentialsForIdentity
//! (always `TESTACCESSKEY12345`, never checked) and of AssumeRoleWithWebIdentity (unsigned,
//! which the strict moto cannot serve: the lenient one answers it) it does not. In front of it, this judge
//! replaces those answers' credentials (and GetFederationToken's) with ones it mints (a random key, secret and session
//! token, moto's expiry) and remembers whose they are; a request signed with a minted key is
//! verified here with an independent SigV4 signer (aws-sigv4, from the request's own signed
//! headers and body), its session token and expiry checked, and refused as AWS refuses
//! (`SignatureDoesNotMatch`, `InvalidClientTokenId`, `ExpiredToken`). An accepted
//! `GetCallerIdentity` is answered with the true principal; anything else is re-signed with the
//! strict endpoint's administrator and forwarded. Every other request goes to moto, which
//! judges it. Cognito's own calls go to the Cognito peer (the lenient moto, where the test
//! pools live).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

use crate::peer;

/// The role Cognito identity-pool credentials are sessions of (AWS takes it from the pool's
/// authenticated role; the strict moto has one of this name where a demo or test needs it).
pub const COGNITO_ROLE: &str = "Cognito_Authenticated";

/// Credentials the judge minted, and whose they are.
struct Minted {
    secret: String,
    token: String,
    expires: SystemTime,
    arn: String,
}

#[derive(Default)]
struct State {
    minted: HashMap<String, Minted>,
    /// Keys whose sessions were revoked ("revoke active sessions"): refused as expired.
    revoked: std::collections::HashSet<String>,
    accepted: usize,
    refused: Vec<String>,
}

/// The running judge; stops when dropped.
pub struct Judge {
    /// Its base URL, to use as the AWS endpoint.
    pub url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for Judge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The URL of this test process's own judge, started on first use on a thread of its own (so
/// synchronous tests and any runtime can use it): the default AWS endpoint of every `ccc` a
/// CLI test runs. It lives as long as the process.
pub fn shared_url() -> String {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the judge's runtime");
            runtime.block_on(async move {
                let judge = Judge::start().await;
                let _ = tx.send(judge.url.clone());
                // serve for the rest of the process
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("the shared judge started")
    })
    .clone()
}

impl Judge {
    /// Starts a judge in front of the strict moto (and the Cognito peer).
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap();
        let shared = state.clone();
        let (url, task) = crate::serve::serve(move |req| handle(shared.clone(), http.clone(), req)).await;
        Self { url, state, task }
    }

    /// Requests signed with a minted key that were verified and served.
    pub fn accepted(&self) -> usize {
        lock(&self.state).accepted
    }

    /// Why each refused request signed with a minted key was refused (`ExpiredToken`, ...).
    pub fn refused(&self) -> Vec<String> {
        lock(&self.state).refused.clone()
    }

    /// Revokes the session of `key` (as IAM's "revoke active sessions" does): every request
    /// signed with it is refused from now on, as an expired token is, whoever issued it.
    pub fn revoke(&self, key: &str) {
        lock(&self.state).revoked.insert(key.to_owned());
    }

    /// Mints credentials for `arn` lasting until `expires` (for tests of the judge itself).
    pub fn mint(&self, arn: &str, expires: SystemTime) -> (String, String, String) {
        mint_into(&self.state, arn, expires)
    }
}

/// AWS's clock: the judge checks expiry as AWS does, by the wall clock (moto issues by it too).
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> SystemTime {
    SystemTime::now()
}

fn random(n: usize, upper: bool) -> String {
    let set: &[u8] = if upper {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    } else {
        b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP"
    };
    (0..n).map(|_| set[fastrand::usize(..set.len())] as char).collect()
}

fn xml(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .header("x-amzn-requestid", "ccc-judge-0001")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

fn refusal(code: &str, message: &str) -> Response<Full<Bytes>> {
    xml(
        403,
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>ccc-judge-0001</RequestId></ErrorResponse>"
        ),
    )
}

/// The SigV4 parts of an `Authorization` header: key, date, region, service, signed
/// headers, signature.
struct Signed<'a> {
    key: &'a str,
    region: &'a str,
    service: &'a str,
    headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(v: &str) -> Option<Signed<'_>> {
    let rest = v.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut headers = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim) {
        if let Some(c) = part.strip_prefix("Credential=") {
            credential = Some(c);
        } else if let Some(h) = part.strip_prefix("SignedHeaders=") {
            headers = Some(h.split(';').collect());
        } else if let Some(s) = part.strip_prefix("Signature=") {
            signature = Some(s);
        }
    }
    let mut scope = credential?.split('/');
    let key = scope.next()?;
    let _date = scope.next()?;
    Some(Signed { key, region: scope.next()?, service: scope.next()?, headers: headers?, signature: signature? })
}

/// aws-sigv4's signing of a request (`headers` exactly those to sign) as `identity`.
fn sigv4<'a>(
    method: &'a str,
    uri: String,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    body: &'a [u8],
    identity: aws_credential_types::Credentials,
    signed: &Signed<'_>,
    at: SystemTime,
) -> Option<aws_sigv4::SigningOutput<aws_sigv4::http_request::SigningInstructions>> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity = identity.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(signed.region)
        .name(signed.service)
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .ok()?
        .into();
    sign(SignableRequest::new(method, uri, headers, SignableBody::Bytes(body)).ok()?, &params).ok()
}

/// The signature aws-sigv4 computes for this request with `secret`/`token`, from exactly the
/// headers the client signed.
fn signature_of(
    parts: &hyper::http::request::Parts,
    body: &[u8],
    signed: &Signed<'_>,
    secret: &str,
    token: &str,
    at: SystemTime,
) -> Option<String> {
    let identity = aws_credential_types::Credentials::new(signed.key, secret, Some(token.to_owned()), None, "judge");
    let headers = parts
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.as_str();
            signed.headers.contains(&k) && k != "x-amz-date" && k != "x-amz-security-token" && k != "authorization"
        })
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
    let host = parts.headers.get("host")?.to_str().ok()?;
    let uri = format!("http://{host}{}", parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    Some(sigv4(parts.method.as_str(), uri, headers, body, identity, signed, at)?.signature().to_owned())
}

fn amz_date(parts: &hyper::http::request::Parts) -> Option<SystemTime> {
    let v = parts.headers.get("x-amz-date")?.to_str().ok()?;
    let format = time::format_description::parse_borrowed::<2>("[year][month][day]T[hour][minute][second]Z").ok()?;
    let t = time::PrimitiveDateTime::parse(v, &format).ok()?.assume_utc();
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(t.unix_timestamp()).ok()?))
}

async fn handle(
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let authorization = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let signed = authorization.as_deref().and_then(parse_authorization);
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = String::from_utf8_lossy(&body).into_owned();

    if let Some(s) = &signed
        && lock(&state).revoked.contains(s.key)
    {
        lock(&state).refused.push("ExpiredToken".to_owned());
        return Ok(refusal("ExpiredToken", "The security token included in the request is expired"));
    }
    if let Some(s) = &signed {
        let minted =
            lock(&state).minted.get(s.key).map(|m| (m.secret.clone(), m.token.clone(), m.expires, m.arn.clone()));
        if let Some((secret, token, expires, arn)) = minted {
            let given_token = parts.headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
            let at = amz_date(&parts);
            let verdict = if given_token != Some(token.as_str()) {
                Err(("InvalidClientTokenId", "The security token included in the request is invalid."))
            } else if wall_clock() >= expires {
                Err(("ExpiredToken", "The security token included in the request is expired"))
            } else if at.and_then(|at| signature_of(&parts, &body, s, &secret, &token, at)).as_deref()
                != Some(s.signature)
            {
                Err((
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided.",
                ))
            } else {
                Ok(())
            };
            if let Err((code, message)) = verdict {
                lock(&state).refused.push(code.to_owned());
                return Ok(refusal(code, message));
            }
            lock(&state).accepted += 1;
            if s.service == "sts" && text.contains("Action=GetCallerIdentity") {
                return Ok(xml(
                    200,
                    format!(
                        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>{arn}</Arn><UserId>{}</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>ccc-judge-0001</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                        s.key
                    ),
                ));
            }
            return Ok(as_admin(&http, &parts, body, s).await);
        }
    }
    let cognito =
        target.starts_with("AWSCognitoIdentityService") || target.starts_with("AWSCognitoIdentityProviderService");
    // AssumeRoleWithWebIdentity is unsigned (the token is the proof), which the strict moto
    // cannot serve: the lenient one answers and the judge mints the credentials
    let web_identity = signed.is_none() && text.contains("Action=AssumeRoleWithWebIdentity");
    let upstream = if cognito || web_identity { peer("CCC_TEST_AWS_ENDPOINT") } else { crate::strict::endpoint() };
    let answer = crate::serve::forward(&http, &upstream, &parts, body, "the judge").await;
    let (status, bytes) = (answer.status, &answer.body);
    if status == 200 && signed.as_ref().is_some_and(|s| s.service == "sts") && text.contains("Action=GetSessionToken") {
        let owner = signed.as_ref().map(|s| s.key.to_owned()).unwrap_or_default();
        return Ok(xml(200, mint_session_token(&state, &String::from_utf8_lossy(bytes), &owner).await));
    }
    if status == 200
        && signed.as_ref().is_some_and(|s| s.service == "sts")
        && text.contains("Action=GetFederationToken")
    {
        return Ok(xml(200, mint_federated(&state, &String::from_utf8_lossy(bytes))));
    }
    if status == 200 && web_identity {
        return Ok(xml(200, mint_web_identity(&state, &String::from_utf8_lossy(bytes))));
    }
    if status == 200 && target.ends_with(".GetCredentialsForIdentity") {
        return Ok(json(mint_identity(&state, bytes)));
    }
    Ok(answer.into_response())
}

fn json(body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(200)
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// A verified request, re-signed as the strict endpoint's administrator and sent to moto.
async fn as_admin(
    http: &reqwest::Client,
    parts: &hyper::http::request::Parts,
    body: Bytes,
    signed: &Signed<'_>,
) -> Response<Full<Bytes>> {
    let upstream = crate::strict::endpoint();
    let host = upstream.trim_start_matches("http://").to_owned();
    let uri = format!("{upstream}{}", parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    let admin = aws_credential_types::Credentials::new(
        peer("CCC_TEST_STRICT_ADMIN_KEY_ID"),
        peer("CCC_TEST_STRICT_ADMIN_SECRET"),
        None,
        None,
        "judge-admin",
    );
    let keep: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(k, _)| {
            !matches!(k.as_str(), "authorization" | "x-amz-date" | "x-amz-security-token" | "host" | "content-length")
        })
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .chain([("host".to_owned(), host)])
        .collect();
    let headers = keep.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let Some(out) = sigv4(parts.method.as_str(), uri.clone(), headers, &body, admin, signed, wall_clock()) else {
        return refusal("InternalFailure", "judge could not sign");
    };
    let (instructions, _) = out.into_parts();
    let mut req = http.request(parts.method.clone(), &uri).body(body.clone());
    for (k, v) in keep.iter().filter(|(k, _)| k != "host") {
        req = req.header(k, v);
    }
    for (k, v) in instructions.headers() {
        req = req.header(k, v);
    }
    crate::serve::send(req, "the judge").await.into_response()
}

/// The text between `<tag>` and `</tag>`.
fn between<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let start = text.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + text[start..].find(&format!("</{tag}>"))?;
    Some(&text[start..end])
}

/// GetSessionToken's answer with credentials the judge minted for the key that asked (its
/// user, by the administrator's GetAccessKeyLastUsed).
async fn mint_session_token(state: &Mutex<State>, answer: &str, owner_key: &str) -> String {
    let expires = sts_expiry(answer);
    let iam = aws_sdk_iam::Client::new(&crate::strict::admin_config());
    let user = iam
        .get_access_key_last_used()
        .access_key_id(owner_key)
        .send()
        .await
        .ok()
        .and_then(|r| r.user_name().map(str::to_owned))
        .unwrap_or_default();
    let arn = format!("arn:aws:iam::123456789012:user/{user}");
    with_minted(state, answer, &arn, expires)
}

/// The expiry an STS answer gives its credentials.
fn sts_expiry(answer: &str) -> SystemTime {
    between(answer, "Expiration")
        .and_then(|e| time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc3339).ok())
        .map_or_else(wall_clock, |t| {
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(t.unix_timestamp()).unwrap_or(0))
        })
}

/// An STS answer with the credentials replaced by ones minted for `arn`.
fn with_minted(state: &Mutex<State>, answer: &str, arn: &str, expires: SystemTime) -> String {
    let (key, secret, token) = mint_into(state, arn, expires);
    let mut out = answer.to_owned();
    for (tag, value) in [("AccessKeyId", &key), ("SecretAccessKey", &secret), ("SessionToken", &token)] {
        if let Some(old) = between(&out, tag).map(str::to_owned) {
            out = out.replace(&format!("<{tag}>{old}</{tag}>"), &format!("<{tag}>{value}</{tag}>"));
        }
    }
    out
}

/// AssumeRoleWithWebIdentity's answer with credentials minted for the role session it names
/// (`AssumedRoleUser/Arn`).
fn mint_web_identity(state: &Mutex<State>, answer: &str) -> String {
    let arn = between(answer, "AssumedRoleUser").and_then(|u| between(u, "Arn")).unwrap_or_default().to_owned();
    with_minted(state, answer, &arn, sts_expiry(answer))
}

/// GetFederationToken's answer with credentials minted for the federated user it names
/// (`FederatedUser/Arn`).
fn mint_federated(state: &Mutex<State>, answer: &str) -> String {
    let arn = between(answer, "FederatedUser").and_then(|u| between(u, "Arn")).unwrap_or_default().to_owned();
    with_minted(state, answer, &arn, sts_expiry(answer))
}

/// GetCredentialsForIdentity's answer with credentials the judge minted for the identity.
fn mint_identity(state: &Mutex<State>, answer: &[u8]) -> String {
    let mut v: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
    let expires = v["Credentials"]["Expiration"]
        .as_f64()
        .map_or_else(wall_clock, |s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs_f64(s.max(0.0)));
    // as AWS names an identity pool's authenticated role session (the demo and tests give
    // the role this name on the strict moto)
    let arn = format!("arn:aws:sts::123456789012:assumed-role/{COGNITO_ROLE}/CognitoIdentityCredentials");
    let (key, secret, token) = mint_into(state, &arn, expires);
    v["Credentials"]["AccessKeyId"] = key.into();
    v["Credentials"]["SecretKey"] = secret.into();
    v["Credentials"]["SessionToken"] = token.into();
    v.to_string()
}

fn mint_into(state: &Mutex<State>, arn: &str, expires: SystemTime) -> (String, String, String) {
    let (key, secret, token) = (format!("ASIAJUDGE{}", random(11, true)), random(40, false), random(96, false));
    crate::leak::secret(&secret);
    crate::leak::secret(&token);
    lock(state)
        .minted
        .insert(key.clone(), Minted { secret: secret.clone(), token: token.clone(), expires, arn: arn.to_owned() });
    (key, secret, token)
}
