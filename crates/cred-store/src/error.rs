use std::path::PathBuf;

use core_types::{ErrorKind, Kinded};

/// Everything that can go wrong in cred-store. Messages name the file and what to do; they
/// never contain a secret (values from files are never echoed back).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `write`, `lock`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be parsed; it was left untouched.
    #[error("{}:{line}: {message}; fix or remove that line (the file was not changed)", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A path is a symlink to a file another user owns: writing through it could hand our
    /// secrets to them or let them plant credentials.
    #[error("refusing to write through {}: it is a symlink to a file owned by uid {owner}; replace the link with a file you own", path.display())]
    ForeignSymlink {
        /// The link.
        path: PathBuf,
        /// The owner of its target.
        owner: u32,
    },
    /// A directory we would write secrets into is owned by someone else or writable by
    /// others: they could swap our files for their own.
    #[error("refusing to write into {}: {reason}; fix its owner or mode (chmod go-w) or choose another location", path.display())]
    UnsafeDirectory {
        /// The directory.
        path: PathBuf,
        /// Who owns it or who may write it.
        reason: String,
    },
    /// A lock was held by another process for longer than we may wait.
    #[error("another process has held the lock {} for {} s (it may be stuck refreshing); try again, or end that process", path.display(), waited.as_secs())]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited: std::time::Duration,
    },
    /// A needed location could not be determined.
    #[error("{0}")]
    NotConfigured(String),
    /// A value given to us is invalid (profile name, config key, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// The ledger database failed.
    #[cfg(feature = "ledger")]
    #[error("ledger database ({backend}): {source}; check the database is reachable and writable")]
    Database {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The driver's error (sqlx messages carry no connection password).
        #[source]
        source: sqlx::Error,
    },
    /// Another machine has held a team store entry's lock for longer than we may wait.
    #[error("team store {location}: another machine has been refreshing this entry for {} s without finishing; try again, or end the refresh that holds it (the store's status names its holder)", waited.as_secs())]
    TeamBusy {
        /// The entry (store and key; never a secret).
        location: String,
        /// How long we waited.
        waited: std::time::Duration,
    },
    /// The team store failed: unreachable (kind `Unavailable`), a key that does not open it
    /// (`NotConfigured`), an entry that does not open (`InvalidInput`).
    #[error("team store {location}: {message}")]
    Team {
        /// The store or entry (never a secret).
        location: String,
        /// What happened and what to do.
        message: String,
        /// The category.
        kind: ErrorKind,
    },
    /// A profile's settings do not make a credential (named in the message: which key, and
    /// what is wrong with it).
    #[error("profile {profile}: {message}")]
    Profile {
        /// The profile the mistake is in.
        profile: String,
        /// What is wrong and what to set.
        message: String,
    },
    /// No profile of that name in either AWS file.
    #[error("{}", no_such_profile(profile, closest, *no_profiles))]
    NoSuchProfile {
        /// The name asked for.
        profile: String,
        /// Existing names close to it.
        closest: Vec<String>,
        /// Whether the files define no profile at all.
        no_profiles: bool,
    },
    /// The refreshing cache could not produce a usable credential.
    #[error("{name}: {message}")]
    Refresh {
        /// The credential source's name.
        name: String,
        /// What happened and what to do.
        message: String,
        /// The category (ExpiredToken when the cached value is past its expiry).
        kind: ErrorKind,
        /// The source's own error, typed (its words are in `message` too, for one-line
        /// reports; a caller inspects this, never the text).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

fn no_such_profile(profile: &str, closest: &[String], none: bool) -> String {
    let mut text = if none {
        format!("no profile {profile}: No profiles were defined in the AWS config or credentials file")
    } else {
        format!("no profile {profile} in the AWS config or credentials file")
    };
    if !closest.is_empty() {
        text.push_str(&format!(" (did you mean {}?)", closest.join(", ")));
    }
    text
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { action, path: path.into(), source }
    }
}

impl Kinded for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            #[cfg(feature = "ledger")]
            Error::Database { .. } => ErrorKind::Io,
            Error::Parse { .. } | Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::ForeignSymlink { .. } | Error::UnsafeDirectory { .. } => ErrorKind::AccessDenied,
            Error::LockTimeout { .. } | Error::TeamBusy { .. } => ErrorKind::Unavailable,
            Error::Team { kind, .. } => *kind,
            Error::NotConfigured(_) | Error::Profile { .. } | Error::NoSuchProfile { .. } => ErrorKind::NotConfigured,
            Error::Refresh { kind, .. } => *kind,
        }
    }
}

/// cred-store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
