use core_types::{ErrorKind, Kinded};

/// Everything that can go wrong keeping SSO credentials valid. Messages say what to do and
/// never hold a token.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// A configuration value (usually from the environment) is invalid.
    #[error("{variable}={value:?} is invalid: {message}")]
    Config {
        /// The variable or key.
        variable: &'static str,
        /// The value given.
        value: String,
        /// What is expected.
        message: String,
    },
    /// The profile is not an SSO profile or lacks keys.
    #[error("profile {profile}: {message}; run `aws configure sso --profile {profile}`")]
    NotConfigured {
        /// The profile.
        profile: String,
        /// What is missing.
        message: String,
    },
    /// The `[sso-session]` section is missing or lacks keys.
    #[error("[sso-session {session}]: {message}; run `aws configure sso-session` or add the section to ~/.aws/config")]
    SessionNotConfigured {
        /// The session name.
        session: String,
        /// What is missing.
        message: String,
    },
    /// Signing in failed: the refresh token was refused and `aws sso login` did not succeed.
    #[error("SSO sign-in failed: {0}")]
    Authentication(String),
    /// Role credentials could not be obtained with a valid token.
    #[error("SSO role credentials: {0}")]
    Credential(String),
    /// The SSO endpoints could not be reached or failed.
    #[error("SSO service unavailable: {0}; retry in a moment")]
    Unavailable(String),
    /// Files or the ledger failed.
    #[error(transparent)]
    Store(#[from] cred_store::Error),
    /// An SSO or SSO-OIDC call failed: the facts (operation, the service's code and message,
    /// request id) and the SDK's error as the cause.
    #[error(transparent)]
    Call(aws_failure::AwsCallError),
}

impl Kinded for SsoError {
    fn kind(&self) -> ErrorKind {
        match self {
            SsoError::Config { .. } => ErrorKind::InvalidInput,
            SsoError::NotConfigured { .. } | SsoError::SessionNotConfigured { .. } => ErrorKind::NotConfigured,
            SsoError::Authentication(_) => ErrorKind::NotAuthorized,
            SsoError::Credential(_) => ErrorKind::AccessDenied,
            SsoError::Unavailable(_) => ErrorKind::Unavailable,
            SsoError::Store(e) => e.kind(),
            SsoError::Call(e) => e.kind(),
        }
    }

    fn wrapped(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            SsoError::Store(e) => Some(e),
            _ => None,
        }
    }
}
