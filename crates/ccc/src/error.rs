//! What the CLI reports when something fails: one or two lines that say what to do.

use core_types::{ErrorKind, Kinded};

/// A failure of a command: the message, and a hint on what to do next.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    fn from_kinded(e: &dyn Kinded) -> Self {
        let hint = match e.kind() {
            ErrorKind::NotConfigured => Some("run `ccc configure`"),
            ErrorKind::ExpiredToken => Some("run `ccc login`"),
            ErrorKind::NotAuthorized => Some("check the username and password, or run `ccc login` again"),
            ErrorKind::Unavailable | ErrorKind::Throttled => Some("retry in a moment"),
            _ => None,
        };
        Self { message: e.to_string(), hint: hint.map(str::to_owned) }
    }
}

impl From<cred_store::Error> for CliError {
    fn from(e: cred_store::Error) -> Self {
        Self::from_kinded(&e)
    }
}

impl From<cognito_auth::CognitoError> for CliError {
    fn from(e: cognito_auth::CognitoError) -> Self {
        Self::from_kinded(&e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::new(format!("terminal I/O failed: {e}"))
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
