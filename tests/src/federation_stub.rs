//! The console federation endpoint (`https://signin.aws.amazon.com/federation`), written from
//! AWS's documented protocol: `Action=getSigninToken` with the `Session` JSON (`sessionId`,
//! `sessionKey`, `sessionToken`) and an optional `SessionDuration`, answered with
//! `{"SigninToken": ...}`; then `Action=login` with `Issuer`, `Destination` and `SigninToken`,
//! answered with a redirect to the destination. It checks a session against what STS issued:
//! the credentials must be accepted by the judge (GetCallerIdentity through it, which gives
//! their true ARN), must be temporary, and a federated user's may not choose a duration, as AWS
//! refuses both. Sign-in tokens work once.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

/// A console sign-in the endpoint let through.
#[derive(Debug, Clone)]
pub struct Login {
    /// Whose session (the ARN STS gives the credentials).
    pub arn: String,
    /// The `SessionDuration` asked, if any.
    pub duration: Option<u32>,
    /// The page it sent the browser to.
    pub destination: String,
    /// Who issued the link.
    pub issuer: String,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, (String, Option<u32>)>,
    logins: Vec<Login>,
    refused: Vec<String>,
}

/// The running endpoint; stops when dropped.
pub struct FederationStub {
    /// Its `/federation` URL.
    pub url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FederationStub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederationStub").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for FederationStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn answer(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder().status(status).body(Full::new(Bytes::from(body))).unwrap_or_default()
}

impl FederationStub {
    /// Starts the endpoint; sessions are checked through the judge at `judge`.
    pub async fn start(judge: &str) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let (shared, judge) = (state.clone(), judge.to_owned());
        let (base, task) = crate::serve::serve(move |req| handle(shared.clone(), judge.clone(), req)).await;
        Self { url: format!("{base}/federation"), state, task }
    }

    /// The sign-ins it let through.
    pub fn logins(&self) -> Vec<Login> {
        lock(&self.state).logins.clone()
    }

    /// Why it refused each request it refused.
    pub fn refused(&self) -> Vec<String> {
        lock(&self.state).refused.clone()
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    judge: String,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()).into_owned().collect();
    let refuse = |why: &str| {
        lock(&state).refused.push(why.to_owned());
        answer(400, why.to_owned())
    };
    if req.uri().path() != "/federation" {
        return Ok(answer(404, String::new()));
    }
    match query.get("Action").map(String::as_str) {
        Some("getSigninToken") => {
            let Some(session) = query.get("Session").and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            else {
                return Ok(refuse("no Session JSON"));
            };
            let field = |k: &str| session.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            let (Some(id), Some(key)) = (field("sessionId"), field("sessionKey")) else {
                return Ok(refuse("Session lacks sessionId or sessionKey"));
            };
            let Some(token) = field("sessionToken") else {
                return Ok(refuse("long-term credentials are not accepted"));
            };
            let duration = match query.get("SessionDuration") {
                None => None,
                Some(d) => match d.parse::<u32>() {
                    Ok(d) if (900..=43_200).contains(&d) => Some(d),
                    _ => return Ok(refuse("SessionDuration out of range")),
                },
            };
            let verdict =
                tokio::task::spawn_blocking(move || crate::strict::boto3_with_keys_at(&judge, &id, &key, Some(&token)))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
            let arn = match verdict {
                Ok(arn) => arn,
                Err(code) => return Ok(refuse(&format!("STS refused the session: {code}"))),
            };
            if duration.is_some() && arn.contains(":federated-user/") {
                return Ok(refuse("SessionDuration is not allowed for a federated user's credentials"));
            }
            let signin = format!("signin-{:032x}", fastrand::u128(..));
            lock(&state).tokens.insert(signin.clone(), (arn, duration));
            Ok(answer(200, serde_json::json!({"SigninToken": signin}).to_string()))
        }
        Some("login") => {
            let taken = query.get("SigninToken").and_then(|t| lock(&state).tokens.remove(t));
            let Some((arn, duration)) = taken else { return Ok(refuse("unknown or used SigninToken")) };
            let (Some(destination), Some(issuer)) = (query.get("Destination"), query.get("Issuer")) else {
                return Ok(refuse("login needs Destination and Issuer"));
            };
            lock(&state).logins.push(Login { arn, duration, destination: destination.clone(), issuer: issuer.clone() });
            Ok(Response::builder()
                .status(302)
                .header("location", destination.as_str())
                .body(Full::new(Bytes::new()))
                .unwrap_or_default())
        }
        _ => Ok(refuse("unknown Action")),
    }
}
