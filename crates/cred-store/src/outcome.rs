//! What one refresh attempt came to: recorded in the ledger when there is one, and needing
//! no database to describe.

use std::time::SystemTime;

use core_types::ErrorKind;

/// The outcome of one refresh attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// New credentials were obtained.
    Success {
        /// When they expire.
        expires_at: Option<SystemTime>,
    },
    /// The attempt failed. The message must not contain a secret (error messages of this
    /// workspace never do).
    Failure {
        /// The category.
        kind: ErrorKind,
        /// What happened.
        message: String,
    },
}
