use core_types::{ErrorKind, Kinded};

/// What can go wrong inspecting an account. Partial failures (a region, one IAM call) are
/// reported inside the results instead; these are the failures that leave nothing to show.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// An AWS call failed.
    #[error("{operation} failed: {code}: {message}")]
    Aws {
        /// The operation.
        operation: &'static str,
        /// The AWS error code (`AccessDenied`, `ThrottlingException`, ...), or `Unavailable`.
        code: String,
        /// The service's message.
        message: String,
    },
    /// Neither history source answered.
    #[error("no history source answered: CloudTrail: {cloudtrail}; CloudWatch Logs: {logs}")]
    NoHistorySource {
        /// Why CloudTrail failed.
        cloudtrail: String,
        /// Why the Logs fallback failed.
        logs: String,
    },
    /// An input is invalid.
    #[error("{0}")]
    Invalid(String),
}

impl InspectError {
    pub(crate) fn aws<E>(operation: &'static str, e: &E) -> Self
    where
        E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error,
    {
        Self::Aws {
            operation,
            code: e.code().unwrap_or("Unavailable").to_owned(),
            message: e
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| aws_sdk_sts::error::DisplayErrorContext(e).to_string()),
        }
    }

    /// The AWS error code when this is an AWS failure.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Aws { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The kind of an AWS error code.
pub fn kind_of_code(code: &str) -> ErrorKind {
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnrecognizedClientException" => {
            ErrorKind::AccessDenied
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => ErrorKind::ExpiredToken,
        "InvalidClientTokenId" | "SignatureDoesNotMatch" | "NotAuthorized" => ErrorKind::NotAuthorized,
        "Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded" => {
            ErrorKind::Throttled
        }
        "Unavailable"
        | "ServiceUnavailable"
        | "InternalFailure"
        | "InternalError"
        | "InternalServerError"
        | "OperationNotPermittedException"
        | "NotImplemented"
        | "UnknownOperationException" => ErrorKind::Unavailable,
        "NoSuchEntity" | "ResourceNotFoundException" | "InvalidParameterValue" | "ValidationException" => {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Other,
    }
}

impl Kinded for InspectError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Aws { code, .. } => kind_of_code(code),
            Self::NoHistorySource { .. } => ErrorKind::Unavailable,
            Self::Invalid(_) => ErrorKind::InvalidInput,
        }
    }
}
