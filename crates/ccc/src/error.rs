//! What the CLI reports when something fails, rendered in one place: line 1 says what failed
//! (the service's own code and message when there is one, or the HTTP status and what the
//! answer was), line 2 is a hint naming a command that exists. `-v` adds the cause chain,
//! `-vv` the request id and HTTP status. Never a `Debug` dump, never a secret.

use std::fmt::Write as _;

use core_types::{CallFailure, ErrorKind, Kinded, one_line};

/// Exit codes: stable, documented in `--help` and the README.
pub mod exit {
    /// The command did what was asked.
    pub const OK: u8 = 0;
    /// It failed (bad input, a refusal, a local problem).
    pub const FAILURE: u8 = 1;
    /// The command line was wrong (clap's code).
    #[allow(dead_code)] // clap exits with it itself
    pub const USAGE: u8 = 2;
    /// A person must act first: sign in again, or configure.
    pub const NEEDS_SIGN_IN: u8 = 3;
    /// An upstream service did not answer, or asked us to slow down: retrying later may work.
    pub const UNAVAILABLE: u8 = 4;
    /// `ccc exec`: the command was found but could not be run (as shells exit).
    pub const CANNOT_EXECUTE: u8 = 126;
    /// `ccc exec`: the command was not found (as shells exit).
    pub const NOT_FOUND: u8 = 127;
}

/// A failure of a command: what failed, a hint on what to do next, and for `-v` what lies
/// under it.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    pub kind: ErrorKind,
    /// The facts of a failed upstream call, when that is what failed.
    pub failure: Option<Box<CallFailure>>,
    /// The causes' messages, outermost first (for `-v`).
    pub causes: Vec<String>,
    /// Where, in the user's terms (`profile e2e, us-east-1`).
    pub context: Option<String>,
    /// An exit code the failure's kind does not decide (`ccc exec`'s 126 and 127, as shells).
    pub exit: Option<u8>,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

// so a prompt inside a library call can hand back its own failure (hint included)
impl std::error::Error for CliError {}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            kind: ErrorKind::Other,
            failure: None,
            causes: Vec::new(),
            context: None,
            exit: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Says where it failed, in the user's terms.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    pub fn kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// From the facts of a failed call: its one line, and the hint its kind deserves (or,
    /// when the answer was not the service's, the endpoint hint given when rendering).
    pub fn from_failure(f: CallFailure) -> Self {
        let hint = match f.code.as_deref() {
            // the request was signed with credentials AWS does not take: a Cognito sign-in is
            // not the only source of them, so the hint names what to check for any
            Some(
                "SignatureDoesNotMatch" | "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidAccessKeyId",
            ) => Some(SIGNING_HINT.to_owned()),
            Some(_) => hint_for(f.kind),
            None => None,
        };
        Self {
            message: f.to_string(),
            hint,
            kind: f.kind,
            failure: Some(Box::new(f)),
            causes: Vec::new(),
            context: None,
            exit: None,
        }
    }

    /// From a library error: its message, kind, causes, and the hint its kind deserves.
    pub fn from_kinded(e: &dyn Kinded) -> Self {
        let mut causes = Vec::new();
        let mut cur = e.source();
        while let Some(c) = cur {
            causes.push(one_line(&c.to_string()));
            cur = c.source();
        }
        Self {
            message: e.to_string(),
            hint: hint_for(e.kind()),
            kind: e.kind(),
            failure: None,
            causes,
            context: None,
            exit: None,
        }
    }

    /// Exits with `code` whatever the kind (as a shell would for what failed).
    pub fn exit_with(mut self, code: u8) -> Self {
        self.exit = Some(code);
        self
    }

    /// The exit code of this failure.
    pub fn exit_code(&self) -> u8 {
        if let Some(code) = self.exit {
            return code;
        }
        match self.kind {
            ErrorKind::NotAuthorized
            | ErrorKind::ExpiredToken
            | ErrorKind::NotConfigured
            | ErrorKind::UserNotConfirmed
            | ErrorKind::PasswordResetRequired => exit::NEEDS_SIGN_IN,
            ErrorKind::Unavailable | ErrorKind::Throttled => exit::UNAVAILABLE,
            _ => exit::FAILURE,
        }
    }

    /// The text for stderr at `verbosity` (0: one or two lines).
    pub fn render(&self, verbosity: u8, endpoint: Option<&str>) -> String {
        let mut out = match &self.context {
            Some(c) => format!("error: {c}: {}", one_line(&self.message)),
            None => format!("error: {}", one_line(&self.message)),
        };
        let hint = self.hint.clone().or_else(|| self.failure.as_deref().and_then(|f| foreign_hint(f, endpoint)));
        if let Some(h) = hint {
            let _ = write!(out, "\nhint: {h}");
        }
        if verbosity >= 1 {
            for c in self.causes.iter().filter(|c| !self.message.contains(c.as_str())) {
                let _ = write!(out, "\n  caused by: {c}");
            }
        }
        if verbosity >= 2 {
            let _ = write!(out, "\n  kind: {} (exit {})", self.kind, self.exit_code());
            if let Some(f) = &self.failure {
                if let Some(id) = &f.request_id {
                    let _ = write!(out, "\n  request id: {id}");
                }
                if let Some(status) = f.http_status {
                    let _ = write!(out, "\n  HTTP status: {status}");
                }
            }
            if let Some(e) = endpoint {
                let _ = write!(out, "\n  endpoint: {e}");
            }
        }
        out
    }
}

/// When the answer was not the service's (an HTML page from something else at the endpoint),
/// the likely cause: the endpoint override.
fn foreign_hint(f: &CallFailure, endpoint: Option<&str>) -> Option<String> {
    match (f.code.as_ref(), f.http_status, endpoint) {
        (None, Some(_), Some(e)) => {
            Some(format!("is AWS_ENDPOINT_URL ({e}) pointing at a service that implements {}?", f.operation))
        }
        (None, None, Some(e)) => Some(format!("check that something answers at AWS_ENDPOINT_URL ({e})")),
        (None, None, None) => Some("check the network, then retry".into()),
        _ => None,
    }
}

/// What to check when AWS refuses the signing credentials themselves.
const SIGNING_HINT: &str = "AWS does not accept these credentials: check the profile's aws_access_key_id and aws_secret_access_key (or the variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), or sign in again to what issued them";

/// The hint a kind of failure deserves; each names a command that exists.
fn hint_for(kind: ErrorKind) -> Option<String> {
    Some(
        match kind {
            ErrorKind::NotConfigured => "run `ccc configure`",
            ErrorKind::ExpiredToken => "run `ccc login` to sign in again",
            ErrorKind::NotAuthorized => "check the username and password, or run `ccc login` again",
            ErrorKind::UserNotFound => "check the username; the pool's administrator creates users",
            ErrorKind::UserNotConfirmed => "run `ccc confirm-sign-up --username USER` with the code sent at sign-up",
            ErrorKind::PasswordResetRequired => {
                "run `ccc forgot-password --username USER`, then `ccc confirm-forgot-password`"
            }
            ErrorKind::AccessDenied => {
                "the signed-in identity is not allowed this; ask an administrator for the permission"
            }
            ErrorKind::Throttled => "the service asked us to slow down; retry in a moment",
            ErrorKind::Unavailable => "check the network and the endpoint, then retry",
            _ => return None,
        }
        .to_owned(),
    )
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

impl From<sso_refresh::SsoError> for CliError {
    fn from(e: sso_refresh::SsoError) -> Self {
        let kind = e.kind();
        let err = Self::from_kinded(&e);
        match kind {
            ErrorKind::NotAuthorized => err.hint("run `ccc sso login` to sign in again"),
            ErrorKind::Unavailable => err.hint("retry in a moment"),
            // the message says what the profile lacks; `ccc configure` is for Cognito, not SSO
            ErrorKind::NotConfigured => Self { hint: None, ..err },
            _ => err,
        }
    }
}

impl From<aws_inspect::InspectError> for CliError {
    fn from(e: aws_inspect::InspectError) -> Self {
        let mut err = Self::from_kinded(&e);
        err.failure = e.failure().cloned().map(Box::new);
        if let aws_inspect::InspectError::NoHistorySource { cloudtrail, .. } = &e {
            err.failure = cloudtrail.failure().cloned().map(Box::new);
        }
        if err.failure.as_ref().is_some_and(|f| f.code.is_none()) {
            // no AWS answer: the endpoint hint (added when rendering) says more than the kind's
            err.hint = None;
        }
        err
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::new(format!("terminal I/O failed: {e}"))
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_exit_codes_and_hints_that_name_real_commands() {
        let e = CliError::new("x").kind(ErrorKind::ExpiredToken);
        assert_eq!(e.exit_code(), exit::NEEDS_SIGN_IN);
        assert_eq!(CliError::new("x").kind(ErrorKind::Throttled).exit_code(), exit::UNAVAILABLE);
        assert_eq!(CliError::new("x").exit_code(), exit::FAILURE);
        for kind in [ErrorKind::NotConfigured, ErrorKind::ExpiredToken, ErrorKind::NotAuthorized] {
            let hint = hint_for(kind).unwrap();
            assert!(hint.contains("`ccc configure`") || hint.contains("`ccc login`"), "{hint}");
        }
    }

    #[test]
    fn a_foreign_answer_renders_in_two_lines_and_more_with_v() {
        let f = CallFailure::new("CloudTrail", "LookupEvents", ErrorKind::Unavailable)
            .with_status(500)
            .with_request_id(Some("req-1"))
            .with_summary("an HTML page, not an AWS answer");
        let mut e = CliError::new(f.to_string()).kind(f.kind);
        e.failure = Some(Box::new(f));
        e.causes = vec!["service error".into(), "unhandled error".into()];
        let plain = e.render(0, Some("http://127.0.0.1:9"));
        assert_eq!(
            plain,
            "error: CloudTrail LookupEvents: HTTP 500: an HTML page, not an AWS answer\nhint: is AWS_ENDPOINT_URL (http://127.0.0.1:9) pointing at a service that implements LookupEvents?"
        );
        let v = e.render(1, None);
        assert!(v.contains("caused by: service error"), "{v}");
        let vv = e.render(2, None);
        assert!(vv.contains("request id: req-1") && vv.contains("HTTP status: 500"), "{vv}");
    }
}
