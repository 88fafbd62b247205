//! The reading of STS's answers (errors through aws-failure, credentials), and the web
//! identity source; wrapped in cred-store's refreshing cache by the engine (`profile.rs`).

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use aws_sdk_sts::error::ProvideErrorMetadata;
use core_types::{AwsCredentials, CredentialSource, ErrorKind, ExposeSecret, Kinded};
use cred_store::RoleHop;

use crate::error::{SessionError, find_source};

pub(crate) fn aws_error<E>(
    session: &str,
    operation: &'static str,
    e: aws_sdk_sts::error::SdkError<E, aws_sdk_sts::config::http::HttpResponse>,
) -> SessionError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    // the session's own credentials could not be had (a refreshing cache over Cognito, SSO,
    // a role): that failure's kind, not a network guess (a missing sign-in is not transient)
    if let Some(store) = find_source::<cred_store::Error>(&e) {
        return SessionError::Credentials {
            session: session.to_owned(),
            kind: store.kind(),
            message: store.to_string(),
        };
    }
    // the one reading of an AWS answer (aws-failure): the service's code and message when it
    // answered, whatever its Content-Type; what happened on the way when it did not
    let (service, op) = operation.split_once(':').unwrap_or(("AWS", operation));
    let f = aws_failure::call_failure(&service.to_uppercase(), op, &e);
    // no code: the kind of what happened decides (a 503 or a dropped connection is retried,
    // a 4xx without a body is not)
    let code = f.code.clone().unwrap_or_else(|| {
        match f.kind {
            core_types::ErrorKind::Unavailable => "Unavailable",
            core_types::ErrorKind::Throttled => "ThrottlingException",
            core_types::ErrorKind::AccessDenied => "AccessDenied",
            core_types::ErrorKind::ExpiredToken => "ExpiredToken",
            _ => "UnknownError",
        }
        .to_owned()
    });
    let said = f.message.clone().or_else(|| f.summary.clone()).unwrap_or_else(|| f.to_string());
    let message = match (&f.code, f.http_status) {
        (None, Some(status)) => format!("HTTP {status}: {said}"),
        _ => said,
    };
    SessionError::Aws {
        session: session.to_owned(),
        operation,
        code,
        message,
        request_id: f.request_id.clone().map(Box::from),
        cause: Some(Box::new(e)),
    }
}

/// STS's temporary credentials (AssumeRole, GetSessionToken, ...) as the toolkit's.
pub fn from_sts(c: &aws_sdk_sts::types::Credentials) -> AwsCredentials {
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    AwsCredentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_owned()), expiry)
}

/// Assumes a role with a web identity token (read from its file at each refresh): a plan's
/// `Base::WebIdentity`. Role hops are `profile::RoleSource`, the one AssumeRole source.
#[derive(Clone)]
pub(crate) struct WebIdentitySource {
    pub(crate) session: String,
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) role_arn: String,
    pub(crate) session_name: String,
    pub(crate) duration_seconds: Option<u32>,
    pub(crate) token_file: String,
}

impl fmt::Debug for WebIdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentitySource")
            .field("session", &self.session)
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

impl CredentialSource for WebIdentitySource {
    type Output = AwsCredentials;
    type Error = SessionError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Owned(format!("sts:{}", self.session))
    }

    async fn fetch(&self) -> Result<AwsCredentials, SessionError> {
        let duration = self.duration_seconds.map(|d| i32::try_from(d).unwrap_or(3600));
        let token = cred_store::fsutil::read_text(std::path::Path::new(&self.token_file)).map_err(|e| {
            SessionError::Reference {
                reference: self.token_file.clone(),
                used_by: format!("session {}", self.session),
                message: format!("cannot read the web identity token file: {e}"),
            }
        })?;
        let out = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .web_identity_token(token.trim())
            .set_duration_seconds(duration)
            .send()
            .await
            .map_err(|e| aws_error(&self.session, "sts:AssumeRoleWithWebIdentity", e))?;
        out.credentials().map(from_sts).ok_or_else(|| SessionError::Aws {
            session: self.session.clone(),
            operation: "sts:AssumeRoleWithWebIdentity",
            code: "InvalidResponse".into(),
            message: "no credentials in the response".into(),
            request_id: None,
            cause: None,
        })
    }
}

/// The code for the MFA device `serial` names (none when it names none): the one a person
/// gave, else what the prompt asks (off the async threads, under the entry's lock: once per
/// session), else an error saying that `what` needs a person.
pub(crate) async fn mfa_code(
    serial: Option<&str>,
    given: Option<&core_types::SecretString>,
    prompt: Option<&crate::options::MfaPrompt>,
    session: &str,
    what: &str,
) -> Result<Option<String>, SessionError> {
    let Some(serial) = serial else { return Ok(None) };
    if let Some(code) = given {
        return Ok(Some(code.expose_secret().to_owned()));
    }
    let asked = match prompt.cloned() {
        Some(prompt) => {
            let serial = serial.to_owned();
            tokio::task::spawn_blocking(move || prompt(&serial)).await.ok().flatten()
        }
        None => None,
    };
    asked.map(|c| Some(c.expose_secret().to_owned())).ok_or_else(|| SessionError::Credentials {
        session: session.to_owned(),
        kind: ErrorKind::NotAuthorized,
        message: format!("{what} needs a code from the MFA device {serial}"),
    })
}

/// One role hop: AssumeRole with the credentials before it, with every setting the profile
/// gives (external id, session name, duration, MFA device and the code a person gave).
#[derive(Clone)]
pub(crate) struct RoleSource {
    pub(crate) name: String,
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) hop: RoleHop,
    pub(crate) session_name: String,
    pub(crate) code: Option<core_types::SecretString>,
    /// Who is asked when the hop needs a code and none was given.
    pub(crate) prompt: Option<crate::options::MfaPrompt>,
}

impl std::fmt::Debug for RoleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleSource").field("hop", &self.hop).finish_non_exhaustive()
    }
}

impl CredentialSource for RoleSource {
    type Output = AwsCredentials;
    type Error = SessionError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<AwsCredentials, SessionError> {
        let hop = &self.hop;
        let what = format!("role {}", hop.role_arn);
        let code =
            mfa_code(hop.mfa_serial.as_deref(), self.code.as_ref(), self.prompt.as_ref(), &self.name, &what).await?;
        let out = self
            .sts
            .assume_role()
            .role_arn(&hop.role_arn)
            .role_session_name(&self.session_name)
            .set_external_id(hop.external_id.clone())
            .set_duration_seconds(hop.duration_seconds.and_then(|d| i32::try_from(d).ok()))
            .set_serial_number(hop.mfa_serial.clone())
            .set_token_code(code)
            .send()
            .await
            .map_err(|e| aws_error(&self.name, "sts:AssumeRole", e))?;
        out.credentials().map(from_sts).ok_or_else(|| SessionError::Aws {
            session: self.name.clone(),
            operation: "sts:AssumeRole",
            code: "InvalidResponse".into(),
            message: "no credentials in the response".into(),
            request_id: None,
            cause: None,
        })
    }
}
