use core_types::{ErrorKind, Kinded};

/// Everything that can go wrong signing in to Cognito. Messages name what failed and what
/// to do; they never contain a password, token or secret.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum CognitoError {
    /// The configuration is incomplete or malformed.
    #[error("cognito configuration: {0}")]
    Config(String),
    /// Cognito refused the sign-in or token (wrong password, revoked refresh token, ...).
    #[error("not authorized: {0}")]
    NotAuthorized(String),
    /// No such user in the pool.
    #[error("user not found: {0}; check the username or sign up first")]
    UserNotFound(String),
    /// The user has not confirmed sign-up.
    #[error("user not confirmed: {0}; confirm the account (code sent at sign-up) and retry")]
    UserNotConfirmed(String),
    /// The user must reset the password.
    #[error("password reset required: {0}; reset it with `forgot password` and sign in again")]
    PasswordResetRequired(String),
    /// A token has expired.
    #[error("token expired: {0}; sign in again")]
    ExpiredToken(String),
    /// The identity pool or an API refused access.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// Throttled after every retry.
    #[error("throttled by Cognito: {0}; wait and retry")]
    Throttled(String),
    /// Cognito or the network failed after every retry.
    #[error("Cognito unavailable: {0}; check the network and endpoint")]
    Unavailable(String),
    /// An HTTP request of our own (the pool's JWKS) failed below HTTP.
    #[error("Cognito unavailable: {what}: {cause}; check the network and endpoint")]
    Transport {
        /// What was being fetched.
        what: String,
        /// reqwest's error (its URL removed).
        #[source]
        cause: reqwest::Error,
    },
    /// The server's reply or a challenge was malformed, or an input is invalid.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The SRP exchange could not be computed from what the server sent.
    #[error("SRP sign-in failed: {0}")]
    Srp(String),
    /// A JWT failed verification.
    #[error("token rejected: {0}")]
    Jwt(String),
    /// The challenge answer is wrong (e.g. MFA code mismatch).
    #[error("challenge answer rejected: {0}; check the code and retry")]
    CodeMismatch(String),
    /// No one is signed in where credentials were asked for.
    #[error("{0}; sign in first")]
    NotSignedIn(String),
    /// The caller's prompt could not answer a sign-in challenge.
    #[error("a sign-in challenge was not answered: {0}")]
    Prompt(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Storing tokens failed.
    #[error(transparent)]
    Store(#[from] cred_store::Error),
    /// A Cognito call failed: the facts (operation, Cognito's code and message, request id,
    /// HTTP status) and the SDK's error as the cause.
    #[error(transparent)]
    Call(aws_failure::AwsCallError),
}

impl Kinded for CognitoError {
    fn kind(&self) -> ErrorKind {
        match self {
            CognitoError::Config(_) | CognitoError::NotSignedIn(_) => ErrorKind::NotConfigured,
            CognitoError::Prompt(_) => ErrorKind::NotAuthorized,
            CognitoError::NotAuthorized(_) | CognitoError::CodeMismatch(_) => ErrorKind::NotAuthorized,
            CognitoError::UserNotFound(_) => ErrorKind::UserNotFound,
            CognitoError::UserNotConfirmed(_) => ErrorKind::UserNotConfirmed,
            CognitoError::PasswordResetRequired(_) => ErrorKind::PasswordResetRequired,
            CognitoError::ExpiredToken(_) => ErrorKind::ExpiredToken,
            CognitoError::AccessDenied(_) => ErrorKind::AccessDenied,
            CognitoError::Throttled(_) => ErrorKind::Throttled,
            CognitoError::Unavailable(_) | CognitoError::Transport { .. } => ErrorKind::Unavailable,
            CognitoError::Invalid(_) | CognitoError::Srp(_) => ErrorKind::InvalidInput,
            CognitoError::Jwt(_) => ErrorKind::NotAuthorized,
            CognitoError::Store(e) => e.kind(),
            CognitoError::Call(e) => e.kind(),
        }
    }

    fn wrapped(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            CognitoError::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// Maps an AWS service error code (and message) to our error. The message comes from the
/// service: Cognito's messages name the problem but never echo a password or token.
pub(crate) fn from_service(code: Option<&str>, message: Option<&str>, fallback: &str) -> CognitoError {
    let msg = message.unwrap_or(fallback).to_owned();
    match code.unwrap_or_default() {
        "NotAuthorizedException" => {
            if msg.to_ascii_lowercase().contains("expired") {
                CognitoError::ExpiredToken(msg)
            } else {
                CognitoError::NotAuthorized(msg)
            }
        }
        "UserNotFoundException" => CognitoError::UserNotFound(msg),
        "UserNotConfirmedException" => CognitoError::UserNotConfirmed(msg),
        "PasswordResetRequiredException" => CognitoError::PasswordResetRequired(msg),
        "ExpiredCodeException" => CognitoError::ExpiredToken(msg),
        "CodeMismatchException" | "EnableSoftwareTokenMFAException" => CognitoError::CodeMismatch(msg),
        "AccessDeniedException" | "AccessDenied" => CognitoError::AccessDenied(msg),
        "TooManyRequestsException"
        | "ThrottlingException"
        | "LimitExceededException"
        | "TooManyFailedAttemptsException" => CognitoError::Throttled(msg),
        "InternalErrorException" | "InternalFailure" | "ServiceUnavailable" => CognitoError::Unavailable(msg),
        "InvalidParameterException" | "InvalidPasswordException" | "ResourceNotFoundException" => {
            CognitoError::Invalid(msg)
        }
        "" => CognitoError::Unavailable(msg),
        other => CognitoError::Invalid(format!("{other}: {msg}")),
    }
}
