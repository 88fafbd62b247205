//! What health checks and rotations report: plain data, serialisable for tools and the CLI.

use std::time::{Duration, SystemTime};

use core_types::ErrorKind;
use serde::Serialize;

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn kind_name<S: serde::Serializer>(k: &Option<ErrorKind>, s: S) -> Result<S::Ok, S::Error> {
    match k {
        Some(k) => s.serialize_some(k.as_str()),
        None => s.serialize_none(),
    }
}

fn unix_seconds<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
}

/// The result of a health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
    /// How long the check took (all attempts); `latency_ms` when serialised.
    #[serde(rename = "latency_ms", serialize_with = "millis")]
    pub latency: Duration,
    /// Attempts made.
    pub attempts: u32,
    /// The failure's kind.
    #[serde(serialize_with = "kind_name")]
    pub error_kind: Option<ErrorKind>,
    /// The failure.
    pub error: Option<String>,
    /// The session's circuit breaker: `closed`, `open until <RFC 3339>` or `half-open`.
    pub circuit: String,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RotationReport {
    /// The session.
    pub name: String,
    /// When (Unix seconds when serialised).
    #[serde(serialize_with = "unix_seconds")]
    pub at: SystemTime,
    /// `None` on success, else why the old credential was kept.
    pub error: Option<String>,
}
