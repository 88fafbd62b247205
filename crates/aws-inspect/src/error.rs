use aws_failure::call_failure;
use core_types::{CallFailure, ErrorKind, Kinded};

/// A cause kept for `-v` (the SDK's error, whose `Display` chain says what happened).
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong inspecting an account. Partial failures (a region, one IAM call) are
/// reported inside the results instead; these are the failures that leave nothing to show.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// An AWS call failed: the facts of the failure, and the SDK's error as the cause.
    #[error("{failure}")]
    Aws {
        /// Service, operation, code, message, request id, HTTP status.
        failure: Box<CallFailure>,
        /// The SDK's error.
        #[source]
        cause: Option<Cause>,
    },
    /// Neither history source answered.
    #[error("no history source answered: {cloudtrail}; {logs}")]
    NoHistorySource {
        /// Why CloudTrail failed.
        #[source]
        cloudtrail: Box<InspectError>,
        /// Why the Logs fallback failed.
        logs: Box<InspectError>,
    },
    /// An input is invalid.
    #[error("{0}")]
    Invalid(String),
}

/// `cloudtrail:LookupEvents` → (`CloudTrail`, `LookupEvents`); a bare operation is IAM's.
fn split_operation(operation: &str) -> (&'static str, &str) {
    let (prefix, op) = operation.split_once(':').unwrap_or(("iam", operation));
    let service = match prefix {
        "cloudtrail" => "CloudTrail",
        "logs" => "CloudWatch Logs",
        "sts" => "STS",
        "tag" => "Resource Groups Tagging",
        _ => "IAM",
    };
    (service, op)
}

impl InspectError {
    pub(crate) fn aws<E>(
        operation: &str,
        e: aws_sdk_sts::error::SdkError<E, aws_sdk_sts::config::http::HttpResponse>,
    ) -> Self
    where
        E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let (service, op) = split_operation(operation);
        Self::Aws { failure: Box::new(call_failure(service, op, &e)), cause: Some(Box::new(e)) }
    }

    /// The AWS error code when this is an AWS failure that carried one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Aws { failure, .. } => failure.code.as_deref(),
            _ => None,
        }
    }

    /// The facts of the failed call, when this is one.
    pub fn failure(&self) -> Option<&CallFailure> {
        match self {
            Self::Aws { failure, .. } => Some(failure.as_ref()),
            _ => None,
        }
    }
}

/// The kind of an AWS error code (see [`ErrorKind::from_aws_code`]).
pub fn kind_of_code(code: &str) -> ErrorKind {
    ErrorKind::from_aws_code(code)
}

impl Kinded for InspectError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Aws { failure, .. } => failure.kind,
            Self::NoHistorySource { .. } => ErrorKind::Unavailable,
            Self::Invalid(_) => ErrorKind::InvalidInput,
        }
    }
}
