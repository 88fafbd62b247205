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
