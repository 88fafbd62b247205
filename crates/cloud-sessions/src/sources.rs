//! STS-backed credential sources, wrapped in cred-store's refreshing cache by the manager.

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use aws_sdk_sts::error::ProvideErrorMetadata;
use core_types::{AwsCredentials, CredentialSource, Kinded};

use crate::error::{SessionError, find_source};

/// `e` and its sources' `Display`s, joined: what happened, never the `Debug` dump
/// (`DisplayErrorContext` appends one).
pub(crate) fn display_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = c.source();
    }
    parts.join(": ")
}

pub(crate) fn aws_error<E>(session: &str, operation: &'static str, e: E) -> SessionError
where
    E: ProvideErrorMetadata + aws_sdk_sts::operation::RequestId + std::error::Error + Send + Sync + 'static,
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
    let detail = display_chain(&e);
    // no error code: the call never got an AWS answer (refused, reset, timed out)
    let code = match e.code() {
        Some(c) => c.to_owned(),
        None if detail.contains("timeout") || detail.contains("timed out") => "Timeout".to_owned(),
        None => "Unavailable".to_owned(),
    };
    SessionError::Aws {
        session: session.to_owned(),
        operation,
        code,
        message: e.message().map(str::to_owned).unwrap_or_else(|| format!("no response from the service ({detail})")),
        request_id: e.request_id().map(Box::from),
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
