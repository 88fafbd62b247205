//! What did a user do: CloudTrail `LookupEvents`, falling back to CloudWatch Logs
//! `FilterLogEvents` on the trail's log group when CloudTrail is denied or unavailable.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use core_types::{Clock, ErrorKind, Kinded};
use serde::Serialize;
use serde_json::Value;

use crate::error::InspectError;

/// The log group CloudTrail delivers to by default when a trail is sent to CloudWatch Logs.
pub const DEFAULT_TRAIL_LOG_GROUP: &str = "aws-cloudtrail-logs";

/// Which source answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum HistorySource {
    /// CloudTrail's event history.
    CloudTrail,
    /// The trail's CloudWatch Logs log group.
    CloudWatchLogs,
}

/// One API call by the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// When (RFC 3339).
    pub time: String,
    /// `RunInstances`, `GetObject`, ...
    pub event_name: String,
    /// `ec2.amazonaws.com`, ...
    pub event_source: String,
    /// The region of the call.
    pub region: Option<String>,
    /// Names of the resources involved.
    pub resources: Vec<String>,
    /// The caller's IP address.
    pub source_ip: Option<String>,
    /// The error code when the call failed.
    pub error_code: Option<String>,
    /// The user name CloudTrail recorded.
    pub username: Option<String>,
}

/// Options for [`get_user_history`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HistoryOptions {
    /// The CloudWatch Logs group the trail writes to (for the fallback).
    pub log_group: String,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        Self { log_group: DEFAULT_TRAIL_LOG_GROUP.to_owned() }
    }
}

impl HistoryOptions {
    /// Reads the fallback from this CloudWatch Logs group.
    #[must_use]
    pub fn log_group(mut self, group: impl Into<String>) -> Self {
        self.log_group = group.into();
        self
    }
}

fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Fills the fields only the raw CloudTrail record has.
fn enrich(event: &mut Event, record: &Value) {
    let s = |k: &str| record.get(k).and_then(Value::as_str).map(str::to_owned);
    event.source_ip = event.source_ip.take().or_else(|| s("sourceIPAddress"));
    event.error_code = event.error_code.take().or_else(|| s("errorCode"));
    event.region = event.region.take().or_else(|| s("awsRegion"));
    if event.username.is_none() {
        event.username = record.pointer("/userIdentity/userName").and_then(Value::as_str).map(str::to_owned);
    }
    if event.resources.is_empty()
        && let Some(rs) = record.get("resources").and_then(Value::as_array)
    {
        event.resources = rs.iter().filter_map(|r| r.get("ARN").and_then(Value::as_str).map(str::to_owned)).collect();
    }
}

/// Whose events: CloudTrail's `Username` (an IAM user's name, a role session's name), and
/// for a caller known by ARN, only the records of that exact principal (another role's
/// session of the same name is someone else).
struct Who<'a> {
    username: &'a str,
    arn: Option<&'a str>,
    /// A Cognito identity-pool identity: only records whose web-identity federation names it.
    identity: Option<&'a str>,
}

/// Where CloudTrail puts the Cognito identity id of a call made with identity-pool credentials.
const COGNITO_SUB: &str =
    "/userIdentity/sessionContext/webIdFederationData/attributes/cognito-identity.amazonaws.com:sub";

/// The role session name Cognito gives every identity-pool session.
pub const COGNITO_SESSION_NAME: &str = "CognitoIdentityCredentials";

impl Who<'_> {
    fn owns(&self, record: Option<&Value>) -> bool {
        let arn_ok = match (self.arn, record) {
            (None, _) => true,
            (Some(arn), Some(r)) => r.pointer("/userIdentity/arn").and_then(Value::as_str) == Some(arn),
            (Some(_), None) => false,
        };
        let identity_ok = match (self.identity, record) {
            (None, _) => true,
            (Some(id), Some(r)) => r.pointer(COGNITO_SUB).and_then(Value::as_str) == Some(id),
            (Some(_), None) => false,
        };
        arn_ok && identity_ok
    }
}

async fn from_cloudtrail(
    sdk: &SdkConfig,
    who: &Who<'_>,
    start: SystemTime,
    end: SystemTime,
    limit: usize,
) -> Result<Vec<Event>, InspectError> {
    let client = aws_sdk_cloudtrail::Client::new(sdk);
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .lookup_events()
            .lookup_attributes(
                LookupAttribute::builder()
                    .attribute_key(LookupAttributeKey::Username)
                    .attribute_value(who.username)
                    .build()
                    .map_err(|e| InspectError::Invalid(e.to_string()))?,
            )
            .start_time(start.into())
            .end_time(end.into())
            .max_results(i32::try_from((limit - events.len()).min(50)).unwrap_or(50))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| InspectError::aws("cloudtrail:LookupEvents", e))?;
        for e in page.events() {
            let mut event = Event {
                time: e.event_time().and_then(|t| SystemTime::try_from(*t).ok()).map(rfc3339).unwrap_or_default(),
                event_name: e.event_name().unwrap_or_default().to_owned(),
                event_source: e.event_source().unwrap_or_default().to_owned(),
                region: None,
                resources: e.resources().iter().filter_map(|r| r.resource_name().map(str::to_owned)).collect(),
                source_ip: None,
                error_code: None,
                username: e.username().map(str::to_owned),
            };
            let record = e.cloud_trail_event().and_then(|raw| serde_json::from_str::<Value>(raw).ok());
            if let Some(record) = &record {
                enrich(&mut event, record);
            }
            if !who.owns(record.as_ref()) {
                continue;
            }
            events.push(event);
            if events.len() >= limit {
                return Ok(events);
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(events),
        }
    }
}

/// The name CloudTrail's `Username` lookup matches in a record: an IAM user's `userName`;
/// for an assumed role (SSO, Cognito identity pools, any role) the role session's name, the
/// last part of the session's ARN; `root` for the account's root user.
pub fn cloudtrail_username(record: &Value) -> Option<String> {
    let identity = record.get("userIdentity")?;
    match identity.get("type").and_then(Value::as_str) {
        Some("AssumedRole") => identity.get("arn").and_then(Value::as_str)?.rsplit('/').next().map(str::to_owned),
        Some("Root") => Some("root".to_owned()),
        _ => identity.get("userName").and_then(Value::as_str).map(str::to_owned),
    }
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

async fn from_logs(
    sdk: &SdkConfig,
    log_group: &str,
    who: &Who<'_>,
    start: SystemTime,
    end: SystemTime,
    limit: usize,
) -> Result<Vec<Event>, InspectError> {
    let client = aws_sdk_cloudwatchlogs::Client::new(sdk);
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    // a quoted term matches the user name as one word in the JSON record
    let pattern = format!("\"{}\"", who.username.replace('"', ""));
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(log_group)
            .filter_pattern(&pattern)
            .start_time(millis(start))
            .end_time(millis(end))
            .limit(i32::try_from((limit - events.len()).min(1000)).unwrap_or(1000))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| InspectError::aws("logs:FilterLogEvents", e))?;
        for le in page.events() {
            let Some(record) = le.message().and_then(|m| serde_json::from_str::<Value>(m).ok()) else { continue };
            let s = |k: &str| record.get(k).and_then(Value::as_str).map(str::to_owned).unwrap_or_default();
            let mut event = Event {
                time: record.get("eventTime").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| {
                    rfc3339(SystemTime::UNIX_EPOCH + Duration::from_millis(le.timestamp().unwrap_or(0).max(0) as u64))
                }),
                event_name: s("eventName"),
                event_source: s("eventSource"),
                region: None,
                resources: Vec::new(),
                source_ip: None,
                error_code: None,
                username: None,
            };
            enrich(&mut event, &record);
            // the filter is a word match; keep only this principal's records
            if cloudtrail_username(&record).as_deref() == Some(who.username) && who.owns(Some(&record)) {
                events.push(event);
            }
            if events.len() >= limit {
                return Ok(events);
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(events),
        }
    }
}

/// A user's history and where it came from.
#[derive(Debug)]
#[non_exhaustive]
pub struct History {
    /// The calls, newest first as the sources return them.
    pub events: Vec<Event>,
    /// Which source answered.
    pub source: HistorySource,
    /// Why CloudTrail did not answer, when the history came from the Logs fallback: a
    /// partial answer says so.
    pub cloudtrail_failure: Option<InspectError>,
}

/// The user's API calls over the last `days`, newest first as the sources return them, at
/// most `limit`; and which source answered.
pub async fn get_user_history(
    sdk: &SdkConfig,
    username: &str,
    days: u32,
    limit: usize,
    options: &HistoryOptions,
    clock: &dyn Clock,
) -> Result<(Vec<Event>, HistorySource), InspectError> {
    user_history(sdk, username, days, limit, options, clock).await.map(|h| (h.events, h.source))
}

/// Like [`get_user_history`], also telling why CloudTrail did not answer when the Logs
/// fallback did.
pub async fn user_history(
    sdk: &SdkConfig,
    username: &str,
    days: u32,
    limit: usize,
    options: &HistoryOptions,
    clock: &dyn Clock,
) -> Result<History, InspectError> {
    if username.is_empty() {
        return Err(InspectError::Invalid("username is empty".into()));
    }
    if limit == 0 {
        return Ok(History { events: Vec::new(), source: HistorySource::CloudTrail, cloudtrail_failure: None });
    }
    lookup(sdk, &Who { username, arn: None, identity: None }, days, limit, options, clock).await
}

/// The history of a Cognito identity-pool identity (`identity_id`, from `GetId`): CloudTrail
/// records every identity's calls under the same role session name
/// ([`COGNITO_SESSION_NAME`]), so the lookup is by that name and only the records whose
/// web-identity federation data names this identity (the
/// `cognito-identity.amazonaws.com:sub` attribute) are kept. No `GetCallerIdentity` is needed.
pub async fn identity_history(
    sdk: &SdkConfig,
    identity_id: &str,
    days: u32,
    limit: usize,
    options: &HistoryOptions,
    clock: &dyn Clock,
) -> Result<History, InspectError> {
    if identity_id.is_empty() {
        return Err(InspectError::Invalid("identity id is empty".into()));
    }
    if limit == 0 {
        return Ok(History { events: Vec::new(), source: HistorySource::CloudTrail, cloudtrail_failure: None });
    }
    let who = Who { username: COGNITO_SESSION_NAME, arn: None, identity: Some(identity_id) };
    lookup(sdk, &who, days, limit, options, clock).await
}

/// The history of whoever the credentials of `sdk` belong to (GetCallerIdentity), looked up
/// the way CloudTrail records that kind of principal:
///
/// | principal | CloudTrail's `Username` | kept |
/// |---|---|---|
/// | IAM user | the user's name | records of that user's ARN |
/// | assumed role, IAM Identity Center (SSO) | the role session's name (SSO: the user's name or e-mail) | records of that session's ARN (same role, same session name) |
/// | Cognito identity-pool credentials | `CognitoIdentityCredentials`, shared by every identity of the pool's role | records of that role session's ARN: every identity of the pool using that role ([`identity_history`] keeps one identity's) |
/// | root | `root` | the account's root records |
pub async fn caller_history(
    sdk: &SdkConfig,
    days: u32,
    limit: usize,
    options: &HistoryOptions,
    clock: &dyn Clock,
) -> Result<History, InspectError> {
    if limit == 0 {
        return Ok(History { events: Vec::new(), source: HistorySource::CloudTrail, cloudtrail_failure: None });
    }
    let who = crate::permissions::caller(sdk).await?;
    let arn = who.arn().unwrap_or_default().to_owned();
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    let username = match resource.split('/').next() {
        Some("user" | "assumed-role") => resource.rsplit('/').next().unwrap_or_default().to_owned(),
        Some("root") => "root".to_owned(),
        _ => return Err(InspectError::Invalid(format!("no CloudTrail user name is known for {arn}"))),
    };
    lookup(sdk, &Who { username: &username, arn: Some(&arn), identity: None }, days, limit, options, clock).await
}

async fn lookup(
    sdk: &SdkConfig,
    who: &Who<'_>,
    days: u32,
    limit: usize,
    options: &HistoryOptions,
    clock: &dyn Clock,
) -> Result<History, InspectError> {
    let end = clock.now();
    let start = end - Duration::from_secs(u64::from(days) * 86_400);
    match from_cloudtrail(sdk, who, start, end, limit).await {
        Ok(events) => Ok(History { events, source: HistorySource::CloudTrail, cloudtrail_failure: None }),
        Err(e) if matches!(e.kind(), ErrorKind::AccessDenied | ErrorKind::Unavailable) => {
            tracing::info!(error = %e, "CloudTrail did not answer; falling back to CloudWatch Logs");
            match from_logs(sdk, &options.log_group, who, start, end, limit).await {
                Ok(events) => {
                    Ok(History { events, source: HistorySource::CloudWatchLogs, cloudtrail_failure: Some(e) })
                }
                Err(logs) => Err(InspectError::NoHistorySource { cloudtrail: Box::new(e), logs: Box::new(logs) }),
            }
        }
        Err(e) => Err(e),
    }
}
