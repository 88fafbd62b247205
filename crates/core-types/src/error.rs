use std::fmt;

/// The category of a failure, shared by every crate's error type so callers (and the CLI's
/// exit codes and retry decisions) can act on it without knowing which crate failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Wrong password, bad client secret, rejected token.
    NotAuthorized,
    /// The user does not exist.
    UserNotFound,
    /// The user exists but has not confirmed sign-up.
    UserNotConfirmed,
    /// The user must reset their password first.
    PasswordResetRequired,
    /// A credential or token has expired and could not be renewed.
    ExpiredToken,
    /// Signed in, but not allowed to do this.
    AccessDenied,
    /// The service asked us to slow down.
    Throttled,
    /// The service could not be reached or failed (5xx, timeout, connection refused).
    Unavailable,
    /// Input (file, env, argument, server reply) is malformed.
    InvalidInput,
    /// Something required is not configured yet.
    NotConfigured,
    /// A local file or database operation failed.
    Io,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Whether retrying the same call later may succeed. Auth failures never are.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Unavailable)
    }

    /// A short stable name, for logs and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotAuthorized => "NotAuthorized",
            ErrorKind::UserNotFound => "UserNotFound",
            ErrorKind::UserNotConfirmed => "UserNotConfirmed",
            ErrorKind::PasswordResetRequired => "PasswordResetRequired",
            ErrorKind::ExpiredToken => "ExpiredToken",
            ErrorKind::AccessDenied => "AccessDenied",
            ErrorKind::Throttled => "Throttled",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::NotConfigured => "NotConfigured",
            ErrorKind::Io => "Io",
            ErrorKind::Other => "Other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that knows its [`ErrorKind`]. Every crate's error enum implements it.
pub trait Kinded: std::error::Error + Send + Sync + 'static {
    /// The category of this error.
    fn kind(&self) -> ErrorKind;

    /// The error this one forwards whole (a `#[error(transparent)]` variant, whose message
    /// and source are the inner error's): how a caller finds a typed error behind a wrapper
    /// without reading its text. `None` for an error that says something of its own.
    fn wrapped(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_kinds_are_retryable() {
        assert!(ErrorKind::Throttled.is_retryable());
        assert!(ErrorKind::Unavailable.is_retryable());
        for k in [
            ErrorKind::NotAuthorized,
            ErrorKind::UserNotFound,
            ErrorKind::ExpiredToken,
            ErrorKind::AccessDenied,
            ErrorKind::InvalidInput,
        ] {
            assert!(!k.is_retryable(), "{k}");
        }
        assert_eq!(ErrorKind::NotConfigured.to_string(), "NotConfigured");
    }
}
