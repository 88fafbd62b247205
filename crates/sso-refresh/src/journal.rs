//! Where refresh attempts are remembered: the cred-store ledger (feature `ledger`), or, in a
//! build without it, nowhere. Without a ledger there is no "last good sign-in" to age out, so
//! [`crate::AwsSso::should_refresh_credentials`] goes by the SSO token's and the role
//! credentials' expiry alone.

use std::time::SystemTime;

use cred_store::{Outcome, Paths};

use crate::config::SsoConfig;
use crate::error::SsoError;

/// The ledger, when this build has one.
#[derive(Clone, Debug)]
pub(crate) struct Journal {
    #[cfg(feature = "ledger")]
    ledger: cred_store::Ledger,
}

impl Journal {
    /// The ledger `config` names (`AWS_CREDENTIALS_DB_PATH`), or the default file.
    #[cfg(feature = "ledger")]
    pub(crate) async fn open(config: &SsoConfig, paths: &Paths) -> Result<Self, SsoError> {
        let ledger = match &config.db_path {
            Some(loc) => cred_store::Ledger::open(loc).await?,
            None => cred_store::Ledger::open_default(paths).await?,
        };
        Ok(Self { ledger })
    }

    /// No ledger in this build: a configured one is a mistake worth saying, not ignoring.
    #[cfg(not(feature = "ledger"))]
    pub(crate) async fn open(config: &SsoConfig, _paths: &Paths) -> Result<Self, SsoError> {
        match &config.db_path {
            Some(loc) => Err(SsoError::Store(cred_store::Error::NotConfigured(format!(
                "a ledger is configured ({}, from AWS_CREDENTIALS_DB_PATH) but this build of sso-refresh \
                 has none: build it with its `ledger` feature, or unset the variable",
                cred_store::redact_url(loc)
            )))),
            None => Ok(Self {}),
        }
    }

    /// Records one attempt; a ledger that cannot be written is logged, not fatal.
    pub(crate) async fn record(&self, source: &str, profile: &str, at: SystemTime, outcome: &Outcome) {
        #[cfg(feature = "ledger")]
        if let Err(e) = self.ledger.record_attempt(source, profile, at, outcome).await {
            tracing::warn!(error = %e, "could not record the attempt in the ledger");
        }
        #[cfg(not(feature = "ledger"))]
        let _ = (source, profile, at, outcome);
    }

    /// When the last good sign-in for this credential was, if the ledger knows; `None` when
    /// there is no ledger (which the caller treats as "recent enough").
    pub(crate) async fn last_sign_in(&self, source: &str, profile: &str) -> Result<Option<SystemTime>, SsoError> {
        #[cfg(feature = "ledger")]
        {
            let status = self.ledger.status(source, profile).await?;
            Ok(Some(status.and_then(|s| s.obtained_at).unwrap_or(SystemTime::UNIX_EPOCH)))
        }
        #[cfg(not(feature = "ledger"))]
        {
            let _ = (source, profile);
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without the ledger feature: no ledger asked for is fine, one asked for is an error that
    /// names the feature (and shows no password); with it, the configured ledger opens.
    #[tokio::test]
    async fn a_configured_ledger_needs_the_feature() {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(home.path());
        let none = SsoConfig::builder().build();
        let with = SsoConfig::builder().db_path("postgres://team:hunter2@127.0.0.1:1/ledger").build();
        if cfg!(feature = "ledger") {
            let sqlite = SsoConfig::builder().db_path(paths.cache_dir().join("l.db").display().to_string()).build();
            let journal = Journal::open(&sqlite, &paths).await.unwrap();
            assert_eq!(journal.last_sign_in("s", "p").await.unwrap(), Some(SystemTime::UNIX_EPOCH));
        } else {
            let journal = Journal::open(&none, &paths).await.unwrap();
            assert_eq!(journal.last_sign_in("s", "p").await.unwrap(), None);
            let e = Journal::open(&with, &paths).await.unwrap_err().to_string();
            assert!(e.contains("`ledger` feature") && e.contains("AWS_CREDENTIALS_DB_PATH"), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }
}
