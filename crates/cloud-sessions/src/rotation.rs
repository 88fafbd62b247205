//! Over a long run: scheduled rotation (credentials re-obtained before their time) and
//! extended sessions (GetSessionToken / AssumeRole with a duration).

use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::{AwsCredentials, Clock, CredentialSource};
use cred_store::to_sdk_credentials;

use crate::azure::{AzureSession, azure_error};
use crate::build::base_config;
use crate::error::SessionError;
use crate::manager::CloudSessionManager;
use crate::reports::RotationReport;
use crate::session::Session;
use crate::sources::aws_error;

/// Credentials for a long run (GetSessionToken for IAM-user keys, AssumeRole with a duration
/// for role sessions).
#[derive(Clone)]
pub struct ExtendedSession {
    credentials: AwsCredentials,
    sdk: SdkConfig,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ExtendedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtendedSession").field("credentials", &self.credentials).finish_non_exhaustive()
    }
}

impl ExtendedSession {
    /// The credentials.
    pub fn credentials(&self) -> &AwsCredentials {
        &self.credentials
    }
    /// An `SdkConfig` using them.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }
    /// Time left (zero when expired).
    pub fn time_until_expiry(&self) -> Duration {
        self.credentials.expiration().and_then(|e| e.duration_since(self.clock.now()).ok()).unwrap_or(Duration::ZERO)
    }
}

impl CloudSessionManager {
    /// Re-obtains a session's credentials every `every`, before their time: role, Cognito and
    /// SSO credentials, or an Azure session's cached tokens. A failed rotation keeps the old,
    /// still-valid credentials and is reported.
    pub fn schedule_rotation(&self, name: &str, every: Duration) -> Result<(), SessionError> {
        let session = match self.get_session(name)? {
            Session::Aws(s) => *s,
            Session::Azure(azure) => return self.schedule_azure_rotation(azure, every),
        };
        let Some(renewer) = session.renewer.clone() else {
            return Err(SessionError::Unsupported {
                name: name.to_owned(),
                message: "only role, Cognito and SSO sessions have credentials to rotate".into(),
            });
        };
        let reports = self.inner.reports.clone();
        let clock = self.inner.options.clock.clone();
        let me = self.clone();
        let name = name.to_owned();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let (result, _) = me.with_retry(|| (renewer.fetch)()).await;
                let error = match result {
                    Ok(fresh) => (renewer.seed)(fresh).await.err().map(|e| e.to_string()),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(e) = &error {
                    tracing::warn!(session = %name, error = %e, "rotation failed; keeping the current credentials");
                }
                reports.lock().unwrap_or_else(PoisonError::into_inner).push(RotationReport {
                    name: name.clone(),
                    at: clock.now(),
                    error,
                });
            }
        });
        self.inner.rotations.lock().unwrap_or_else(PoisonError::into_inner).push(task);
        Ok(())
    }

    /// Azure: re-obtains the session's cached tokens every `every`.
    fn schedule_azure_rotation(&self, session: AzureSession, every: Duration) -> Result<(), SessionError> {
        let reports = self.inner.reports.clone();
        let clock = self.inner.options.clock.clone();
        let me = self.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let (result, _) = me
                    .with_retry(|| async {
                        session.tokens.renew_all().await.map_err(|e| azure_error(&session.name, &e))
                    })
                    .await;
                let error = result.err().map(|e| e.to_string());
                if let Some(e) = &error {
                    tracing::warn!(session = %session.name, error = %e, "rotation failed; keeping the current tokens");
                }
                reports.lock().unwrap_or_else(PoisonError::into_inner).push(RotationReport {
                    name: session.name.clone(),
                    at: clock.now(),
                    error,
                });
            }
        });
        self.inner.rotations.lock().unwrap_or_else(PoisonError::into_inner).push(task);
        Ok(())
    }

    /// What the rotations did so far.
    pub fn rotation_reports(&self) -> Vec<RotationReport> {
        self.inner.reports.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Credentials for a long run: `GetSessionToken` (IAM-user keys, up to 12 h) or AssumeRole
    /// with `duration` (role sessions).
    pub async fn extended_session(&self, name: &str, duration: Duration) -> Result<ExtendedSession, SessionError> {
        let session = self.aws_session(name)?;
        let secs = i32::try_from(duration.as_secs()).unwrap_or(i32::MAX);
        let credentials = if let Some(keys) = &session.static_keys {
            if keys.session_token().is_some() {
                return Err(SessionError::Unsupported {
                    name: name.to_owned(),
                    message: "cannot call GetSessionToken with session credentials (these keys already carry a session token); declare role_arn with duration_seconds to get long-lived role credentials instead".into(),
                });
            }
            if !(900..=129_600).contains(&secs) {
                return Err(SessionError::Config {
                    path: name.to_owned(),
                    message: "GetSessionToken durations are 900 s to 36 h".into(),
                });
            }
            let sts = aws_sdk_sts::Client::new(&session.sdk);
            let out = sts
                .get_session_token()
                .duration_seconds(secs)
                .send()
                .await
                .map_err(|e| aws_error(name, "sts:GetSessionToken", e))?;
            let c = out.credentials().ok_or_else(|| aws_error_msg(name, "sts:GetSessionToken"))?;
            AwsCredentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                SystemTime::try_from(*c.expiration()).ok(),
            )
        } else if let Some(cache) = &session.role {
            let mut source = cache.source().clone();
            source.duration_seconds = Some(u32::try_from(secs).unwrap_or(3600));
            source.fetch().await?
        } else {
            return Err(SessionError::Unsupported {
                name: name.to_owned(),
                message:
                    "extended sessions need access keys (GetSessionToken) or role_arn (AssumeRole with a duration)"
                        .into(),
            });
        };
        let sdk = base_config(
            &session.region,
            &self.inner.options,
            Some(SharedCredentialsProvider::new(to_sdk_credentials(&credentials))),
            RetryConfig::standard(),
        );
        Ok(ExtendedSession { credentials, sdk, clock: self.inner.options.clock.clone() })
    }
}

fn aws_error_msg(session: &str, operation: &'static str) -> SessionError {
    SessionError::Aws {
        session: session.to_owned(),
        operation,
        code: "InvalidResponse".into(),
        message: "no credentials in the response".into(),
        request_id: None,
        cause: None,
    }
}
