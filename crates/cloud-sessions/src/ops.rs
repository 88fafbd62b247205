//! What the manager does with its sessions over a long run: health checks with retry,
//! scheduled rotation, and extended sessions.

use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::{AwsCredentials, Clock, CredentialSource, ErrorKind, Kinded, Verdict};
use cred_store::to_sdk_credentials;

use crate::azure::{AzureSession, MANAGEMENT_SCOPE, azure_error};
use crate::error::SessionError;
use crate::manager::{CloudSessionManager, Session, base_config};
use crate::sources::aws_error;

/// The result of a health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// The session.
    pub name: String,
    /// Whether GetCallerIdentity (AWS) or token acquisition (Azure) succeeded.
    pub healthy: bool,
    /// The caller ARN (AWS).
    pub arn: Option<String>,
    /// The account (AWS) or subscription (Azure).
    pub account: Option<String>,
    /// Which Azure credential answered.
    pub credential: Option<String>,
    /// What the Azure credential chain tried (`environment: skipped (...)`, ...).
    pub chain: Vec<String>,
    /// How long the check took (all attempts).
    pub latency: Duration,
    /// Attempts made.
    pub attempts: u32,
    /// The failure's kind.
    pub error_kind: Option<ErrorKind>,
    /// The failure.
    pub error: Option<String>,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The session.
    pub name: String,
    /// When.
    pub at: SystemTime,
    /// `None` on success, else why the old credential was kept.
    pub error: Option<String>,
}

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
    /// Calls `op` until it succeeds, retrying throttling / unavailable errors only.
    async fn with_retry<T, F, Fut>(&self, op: F) -> (Result<T, SessionError>, u32)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SessionError>>,
    {
        let judge = |e: &SessionError| {
            if e.kind().is_retryable() { Verdict::Retry { after: None } } else { Verdict::Final }
        };
        self.inner.options.retry.run(op, judge, tokio::time::sleep).await
    }

    /// AWS: `GetCallerIdentity` with the session's credentials; Azure: a token for Azure
    /// Resource Manager. Retried per the retry policy (transient failures only).
    pub async fn check_health(&self, name: &str) -> Result<HealthReport, SessionError> {
        let start = Instant::now();
        let mut report = HealthReport {
            name: name.to_owned(),
            healthy: false,
            arn: None,
            account: None,
            credential: None,
            chain: Vec::new(),
            latency: Duration::ZERO,
            attempts: 0,
            error_kind: None,
            error: None,
        };
        let failure = match self.get_session(name)? {
            Session::Aws(session) => {
                // our retry policy governs here, not the SDK's
                let sts =
                    aws_sdk_sts::Client::new(&session.sdk.to_builder().retry_config(RetryConfig::disabled()).build());
                let (result, attempts) = self
                    .with_retry(|| async {
                        sts.get_caller_identity().send().await.map_err(|e| aws_error(name, "sts:GetCallerIdentity", &e))
                    })
                    .await;
                report.attempts = attempts;
                match result {
                    Ok(who) => {
                        report.arn = who.arn().map(str::to_owned);
                        report.account = who.account().map(str::to_owned);
                        None
                    }
                    Err(e) => Some(e),
                }
            }
            Session::Azure(session) => {
                let credential = session.credential();
                let (result, attempts) = self
                    .with_retry(|| async {
                        credential.get_token(&[MANAGEMENT_SCOPE], None).await.map_err(|e| azure_error(name, &e))
                    })
                    .await;
                report.attempts = attempts;
                report.account = session.subscription_id().map(str::to_owned);
                report.credential = session.answered_by().map(str::to_owned);
                report.chain = session.attempts().iter().map(ToString::to_string).collect();
                result.err()
            }
        };
        report.latency = start.elapsed();
        report.healthy = failure.is_none();
        if let Some(e) = failure {
            report.error_kind = Some(e.kind());
            report.error = Some(e.to_string());
        }
        Ok(report)
    }

    /// Health of every session.
    pub async fn check_all(&self) -> Vec<HealthReport> {
        let mut out = Vec::new();
        for name in self.session_names() {
            if let Ok(r) = self.check_health(&name).await {
                out.push(r);
            }
        }
        out
    }

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
                        session.chain.renew_all().await.map_err(|e| azure_error(&session.name, &e))
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
                .map_err(|e| aws_error(name, "sts:GetSessionToken", &e))?;
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
    }
}
