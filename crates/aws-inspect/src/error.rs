use core_types::{CallFailure, ErrorKind, Kinded, describe_foreign_body};

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

/// The kind an HTTP status says, when the body names no error code.
fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::NotAuthorized,
        403 => ErrorKind::AccessDenied,
        429 => ErrorKind::Throttled,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    }
}

/// The facts of a failed AWS SDK call: the service's code and message when it answered as
/// AWS does; otherwise the HTTP status and what the body was; or what happened instead of an
/// answer. Never the SDK's `Debug` output.
pub fn call_failure<E>(
    service: &str,
    operation: &str,
    e: &aws_sdk_sts::error::SdkError<E, aws_sdk_sts::config::http::HttpResponse>,
) -> CallFailure
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_sts::error::SdkError;
    use aws_sdk_sts::operation::RequestId;
    let failure = |kind| CallFailure::new(service, operation, kind).with_request_id(e.request_id());
    let foreign = |raw: &aws_sdk_sts::config::http::HttpResponse| {
        let status = raw.status().as_u16();
        let body = raw.body().bytes().unwrap_or_default();
        failure(kind_of_status(status))
            .with_status(status)
            .with_summary(describe_foreign_body(raw.headers().get("content-type"), body))
    };
    match e {
        SdkError::ServiceError(ctx) => {
            let err = ctx.err();
            if err.code().is_some() {
                let status = ctx.raw().status().as_u16();
                failure(kind_of_status(status)).with_status(status).with_code(err.code(), err.message())
            } else {
                foreign(ctx.raw())
            }
        }
        SdkError::ResponseError(ctx) => foreign(ctx.raw()),
        SdkError::TimeoutError(_) => failure(ErrorKind::Unavailable).with_summary("no answer within the deadline"),
        SdkError::DispatchFailure(d) => {
            // the innermost cause says what happened (refused, no credentials, ...)
            let mut root = None;
            let mut cause: Option<&(dyn std::error::Error + 'static)> =
                d.as_connector_error().and_then(|c| std::error::Error::source(c));
            while let Some(c) = cause {
                root = Some(c.to_string());
                cause = c.source();
            }
            let what = if d.is_timeout() {
                "no answer within the deadline".to_owned()
            } else if d.is_io() {
                root.map_or_else(|| "could not connect".to_owned(), |r| format!("could not connect ({r})"))
            } else {
                root.map_or_else(|| "the request could not be sent".to_owned(), |r| format!("not sent: {r}"))
            };
            failure(ErrorKind::Unavailable).with_summary(what)
        }
        SdkError::ConstructionFailure(_) => failure(ErrorKind::Other).with_summary("the request could not be built"),
        _ => failure(ErrorKind::Other).with_summary("the call failed"),
    }
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
