//! A loopback front for moto: it serves the operations moto lacks as honest protocol stubs
//! (CloudTrail `LookupEvents` in awsJson1.1, IAM `SimulatePrincipalPolicy` in awsQuery XML,
//! Account `ListRegions` in restJson1), corrects moto where it departs from AWS (Cognito
//! `GetId` returns the same identity for the same user, as the service does),
//! forwards everything else to moto unchanged, counts every call per operation, and injects
//! faults and latency on request.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::peer;

/// A fault to inject.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this HTTP status and AWS error code (in the operation's protocol).
    Error(u16, &'static str),
    /// Wait this long, then handle the call normally.
    Delay(Duration),
}

#[derive(Default)]
struct State {
    moto: String,
    calls: HashMap<String, usize>,
    faults: Vec<(String, Option<String>, usize, Fault)>,
    events: Vec<Value>,
    decisions: HashMap<String, String>,
    simulate_requests: Vec<(String, Vec<String>)>,
    /// (region, RegionOptStatus) that `ListRegions` serves.
    account_regions: Vec<(String, String)>,
    /// (identity pool, login provider, the token's `sub`) → the identity moto first gave.
    identities: HashMap<(String, String, String), Bytes>,
    /// Added to the `Expiration` of STS answers: a test's manual clock runs ahead of moto's
    /// (or, negative, credentials that live shorter than moto issues them).
    sts_clock_offset: time::Duration,
    /// Added to the `Expiration` of Cognito identity credentials.
    cognito_clock_offset: time::Duration,
    /// The `ExpiresIn` of user-pool sign-ins and token refreshes (moto's, 3600 s, when unset).
    token_lifetime: Option<u64>,
}

/// An account's regions as `ListRegions` reports them: those every account has, one opted
/// into, and opt-in regions left disabled.
pub const ACCOUNT_REGIONS: &[(&str, &str)] = &[
    ("af-south-1", "DISABLED"),
    ("ap-east-1", "ENABLED"),
    ("ap-northeast-1", "ENABLED_BY_DEFAULT"),
    ("ap-south-1", "ENABLED_BY_DEFAULT"),
    ("ap-southeast-2", "ENABLED_BY_DEFAULT"),
    ("eu-central-1", "ENABLED_BY_DEFAULT"),
    ("eu-south-1", "DISABLED"),
    ("eu-west-1", "ENABLED_BY_DEFAULT"),
    ("me-south-1", "DISABLING"),
    ("us-east-1", "ENABLED_BY_DEFAULT"),
    ("us-west-2", "ENABLED_BY_DEFAULT"),
];

/// The running front; stops when dropped.
pub struct Front {
    /// Its base URL, to use as the AWS endpoint.
    pub url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Front {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Front").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Front {
    /// Starts a front on a free loopback port before this process's strict judge
    /// ([`crate::judge::shared_url`]: the verifying front before the moto with authentication
    /// on, and the Cognito peer for Cognito's own calls).
    pub async fn start() -> Self {
        Self::start_at(&crate::judge::shared_url()).await
    }

    /// Starts a front before the lenient moto (authentication off): for tests of what a
    /// service answers, never of whether a credential works.
    pub async fn start_lenient() -> Self {
        Self::start_at(&peer("CCC_TEST_AWS_ENDPOINT")).await
    }

    /// Starts a front for `upstream`: the verifying judge ([`crate::judge::Judge`]), so that
    /// faults and call counts stand in front of an endpoint that refuses what AWS refuses.
    pub async fn start_at(upstream: &str) -> Self {
        let state = Arc::new(Mutex::new(State {
            moto: upstream.to_owned(),
            account_regions: ACCOUNT_REGIONS.iter().map(|(r, s)| ((*r).to_owned(), (*s).to_owned())).collect(),
            ..State::default()
        }));
        let http = reqwest::Client::new();
        let shared = state.clone();
        let (url, task) = crate::serve::serve(move |req| handle(shared.clone(), http.clone(), req)).await;
        Self { url, state, task }
    }

    /// Calls seen for an operation (`cloudtrail:LookupEvents`, `iam:ListUsers`, `tagging:GetResources`...).
    pub fn calls(&self, op: &str) -> usize {
        lock(&self.state).calls.get(op).copied().unwrap_or(0)
    }

    /// Calls seen for an operation of any service (unsigned calls such as Cognito's
    /// `InitiateAuth` name no service in their signature).
    pub fn calls_of(&self, op: &str) -> usize {
        let suffix = format!(":{op}");
        lock(&self.state).calls.iter().filter(|(k, _)| k.ends_with(&suffix)).map(|(_, n)| n).sum()
    }

    /// Injects `fault` into the next `times` calls of `op` (in `region`, if given).
    pub fn inject(&self, op: &str, region: Option<&str>, times: usize, fault: Fault) {
        lock(&self.state).faults.push((op.to_owned(), region.map(str::to_owned), times, fault));
    }

    /// The CloudTrail records (as CloudTrail writes them) `LookupEvents` serves.
    pub fn set_cloudtrail_events(&self, events: Vec<Value>) {
        lock(&self.state).events = events;
    }

    /// The (region, RegionOptStatus) pairs `ListRegions` serves (default [`ACCOUNT_REGIONS`]).
    pub fn set_account_regions(&self, regions: &[(&str, &str)]) {
        lock(&self.state).account_regions = regions.iter().map(|(r, s)| ((*r).to_owned(), (*s).to_owned())).collect();
    }

    /// Moves the `Expiration` of every STS answer `offset` later: the test's manual clock is
    /// that far ahead of the real one moto issues credentials by, so a credential lives its
    /// real length on the test's clock.
    pub fn set_sts_clock_offset(&self, offset: Duration) {
        lock(&self.state).sts_clock_offset = time::Duration::try_from(offset).unwrap_or(time::Duration::MAX);
    }

    /// Moves the `Expiration` of STS answers and of Cognito identity credentials `by` earlier:
    /// credentials that live that much shorter than moto issues them (moto's shortest role
    /// session is 900 s, its Cognito credentials 90 s), for tests of what happens near an
    /// expiry in real time.
    pub fn shorten_lifetimes_by(&self, by: Duration) {
        let by = time::Duration::try_from(by).unwrap_or(time::Duration::MAX);
        let mut state = lock(&self.state);
        state.sts_clock_offset = -by;
        state.cognito_clock_offset = -by;
    }

    /// User-pool tokens (sign-ins and refreshes) that live `lifetime` (their `ExpiresIn`),
    /// for tests of when tokens are renewed.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        lock(&self.state).token_lifetime = Some(lifetime.as_secs());
    }

    /// The simulated decision for an action (default `implicitDeny`).
    pub fn set_decision(&self, action: &str, decision: &str) {
        lock(&self.state).decisions.insert(action.to_owned(), decision.to_owned());
    }

    /// The (PolicySourceArn, ActionNames) of every SimulatePrincipalPolicy call.
    pub fn simulate_requests(&self) -> Vec<(String, Vec<String>)> {
        lock(&self.state).simulate_requests.clone()
    }
}

fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type)
        .header("x-amzn-requestid", "ccc-front-0001")
        .body(Full::new(body.into()))
        .unwrap_or_default()
}

enum Protocol {
    Json,
    RestJson,
    Query,
}

fn error(protocol: &Protocol, status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    match protocol {
        Protocol::Json => {
            respond(status, "application/x-amz-json-1.1", json!({"__type": code, "message": message}).to_string())
        }
        Protocol::RestJson => Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("content-type", "application/json")
            .header("x-amzn-requestid", "ccc-front-0001")
            .header("x-amzn-errortype", code)
            .body(Full::new(Bytes::from(json!({"message": message}).to_string())))
            .unwrap_or_default(),
        Protocol::Query => respond(
            status,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>ccc-front-0001</RequestId></ErrorResponse>"
            ),
        ),
    }
}

/// `(service, operation, region, protocol)` of a request.
fn classify(path: &str, req_headers: &hyper::HeaderMap, body: &[u8]) -> (String, String, String, Protocol) {
    let auth = req_headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    // Credential=AKID/DATE/REGION/SERVICE/aws4_request
    let scope: Vec<&str> = auth.split("Credential=").nth(1).unwrap_or_default().split(['/', ',']).collect();
    let region = scope.get(2).copied().unwrap_or("us-east-1").to_owned();
    let service = scope.get(3).copied().unwrap_or("unknown").to_owned();
    if let Some(target) = req_headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let op = target.rsplit('.').next().unwrap_or(target).to_owned();
        return (service, op, region, Protocol::Json);
    }
    if service == "account" {
        // restJson1: the operation is the path (`POST /listRegions`)
        let name = path.trim_start_matches('/');
        let mut chars = name.chars();
        let op = chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default();
        return (service, op, region, Protocol::RestJson);
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    // unsigned awsQuery calls (AssumeRoleWithWebIdentity) name their service by API version
    let service = match (service.as_str(), field("Version").as_deref()) {
        ("unknown", Some("2011-06-15")) => "sts".to_owned(),
        ("unknown", Some("2010-05-08")) => "iam".to_owned(),
        _ => service,
    };
    (service, field("Action").unwrap_or_else(|| "unknown".into()), region, Protocol::Query)
}

async fn handle(
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let (service, op, region, protocol) = classify(parts.uri.path(), &parts.headers, &body);
    let name = format!("{service}:{op}");
    let fault = {
        let mut s = lock(&state);
        *s.calls.entry(name.clone()).or_default() += 1;
        let slot = s
            .faults
            .iter_mut()
            .find(|(o, r, left, _)| *o == name && *left > 0 && r.as_ref().is_none_or(|r| *r == region));
        slot.map(|f| {
            f.2 -= 1;
            f.3.clone()
        })
    };
    match fault {
        Some(Fault::Error(status, code)) => return Ok(error(&protocol, status, code, &format!("injected {code}"))),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    Ok(match name.as_str() {
        "cloudtrail:LookupEvents" => lookup_events(&state, &body),
        "iam:SimulatePrincipalPolicy" => simulate(&state, &body),
        "account:ListRegions" => list_regions(&state, &body),
        _ if op == "GetId" => get_id(&state, &http, parts, body).await,
        _ if op == "GetCredentialsForIdentity" => {
            let offset = lock(&state).cognito_clock_offset;
            shift_json_expiration(forward(&state, &http, parts, body).await, offset).await
        }
        _ if op == "InitiateAuth" || op == "RespondToAuthChallenge" => {
            let lifetime = lock(&state).token_lifetime;
            token_lifetime(forward(&state, &http, parts, body).await, lifetime).await
        }
        _ if service == "sts" => {
            let offset = lock(&state).sts_clock_offset;
            shift_expiration(forward(&state, &http, parts, body).await, offset).await
        }
        _ => forward(&state, &http, parts, body).await,
    })
}

async fn forward(
    state: &Mutex<State>,
    http: &reqwest::Client,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let moto = lock(state).moto.clone();
    let answer = crate::serve::forward(http, &moto, &parts, body, "the front").await;
    crate::leak::secrets_in_response(&String::from_utf8_lossy(&answer.body));
    respond(answer.status, &answer.content_type, answer.body)
}

/// The `Username` CloudTrail's event history gives a record (and matches a `Username`
/// lookup against), as AWS documents it: an IAM user's name; for an assumed role (SSO users,
/// Cognito identity-pool credentials, any role) the role session's name, which ends the
/// session's ARN; `root` for the root user.
fn cloudtrail_username(r: &Value) -> Option<String> {
    let id = r.get("userIdentity")?;
    match id.get("type").and_then(Value::as_str)? {
        "AssumedRole" => id.get("arn").and_then(Value::as_str)?.split('/').next_back().map(str::to_owned),
        "Root" => Some("root".into()),
        _ => id.get("userName").and_then(Value::as_str).map(str::to_owned),
    }
}

/// CloudTrail LookupEvents over the configured records, as the service model describes it.
fn lookup_events(state: &Mutex<State>, body: &[u8]) -> Response<Full<Bytes>> {
    let bad = |m: &str| error(&Protocol::Json, 400, "InvalidLookupAttributesException", m);
    let Ok(input) = serde_json::from_slice::<Value>(body) else { return bad("body is not JSON") };
    let max = input.get("MaxResults").and_then(Value::as_i64).unwrap_or(50);
    if !(1..=50).contains(&max) {
        return error(&Protocol::Json, 400, "InvalidMaxResultsException", "MaxResults must be 1..50");
    }
    let mut user: Option<String> = None;
    for attr in input.get("LookupAttributes").and_then(Value::as_array).cloned().unwrap_or_default() {
        match attr.get("AttributeKey").and_then(Value::as_str) {
            Some("Username") => user = attr.get("AttributeValue").and_then(Value::as_str).map(str::to_owned),
            Some(
                "EventName" | "EventSource" | "ResourceType" | "ResourceName" | "EventId" | "ReadOnly" | "AccessKeyId",
            ) => {}
            _ => return bad("unknown AttributeKey"),
        }
    }
    let start = input.get("StartTime").and_then(Value::as_f64).unwrap_or(0.0);
    let end = input.get("EndTime").and_then(Value::as_f64).unwrap_or(f64::MAX);
    let offset: usize =
        input.get("NextToken").and_then(Value::as_str).map(|t| t.parse().unwrap_or(usize::MAX)).unwrap_or(0);
    if offset == usize::MAX {
        return error(&Protocol::Json, 400, "InvalidNextTokenException", "bad NextToken");
    }
    let events = lock(state).events.clone();
    let parse_time = |r: &Value| {
        r.get("eventTime")
            .and_then(Value::as_str)
            .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
            .map(|t| t.unix_timestamp() as f64)
            .unwrap_or(0.0)
    };
    let mut matching: Vec<&Value> = events
        .iter()
        .filter(|r| user.as_deref().is_none_or(|u| cloudtrail_username(r).as_deref() == Some(u)))
        .filter(|r| (start..=end).contains(&parse_time(r)))
        .collect();
    // as CloudTrail answers: the most recent event first
    matching.sort_by(|a, b| parse_time(b).total_cmp(&parse_time(a)));
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(max as usize)
        .map(|r| {
            json!({
                "EventId": r.get("eventID").cloned().unwrap_or(Value::Null),
                "EventName": r.get("eventName").cloned().unwrap_or(Value::Null),
                "EventTime": parse_time(r),
                "EventSource": r.get("eventSource").cloned().unwrap_or(Value::Null),
                "Username": cloudtrail_username(r).map(Value::String).unwrap_or(Value::Null),
                "Resources": r.get("resources").and_then(Value::as_array).map(|rs| rs.iter().map(|x| json!({"ResourceType": x.get("type"), "ResourceName": x.get("ARN")})).collect::<Vec<_>>()).unwrap_or_default(),
                "CloudTrailEvent": r.to_string(),
            })
        })
        .collect();
    let next = offset + page.len();
    let mut out = json!({"Events": page});
    if next < matching.len() {
        out["NextToken"] = Value::String(next.to_string());
    }
    respond(200, "application/x-amz-json-1.1", out.to_string())
}

/// IAM SimulatePrincipalPolicy, answering each action with the configured decision.
fn simulate(state: &Mutex<State>, body: &[u8]) -> Response<Full<Bytes>> {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let Some(source) = get("PolicySourceArn") else {
        return error(&Protocol::Query, 400, "ValidationError", "PolicySourceArn is required");
    };
    if !source.starts_with("arn:") {
        return error(&Protocol::Query, 400, "InvalidInput", "PolicySourceArn is not an ARN");
    }
    let mut actions: Vec<(usize, String)> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("ActionNames.member.").and_then(|n| n.parse().ok()).map(|n| (n, v.clone())))
        .collect();
    actions.sort();
    if actions.is_empty() {
        return error(&Protocol::Query, 400, "ValidationError", "ActionNames is required");
    }
    let mut s = lock(state);
    s.simulate_requests.push((source, actions.iter().map(|(_, a)| a.clone()).collect()));
    let members: String = actions
        .iter()
        .map(|(_, a)| {
            let d = s.decisions.get(a).cloned().unwrap_or_else(|| "implicitDeny".into());
            format!("<member><EvalActionName>{a}</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>{d}</EvalDecision><MatchedStatements/><MissingContextValues/></member>")
        })
        .collect();
    respond(
        200,
        "text/xml",
        format!(
            "<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>{members}</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>ccc-front-0001</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>"
        ),
    )
}

/// Account ListRegions over the configured regions, as the service model describes it:
/// `RegionOptStatusContains` filters, `MaxResults` (1 to 50, default 20) pages, `NextToken`
/// continues.
fn list_regions(state: &Mutex<State>, body: &[u8]) -> Response<Full<Bytes>> {
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let wanted: Option<Vec<&str>> =
        req["RegionOptStatusContains"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect());
    let max = req["MaxResults"].as_u64().unwrap_or(20);
    if !(1..=50).contains(&max) {
        return error(&Protocol::RestJson, 400, "ValidationException", "MaxResults must be between 1 and 50");
    }
    let start: usize = match req["NextToken"].as_str().map(str::parse) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(&Protocol::RestJson, 400, "ValidationException", "invalid NextToken"),
    };
    let regions: Vec<(String, String)> = lock(state)
        .account_regions
        .iter()
        .filter(|(_, s)| wanted.as_ref().is_none_or(|w| w.contains(&s.as_str())))
        .cloned()
        .collect();
    let end = (start + usize::try_from(max).unwrap_or(20)).min(regions.len());
    let page: Vec<Value> = regions
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|(r, s)| json!({"RegionName": r, "RegionOptStatus": s}))
        .collect();
    let mut out = json!({ "Regions": page });
    if end < regions.len() {
        out["NextToken"] = json!(end.to_string());
    }
    respond(200, "application/json", out.to_string())
}

/// Cognito `GetId`: the service gives one identity per user of a login provider, whatever
/// token of theirs is presented; moto makes a new one per call. The first answer moto gives
/// for a (pool, provider, token `sub`) is remembered and given again.
async fn get_id(
    state: &Mutex<State>,
    http: &reqwest::Client,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    use base64::Engine as _;
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let pool = req["IdentityPoolId"].as_str().unwrap_or_default().to_owned();
    let login = req["Logins"].as_object().and_then(|m| m.iter().next()).map(|(p, t)| (p.clone(), t.clone()));
    let sub = login.as_ref().and_then(|(_, t)| {
        let payload = t.as_str()?.split('.').nth(1)?;
        let claims: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        claims["sub"].as_str().map(str::to_owned)
    });
    let Some(key) = login.zip(sub).map(|((provider, _), sub)| (pool, provider, sub)) else {
        return forward(state, http, parts, body).await;
    };
    if let Some(known) = lock(state).identities.get(&key).cloned() {
        return respond(200, "application/x-amz-json-1.1", known);
    }
    let answer = forward(state, http, parts, body).await;
    if answer.status() != StatusCode::OK {
        return answer;
    }
    let bytes = answer.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    lock(state).identities.insert(key, bytes.clone());
    respond(200, "application/x-amz-json-1.1", bytes)
}

/// A CloudTrail record of a call made with Cognito identity-pool credentials, shaped as AWS
/// documents it (the `userIdentity` element of web-identity federation through Cognito): an
/// `AssumedRole` whose session is `CognitoIdentityCredentials`, the identity in
/// `webIdFederationData`. `at` is RFC 3339.
pub fn cognito_identity_record(identity_id: &str, identity_pool_id: &str, event: &str, at: &str) -> Value {
    let account = "123456789012";
    let role = "Cognito_ccc_Auth_Role";
    json!({
        "eventVersion": "1.08",
        "eventID": format!("{identity_id}-{event}-{at}"),
        "eventTime": at,
        "eventSource": "s3.amazonaws.com",
        "eventName": event,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.4",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEROLEID:CognitoIdentityCredentials",
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/CognitoIdentityCredentials"),
            "accountId": account,
            "accessKeyId": "ASIAEXAMPLEKEYID0001",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEROLEID",
                    "arn": format!("arn:aws:iam::{account}:role/{role}"),
                    "accountId": account,
                    "userName": role
                },
                "webIdFederationData": {
                    "federatedProvider": "cognito-identity.amazonaws.com",
                    "attributes": {
                        "cognito-identity.amazonaws.com:amr": "[\"authenticated\"]",
                        "cognito-identity.amazonaws.com:aud": identity_pool_id,
                        "cognito-identity.amazonaws.com:sub": identity_id
                    }
                },
                "attributes": {"creationDate": at, "mfaAuthenticated": "false"}
            }
        }
    })
}

/// A Cognito identity answer with its credentials' `Expiration` (epoch seconds) moved
/// `offset` (unchanged when zero).
async fn shift_json_expiration(answer: Response<Full<Bytes>>, offset: time::Duration) -> Response<Full<Bytes>> {
    if offset.is_zero() {
        return answer;
    }
    let (parts, body) = answer.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Full::new(bytes));
    };
    if let Some(at) = v.pointer("/Credentials/Expiration").and_then(Value::as_f64) {
        v["Credentials"]["Expiration"] = serde_json::json!(at + offset.as_seconds_f64());
    }
    Response::from_parts(parts, Full::new(Bytes::from(v.to_string())))
}

/// A user-pool answer whose tokens' `ExpiresIn` is `lifetime` (unchanged when `None`).
async fn token_lifetime(answer: Response<Full<Bytes>>, lifetime: Option<u64>) -> Response<Full<Bytes>> {
    let Some(lifetime) = lifetime else { return answer };
    let (parts, body) = answer.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Full::new(bytes));
    };
    if let Some(result) = v.get_mut("AuthenticationResult").and_then(Value::as_object_mut) {
        result.insert("ExpiresIn".into(), serde_json::json!(lifetime));
    }
    Response::from_parts(parts, Full::new(Bytes::from(v.to_string())))
}

/// An STS answer with every `<Expiration>` moved `offset` later (unchanged when zero).
async fn shift_expiration(answer: Response<Full<Bytes>>, offset: time::Duration) -> Response<Full<Bytes>> {
    if offset.is_zero() {
        return answer;
    }
    let (parts, body) = answer.into_parts();
    let text = String::from_utf8_lossy(&body.collect().await.map(|b| b.to_bytes()).unwrap_or_default()).into_owned();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("<Expiration>") {
        let (head, tail) = rest.split_at(at + "<Expiration>".len());
        out.push_str(head);
        let end = tail.find("</Expiration>").unwrap_or(0);
        let rfc = &time::format_description::well_known::Rfc3339;
        let shifted = time::OffsetDateTime::parse(&tail[..end], rfc)
            .ok()
            .and_then(|t| (t + offset).format(rfc).ok())
            .unwrap_or_else(|| tail[..end].to_owned());
        out.push_str(&shifted);
        rest = &tail[end..];
    }
    out.push_str(rest);
    Response::from_parts(parts, Full::new(Bytes::from(out)))
}
