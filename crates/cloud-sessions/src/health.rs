//! Health checks: is a session usable now (AWS: GetCallerIdentity; Azure: a token for
//! Azure Resource Manager), retried per the manager's policy.

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use core_types::{CircuitState, Kinded};

#[cfg(feature = "azure")]
use crate::azure::{MANAGEMENT_SCOPE, azure_error};
use crate::error::SessionError;
use crate::manager::CloudSessionManager;
use crate::reports::HealthReport;
use crate::session::Session;
use crate::sources::aws_error;

impl CloudSessionManager {
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
            circuit: String::new(),
        };
        let failure = match self.get_session(name)? {
            Session::Aws(session) => {
                // our retry policy governs here, not the SDK's
                let sts =
                    aws_sdk_sts::Client::new(&session.sdk.to_builder().retry_config(RetryConfig::disabled()).build());
                let (result, attempts) = self
                    .with_retry(name, || async {
                        sts.get_caller_identity().send().await.map_err(|e| aws_error(name, "sts:GetCallerIdentity", e))
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
            #[cfg(feature = "azure")]
            Session::Azure(session) => {
                let credential = session.credential();
                let (result, attempts) = self
                    .with_retry(name, || async {
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
        report.circuit = match self.circuit_state(name) {
            CircuitState::Open { until } => format!("open until {}", cred_store::format_rfc3339(until)),
            CircuitState::HalfOpen { .. } => "half-open".to_owned(),
            _ => "closed".to_owned(),
        };
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
            // one that cannot be checked at all is left out; the others are still reported
            if let Ok(r) = self.check_health(&name).await {
                out.push(r);
            }
        }
        out
    }

    /// Health of the sessions `names`, in that order; a name that is not a session is an
    /// error (a session that fails its check is a report, not an error).
    pub async fn check_names(&self, names: &[String]) -> Result<Vec<HealthReport>, SessionError> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            out.push(self.check_health(name).await?);
        }
        Ok(out)
    }
}
