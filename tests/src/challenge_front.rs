//! A Cognito front for the challenges moto does not speak: in front of the Cognito peer (the
//! lenient moto, where the test pools live), in Cognito's own wire format (awsJson1.1,
//! `X-Amz-Target: AWSCognitoIdentityProviderService.*`), it turns moto's answers into the
//! challenge a pool with those settings would ask:
//!
//! - `SELECT_MFA_TYPE`: moto's `SMS_MFA` challenge is held and `SELECT_MFA_TYPE` asked first
//!   (`MFAS_CAN_CHOOSE`); `ANSWER=SMS_MFA` gets moto's challenge back, anything else is refused.
//! - `CUSTOM_CHALLENGE` (what a pool's Lambda triggers ask after the password): moto's tokens
//!   are held and the question asked; the right `ANSWER` gets them, a wrong one
//!   `NotAuthorizedException`.
//!
//! Every request it saw is recorded (target, challenge name, responses), so a test judges what
//! a client sent, and boto3 drives it in the conformance test, so it speaks what the SDKs speak.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

use crate::peer;

/// Which challenge the front asks.
#[derive(Debug, Clone)]
pub enum Ask {
    /// `SELECT_MFA_TYPE` before moto's `SMS_MFA`.
    SelectMfaType,
    /// `CUSTOM_CHALLENGE` with `question`, whose right answer is `answer`.
    Custom { question: String, answer: String },
}

/// One request the front saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `InitiateAuth`, `RespondToAuthChallenge`, ...
    pub operation: String,
    /// The request's `ChallengeName`, if any.
    pub challenge: Option<String>,
    /// Its `ChallengeResponses`.
    pub responses: HashMap<String, String>,
}

#[derive(Default)]
struct State {
    held: HashMap<String, Bytes>,
    seen: Vec<Seen>,
    next: u32,
}

/// The running front; stops when dropped.
pub struct ChallengeFront {
    /// Its base URL (the Cognito endpoint to use).
    pub url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for ChallengeFront {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengeFront").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for ChallengeFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn json(status: u16, body: &serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", "ccc-challenge-front")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}

fn error(code: &str, message: &str) -> Response<Full<Bytes>> {
    json(400, &serde_json::json!({"__type": code, "message": message}))
}

impl ChallengeFront {
    /// Starts a front asking `ask`, in front of the Cognito peer.
    pub async fn start(ask: Ask) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap();
        let (shared, upstream) = (state.clone(), peer("CCC_TEST_AWS_ENDPOINT"));
        let (url, task) =
            crate::serve::serve(move |req| handle(shared.clone(), http.clone(), upstream.clone(), ask.clone(), req))
                .await;
        Self { url, state, task }
    }

    /// What the front saw, in order.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.state).seen.clone()
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
    upstream: String,
    ask: Ask,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
    let asked: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let challenge = asked.get("ChallengeName").and_then(|v| v.as_str()).map(str::to_owned);
    let responses: HashMap<String, String> = asked
        .get("ChallengeResponses")
        .and_then(|v| v.as_object())
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    lock(&state).seen.push(Seen {
        operation: operation.clone(),
        challenge: challenge.clone(),
        responses: responses.clone(),
    });

    // an answer to a challenge this front asked
    let session = asked.get("Session").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    if operation == "RespondToAuthChallenge" && session.starts_with("ccc-front-") {
        let Some(held) = lock(&state).held.get(&session).cloned() else {
            return Ok(error("NotAuthorizedException", "Invalid session for the user, session is expired."));
        };
        let answer = responses.get("ANSWER").cloned().unwrap_or_default();
        let right = match (&ask, challenge.as_deref()) {
            (Ask::SelectMfaType, Some("SELECT_MFA_TYPE")) => answer == "SMS_MFA",
            (Ask::Custom { answer: expected, .. }, Some("CUSTOM_CHALLENGE")) => &answer == expected,
            _ => false,
        };
        if !right {
            return Ok(match ask {
                Ask::SelectMfaType => error("InvalidParameterException", "Only SMS_MFA can be chosen for this user."),
                Ask::Custom { .. } => error("NotAuthorizedException", "Incorrect answer."),
            });
        }
        lock(&state).held.remove(&session);
        return Ok(Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.1")
            .body(Full::new(held))
            .unwrap_or_default());
    }

    let answered = crate::serve::forward(&http, &upstream, &parts, body, "the challenge front").await;
    let signing_in = operation == "InitiateAuth" || operation == "RespondToAuthChallenge";
    let refreshing = asked.get("AuthFlow").and_then(|v| v.as_str()).is_some_and(|f| f.starts_with("REFRESH_TOKEN"));
    let out: serde_json::Value = serde_json::from_slice(&answered.body).unwrap_or_default();
    if answered.status == 200 && signing_in && !refreshing {
        let rewrite = match &ask {
            Ask::SelectMfaType if out.get("ChallengeName").and_then(|v| v.as_str()) == Some("SMS_MFA") => Some((
                "SELECT_MFA_TYPE",
                serde_json::json!({"MFAS_CAN_CHOOSE": "[\"SMS_MFA\",\"SOFTWARE_TOKEN_MFA\"]"}),
            )),
            Ask::Custom { question, .. } if out.get("AuthenticationResult").is_some() => {
                Some(("CUSTOM_CHALLENGE", serde_json::json!({"question": question})))
            }
            _ => None,
        };
        if let Some((name, parameters)) = rewrite {
            let mut s = lock(&state);
            s.next += 1;
            // as long as Cognito's (the model says at least 20 characters; boto3 checks)
            let session = format!("ccc-front-{:08}-{:032x}", s.next, fastrand::u128(..));
            s.held.insert(session.clone(), answered.body.clone());
            return Ok(json(
                200,
                &serde_json::json!({"ChallengeName": name, "ChallengeParameters": parameters, "Session": session}),
            ));
        }
    }
    Ok(Response::builder()
        .status(answered.status)
        .header("content-type", answered.content_type)
        .body(Full::new(answered.body))
        .unwrap_or_default())
}
