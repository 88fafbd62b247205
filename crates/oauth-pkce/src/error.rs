use core_types::{ErrorKind, Kinded};

/// Everything that can go wrong talking to an OAuth 2 / OIDC provider. Messages carry the
/// provider's `error` and `error_description`, never a token or secret.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The configuration is incomplete (an endpoint, the redirect URI, a secret).
    #[error("OAuth configuration: {0}")]
    Config(String),
    /// `invalid_grant`: the code, refresh token or password was refused (used, expired, revoked).
    #[error("invalid_grant: {0}; sign in again")]
    InvalidGrant(String),
    /// `invalid_client`: the client id or secret was refused.
    #[error("invalid_client: {0}; check the client id and secret")]
    InvalidClient(String),
    /// `access_denied` (the user or policy said no).
    #[error("access_denied: {0}")]
    AccessDenied(String),
    /// Another error response from the provider.
    #[error("{code}: {description}")]
    Provider {
        /// The OAuth error code.
        code: String,
        /// The provider's description.
        description: String,
    },
    /// The returned `state` does not match the one sent: possible CSRF, nothing was exchanged.
    #[error("state mismatch: the authorization response does not belong to this sign-in (possible CSRF); start again")]
    StateMismatch,
    /// An ID token failed validation.
    #[error("ID token rejected: {0}")]
    IdToken(String),
    /// The provider could not be reached or answered garbage.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// A request or local listener failed below HTTP (the cause, its URL removed, is the
    /// source).
    #[error("provider unavailable: {what}: {cause}")]
    Transport {
        /// What was being done (`JWKS`, `revocation`, `loopback listener`).
        what: String,
        /// The transport's error.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No connection could be made: nothing was sent, so trying again is safe.
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    /// A request that must not be sent twice (a refresh grant: a rotating refresh token is
    /// spent by its first use) failed after it may have reached the provider. It was not
    /// sent again.
    #[error(
        "{what}: the request may have reached the provider ({cause}) and was not sent again, since a rotating refresh token is spent by its first use; try again, and sign in again if the provider refuses the token"
    )]
    MaybeDelivered {
        /// Which request.
        what: String,
        /// What went wrong (a reset, a timeout, a 5xx).
        cause: String,
    },
    /// The provider answered 5xx or 429: busy or failing, not an OAuth answer. `retry_after`
    /// is the wait it asked for (`Retry-After`), which the retry loop honours up to the retry
    /// policy's maximum delay.
    #[error("provider busy: it answered HTTP {status}{}", retry_after_note(*.retry_after))]
    Busy {
        /// The HTTP status.
        status: u16,
        /// The provider's `Retry-After`, in seconds, when it sent one.
        retry_after: Option<std::time::Duration>,
    },
    /// The user did not finish in time (loopback redirect, device flow).
    #[error("timed out: {0}")]
    Timeout(String),
    /// The provider's reply was malformed.
    #[error("invalid response: {0}")]
    Invalid(String),
    /// The refreshing cache or store failed.
    #[error(transparent)]
    Store(#[from] cred_store::Error),
}

fn retry_after_note(retry_after: Option<std::time::Duration>) -> String {
    retry_after.map(|d| format!(" (Retry-After: {} s)", d.as_secs())).unwrap_or_default()
}

impl OAuthError {
    /// A transport failure of `what`; a reqwest error loses its URL (which may carry a query).
    pub(crate) fn transport(what: &str, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        OAuthError::Transport { what: what.to_owned(), cause: cause.into() }
    }

    /// Whether the request certainly did not take effect at the provider, so sending it
    /// again cannot spend a single-use token twice: no connection was made, or the
    /// provider said it is throttling (429) or unavailable (503) before doing anything.
    pub fn certainly_not_processed(&self) -> bool {
        matches!(self, OAuthError::Unreachable(_) | OAuthError::Busy { status: 429 | 503, .. })
    }

    /// The wait the provider asked for before calling again, if it said.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            OAuthError::Busy { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl Kinded for OAuthError {
    fn kind(&self) -> ErrorKind {
        match self {
            OAuthError::Config(_) => ErrorKind::NotConfigured,
            OAuthError::InvalidGrant(_)
            | OAuthError::InvalidClient(_)
            | OAuthError::StateMismatch
            | OAuthError::IdToken(_) => ErrorKind::NotAuthorized,
            OAuthError::AccessDenied(_) => ErrorKind::AccessDenied,
            OAuthError::Provider { code, .. } if code == "slow_down" || code == "temporarily_unavailable" => {
                ErrorKind::Throttled
            }
            OAuthError::Provider { code, .. } if code == "expired_token" => ErrorKind::ExpiredToken,
            OAuthError::Provider { .. } | OAuthError::Invalid(_) => ErrorKind::InvalidInput,
            OAuthError::Busy { status: 429, .. } => ErrorKind::Throttled,
            OAuthError::Unavailable(_)
            | OAuthError::Transport { .. }
            | OAuthError::Unreachable(_)
            | OAuthError::MaybeDelivered { .. }
            | OAuthError::Timeout(_)
            | OAuthError::Busy { .. } => ErrorKind::Unavailable,
            OAuthError::Store(e) => e.kind(),
        }
    }

    fn wrapped(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            OAuthError::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// Maps an OAuth error code and description.
pub(crate) fn from_code(code: &str, description: Option<&str>) -> OAuthError {
    let d = description.unwrap_or("no description").to_owned();
    match code {
        "invalid_grant" => OAuthError::InvalidGrant(d),
        "invalid_client" | "unauthorized_client" => OAuthError::InvalidClient(d),
        "access_denied" => OAuthError::AccessDenied(d),
        other => OAuthError::Provider { code: other.to_owned(), description: d },
    }
}
