//! What an upstream call's failure says, as facts rather than a pre-formatted string, so the
//! CLI's renderer and library users can both act on it: which service and operation, the
//! service's own error code and message, the request id, the HTTP status, and, for an answer
//! that was not the service's (an HTML error page from a proxy, say), a one-line summary.

use std::fmt;

use crate::error::ErrorKind;

/// One failed call to an upstream service.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    /// The service, as people name it (`CloudTrail`, `IAM`, `Cognito`, ...).
    pub service: String,
    /// The operation (`LookupEvents`, ...).
    pub operation: String,
    /// The service's error code (`AccessDenied`, `ThrottlingException`, ...), when it sent one.
    pub code: Option<String>,
    /// The service's message, when it sent one (one line, as sent).
    pub message: Option<String>,
    /// The request id the service gave the call.
    pub request_id: Option<String>,
    /// The HTTP status of the answer, when there was one.
    pub http_status: Option<u16>,
    /// What the answer was when it was not the service's own error (e.g. "an HTML page, not
    /// an AWS answer"), or what happened when there was no answer ("no answer within 10 s").
    pub summary: Option<String>,
    /// The category, which decides retries, exit codes and hints.
    pub kind: ErrorKind,
}

impl CallFailure {
    /// A failure of `service`'s `operation`, of `kind`, with no details yet.
    pub fn new(service: impl Into<String>, operation: impl Into<String>, kind: ErrorKind) -> Self {
        Self {
            service: service.into(),
            operation: operation.into(),
            code: None,
            message: None,
            request_id: None,
            http_status: None,
            summary: None,
            kind,
        }
    }

    /// With the service's error code and message; the kind follows the code
    /// ([`ErrorKind::from_aws_code`]) unless the code is unknown.
    #[must_use]
    pub fn with_code(mut self, code: Option<&str>, message: Option<&str>) -> Self {
        if let Some(c) = code {
            let kind = ErrorKind::from_aws_code(c);
            if kind != ErrorKind::Other {
                self.kind = kind;
            }
        }
        self.code = code.filter(|c| !c.is_empty()).map(str::to_owned);
        self.message = message.map(one_line).filter(|m| !m.is_empty());
        self
    }

    /// With the HTTP status of the answer.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// With the request id.
    #[must_use]
    pub fn with_request_id(mut self, id: Option<&str>) -> Self {
        self.request_id = id.filter(|i| !i.is_empty()).map(str::to_owned);
        self
    }

    /// With a one-line summary of a foreign answer, or of what happened instead of one.
    #[must_use]
    pub fn with_summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = Some(one_line(&summary.into()));
        self
    }
}

/// What kind of body an answer that is not the service's own error is, in a few words.
pub fn describe_foreign_body(content_type: Option<&str>, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    let start = text.trim_start().to_ascii_lowercase();
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    if ct.contains("html") || start.starts_with("<!doctype html") || start.starts_with("<html") {
        "an HTML page, not an AWS answer".into()
    } else if start.starts_with('<') {
        "XML that is not an AWS answer".into()
    } else if body.is_empty() {
        "an empty answer".into()
    } else {
        "an answer that is not an AWS answer".into()
    }
}

/// The first line of `text`, without control characters, at most 300 characters: what a
/// one-line report shows of a message it did not write.
pub fn one_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let mut out: String = line.chars().filter(|c| !c.is_control()).take(300).collect();
    if line.chars().count() > 300 {
        out.push('…');
    }
    out
}

impl fmt::Display for CallFailure {
    /// `CloudTrail LookupEvents: AccessDenied: User … is not authorized …`, or
    /// `CloudTrail LookupEvents: HTTP 500: an HTML page, not an AWS answer`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.service, self.operation)?;
        match (&self.code, &self.message) {
            (Some(c), Some(m)) => return write!(f, ": {c}: {m}"),
            (Some(c), None) => return write!(f, ": {c}"),
            (None, Some(m)) => return write!(f, ": {m}"),
            (None, None) => {}
        }
        if let Some(s) = self.http_status {
            write!(f, ": HTTP {s}")?;
        }
        match &self.summary {
            Some(s) => write!(f, ": {s}"),
            None => write!(f, " failed ({})", self.kind),
        }
    }
}

impl std::error::Error for CallFailure {}

impl ErrorKind {
    /// The kind of an AWS error code: the one table every crate maps AWS codes through.
    pub fn from_aws_code(code: &str) -> ErrorKind {
        match code {
            "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedException" => {
                ErrorKind::AccessDenied
            }
            "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => ErrorKind::ExpiredToken,
            "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "NotAuthorized"
            | "NotAuthorizedException"
            | "UnrecognizedClientException"
            | "InvalidIdentityToken"
            | "InvalidGrantException" => ErrorKind::NotAuthorized,
            "UserNotFoundException" => ErrorKind::UserNotFound,
            "UserNotConfirmedException" => ErrorKind::UserNotConfirmed,
            "PasswordResetRequiredException" => ErrorKind::PasswordResetRequired,
            "Throttling"
            | "ThrottlingException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "SlowDown"
            | "SlowDownException" => ErrorKind::Throttled,
            "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "InternalFailure"
            | "InternalError"
            | "InternalServerError"
            | "InternalErrorException"
            | "NotImplemented"
            | "RequestTimeout"
            | "OperationNotPermittedException"
            | "UnknownOperationException" => ErrorKind::Unavailable,
            "NoSuchEntity"
            | "ResourceNotFoundException"
            | "InvalidParameterValue"
            | "InvalidParameterException"
            | "ValidationException"
            | "MalformedPolicyDocument"
            | "ValidationError" => ErrorKind::InvalidInput,
            _ => ErrorKind::Other,
        }
    }
}

/// What the deepest error of a `source()` chain says, starting at `first` (itself when it
/// has no source): a wrapped failure's own words ("connection refused", "operation attempt
/// timeout … after 1s"). `None` when there is no error at all.
pub fn innermost_cause(first: Option<&(dyn std::error::Error + 'static)>) -> Option<String> {
    let mut root = None;
    let mut cur = first;
    while let Some(c) = cur {
        root = Some(c.to_string());
        cur = c.source();
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds_and_the_kind_follows_the_code() {
        assert_eq!(ErrorKind::from_aws_code("AccessDenied"), ErrorKind::AccessDenied);
        assert_eq!(ErrorKind::from_aws_code("UnrecognizedClientException"), ErrorKind::NotAuthorized);
        assert_eq!(ErrorKind::from_aws_code("ThrottlingException"), ErrorKind::Throttled);
        assert_eq!(ErrorKind::from_aws_code("Whatever"), ErrorKind::Other);
        let f =
            CallFailure::new("IAM", "ListUsers", ErrorKind::Unavailable).with_code(Some("AccessDenied"), Some("no"));
        assert_eq!(f.kind, ErrorKind::AccessDenied);
        assert_eq!(f.to_string(), "IAM ListUsers: AccessDenied: no");
    }

    #[test]
    fn the_innermost_cause_says_what_happened() {
        #[derive(Debug)]
        struct Wrap(std::io::Error);
        impl std::fmt::Display for Wrap {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("dispatch failure")
            }
        }
        impl std::error::Error for Wrap {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Wrap(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused"));
        assert_eq!(innermost_cause(Some(&e)).as_deref(), Some("connection refused"));
        assert_eq!(innermost_cause(std::error::Error::source(&e.0)), None);
        assert_eq!(innermost_cause(Some(&e.0)).as_deref(), Some("connection refused"));
    }

    #[test]
    fn foreign_answers_are_summarised_in_one_line() {
        let f = CallFailure::new("CloudTrail", "LookupEvents", ErrorKind::Unavailable)
            .with_status(500)
            .with_summary(describe_foreign_body(Some("text/html"), b"<!DOCTYPE html>\n<title>500</title>"));
        assert_eq!(f.to_string(), "CloudTrail LookupEvents: HTTP 500: an HTML page, not an AWS answer");
        assert_eq!(describe_foreign_body(None, b"<?xml version='1.0'?><x/>"), "XML that is not an AWS answer");
        let long = "x".repeat(400) + "\nsecond line";
        let m = CallFailure::new("S", "O", ErrorKind::Other).with_code(Some("C"), Some(&long));
        assert_eq!(m.message.as_deref().map(|m| m.chars().count()), Some(301));
        assert!(!m.to_string().contains('\n'));
    }
}
