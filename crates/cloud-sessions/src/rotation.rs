//! Over a long run: scheduled rotation (credentials re-obtained before their time).

use std::sync::PoisonError;
use std::time::Duration;

#[cfg(feature = "azure")]
use crate::azure::{AzureSession, azure_error};
use crate::error::SessionError;
use crate::manager::CloudSessionManager;
use crate::reports::RotationReport;
use crate::session::Session;

impl CloudSessionManager {
    /// Re-obtains a session's credentials every `every`, before their time: role, Cognito and
    /// SSO credentials, or an Azure session's cached tokens. A failed rotation keeps the old,
    /// still-valid credentials and is reported.
    pub fn schedule_rotation(&self, name: &str, every: Duration) -> Result<(), SessionError> {
        let session = match self.get_session(name)? {
            Session::Aws(s) => *s,
            #[cfg(feature = "azure")]
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
                let (result, _) = me.with_retry(&name, || (renewer.fetch)()).await;
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
    #[cfg(feature = "azure")]
    fn schedule_azure_rotation(&self, session: AzureSession, every: Duration) -> Result<(), SessionError> {
        let reports = self.inner.reports.clone();
        let clock = self.inner.options.clock.clone();
        let me = self.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let (result, _) = me
                    .with_retry(&session.name, || async {
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
}

/// What [`CloudSessionManager::rotate_now`] does beyond renewing the credentials.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct RotateNow {
    /// For a role session: revoke every session of the role issued before now, as the IAM
    /// console's "Revoke active sessions" does (an inline policy on the role, `AWSRevokeOlderSessions`,
    /// denying everything to tokens issued earlier). It reaches every holder of the role, not
    /// only this program: hence an explicit choice.
    pub revoke_older_role_sessions: bool,
}

impl RotateNow {
    /// Also revoke the role's older sessions (see the field).
    #[must_use]
    pub fn revoking_older_role_sessions(mut self) -> Self {
        self.revoke_older_role_sessions = true;
        self
    }
}

/// The inline policy the IAM console's "Revoke active sessions" writes: deny everything to
/// the role's sessions issued before `before`.
pub fn revoke_older_sessions_policy(before: std::time::SystemTime) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": cred_store::format_rfc3339(before)}}
        }]
    })
    .to_string()
}

/// The inline policy's name (the console's).
pub const REVOKE_POLICY_NAME: &str = "AWSRevokeOlderSessions";

impl CloudSessionManager {
    /// Rotates a session now, seed 004's three steps: new credentials (for a session over a
    /// key `ccc keys` keeps, a new IAM key first, with `keys::rotate_access_key`), the
    /// session updated with them, and the old ones invalidated (the old key deleted in IAM;
    /// for a role, with [`RotateNow::revoke_older_role_sessions`], the role's older sessions
    /// revoked). Declared `ENV/`/`SEC/` keys are the caller's: they are refused here.
    pub async fn rotate_now(&self, name: &str, how: RotateNow) -> Result<RotationReport, SessionError> {
        let session = match self.get_session(name)? {
            Session::Aws(s) => *s,
            #[cfg(feature = "azure")]
            Session::Azure(_) => {
                return Err(SessionError::Unsupported {
                    name: name.to_owned(),
                    message: "rotate_now is for AWS sessions (schedule_rotation renews Azure tokens)".into(),
                });
            }
        };
        let options = &self.inner.options;
        let kept = session
            .profile
            .as_deref()
            .filter(|p| options.token_store.as_ref().is_some_and(|s| s.access_key(p).ok().flatten().is_some()));
        if let Some(profile) = kept {
            crate::keys::rotate_access_key(profile, options).await?;
        } else if session.static_keys.is_some() {
            return Err(SessionError::Unsupported {
                name: name.to_owned(),
                message: "declared keys are yours to rotate (where ENV/ or SEC/ finds them); keep the key in the token store for a profile and declare `profile:` to have it rotated here".into(),
            });
        }
        if how.revoke_older_role_sessions {
            let Some(role) = &session.role else {
                return Err(SessionError::Unsupported {
                    name: name.to_owned(),
                    message: "only a role session's older sessions can be revoked".into(),
                });
            };
            let arn = role.source().hop.role_arn.clone();
            let role_name = arn.rsplit('/').next().unwrap_or(&arn).to_owned();
            let iam = aws_sdk_iam::Client::new(&session.sdk);
            iam.put_role_policy()
                .role_name(&role_name)
                .policy_name(REVOKE_POLICY_NAME)
                .policy_document(revoke_older_sessions_policy(options.clock.now()))
                .send()
                .await
                .map_err(|e| crate::sources::aws_error(name, "iam:PutRolePolicy", e))?;
        }
        let Some(renewer) = session.renewer.clone() else {
            return Ok(RotationReport { name: name.to_owned(), at: options.clock.now(), error: None });
        };
        let fresh = (renewer.fetch)().await?;
        (renewer.seed)(fresh).await?;
        let report = RotationReport { name: name.to_owned(), at: options.clock.now(), error: None };
        self.inner.reports.lock().unwrap_or_else(PoisonError::into_inner).push(report.clone());
        Ok(report)
    }
}
