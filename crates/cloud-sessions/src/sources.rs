//! STS-backed credential sources, wrapped in cred-store's refreshing cache by the manager.

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use aws_sdk_sts::error::ProvideErrorMetadata;
use core_types::{AwsCredentials, CredentialSource, Kinded};

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

/// How a role is assumed.
#[derive(Clone)]
pub(crate) enum Assume {
    /// `AssumeRole` with the source session's credentials.
    Role { external_id: Option<String> },
    /// `AssumeRoleWithWebIdentity` with a token read from a file at each refresh.
    WebIdentity { token_file: String },
}

/// Assumes a role through STS.
#[derive(Clone)]
pub struct AssumeRoleSource {
    pub(crate) session: String,
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) role_arn: String,
    pub(crate) session_name: String,
    pub(crate) duration_seconds: Option<u32>,
    pub(crate) how: Assume,
}

impl fmt::Debug for AssumeRoleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleSource")
            .field("session", &self.session)
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

impl CredentialSource for AssumeRoleSource {
    type Output = AwsCredentials;
    type Error = SessionError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Owned(format!("sts:{}", self.session))
    }

    async fn fetch(&self) -> Result<AwsCredentials, SessionError> {
        let duration = self.duration_seconds.map(|d| i32::try_from(d).unwrap_or(3600));
        let creds = match &self.how {
            Assume::Role { external_id } => {
                let out = self
                    .sts
                    .assume_role()
                    .role_arn(&self.role_arn)
                    .role_session_name(&self.session_name)
                    .set_duration_seconds(duration)
                    .set_external_id(external_id.clone())
                    .send()
                    .await
                    .map_err(|e| aws_error(&self.session, "sts:AssumeRole", e))?;
                out.credentials().map(from_sts)
            }
            Assume::WebIdentity { token_file } => {
                let token = cred_store::fsutil::read_text(std::path::Path::new(token_file)).map_err(|e| {
                    SessionError::Reference {
                        reference: token_file.clone(),
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
                out.credentials().map(from_sts)
            }
        };
        creds.ok_or_else(|| SessionError::Aws {
            session: self.session.clone(),
            operation: "sts:AssumeRole",
            code: "InvalidResponse".into(),
            message: "no credentials in the response".into(),
            request_id: None,
            cause: None,
        })
    }
}
