use core_types::{ErrorKind, Kinded};

/// Everything that can go wrong loading or using cloud sessions. Messages name the YAML path,
/// session or reference involved, never a secret value.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The YAML is malformed or has an unknown / missing key.
    #[error("{path}: {message}")]
    Config {
        /// Where in the YAML (`cloud_sessions[2].role_arn`).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An `ENV/` or `SEC/` reference could not be resolved.
    #[error("{reference} (used by {used_by}) could not be resolved: {message}")]
    Reference {
        /// The reference as written (`ENV/NAME`, `SEC/name`).
        reference: String,
        /// The YAML path that uses it.
        used_by: String,
        /// Why.
        message: String,
    },
    /// No session of that name.
    #[error("no cloud session named {0:?}; check cloud_sessions in the configuration")]
    UnknownSession(String),
    /// The role may not use the session.
    #[error("permission denied: role {role:?} may not use session {session:?}")]
    PermissionDenied {
        /// The role.
        role: String,
        /// The session.
        session: String,
    },
    /// The session kind is declared but not supported by this build.
    #[error("session {name:?}: {message}")]
    Unsupported {
        /// The session.
        name: String,
        /// What is missing.
        message: String,
    },
    /// An AWS call failed.
    #[error("session {session:?}: {operation} failed: {code}: {message}")]
    Aws {
        /// The session.
        session: String,
        /// The operation.
        operation: &'static str,
        /// The AWS error code.
        code: String,
        /// The service's message.
        message: String,
        /// The request id the service gave the call, when it answered.
        request_id: Option<Box<str>>,
        /// The SDK's error, when there was one.
        #[source]
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// An Azure credential failed (the message says which credentials were tried).
    #[error("session {session:?}: {message}")]
    Azure {
        /// The session.
        session: String,
        /// What kind of failure.
        kind: ErrorKind,
        /// What happened.
        message: String,
    },
    /// A credential source (Cognito, SSO) failed.
    #[error("session {session:?}: {message}")]
    Credentials {
        /// The session.
        session: String,
        /// What kind of failure.
        kind: ErrorKind,
        /// What happened.
        message: String,
    },
    /// A profile ccc's Cognito configuration serves, on which no one is signed in.
    #[error("no one is signed in on profile {profile}")]
    NotSignedIn {
        /// The profile.
        profile: String,
    },
    /// The refreshing cache or store failed.
    #[error(transparent)]
    Store(#[from] cred_store::Error),
    /// The session failed transiently too many times in a row: calls fail fast until the
    /// cool-down is over.
    #[error("session {session:?}: circuit open after {failures} transient failures in a row; failing fast until {} (then one trial call)", cred_store::format_rfc3339(*retry_at))]
    CircuitOpen {
        /// The session.
        session: String,
        /// The failures that opened it.
        failures: u32,
        /// When a trial call may go through.
        retry_at: std::time::SystemTime,
    },
}

/// The first error of type `T` in `e`'s source chain (`e` itself included).
pub(crate) fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        cur = err.source();
    }
    None
}

/// The kind of an AWS error code (the shared table; `Unavailable` and `Timeout` are the
/// codes this crate gives calls that got no AWS answer).
pub(crate) fn kind_of_code(code: &str) -> ErrorKind {
    match code {
        "Unavailable" | "Timeout" => ErrorKind::Unavailable,
        other => ErrorKind::from_aws_code(other),
    }
}

impl Kinded for SessionError {
    fn kind(&self) -> ErrorKind {
        match self {
            SessionError::Config { .. } => ErrorKind::InvalidInput,
            SessionError::Reference { .. }
            | SessionError::UnknownSession(_)
            | SessionError::Unsupported { .. }
            | SessionError::NotSignedIn { .. } => ErrorKind::NotConfigured,
            SessionError::PermissionDenied { .. } => ErrorKind::AccessDenied,
            SessionError::Aws { code, .. } => kind_of_code(code),
            SessionError::Azure { kind, .. } | SessionError::Credentials { kind, .. } => *kind,
            SessionError::Store(e) => e.kind(),
            SessionError::CircuitOpen { .. } => ErrorKind::Unavailable,
        }
    }

    fn wrapped(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            SessionError::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// A declaration this build of the crate cannot serve: which feature would.
#[cfg(not(all(feature = "azure", feature = "key-vault", feature = "secrets-manager", feature = "team-store")))]
pub(crate) fn not_in_this_build(path: String, what: &str, feature: &str) -> SessionError {
    SessionError::Config {
        path,
        message: format!("{what} are not in this build: build cloud-sessions with its `{feature}` feature"),
    }
}
