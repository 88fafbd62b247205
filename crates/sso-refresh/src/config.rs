use std::path::PathBuf;
use std::time::Duration;

use core_types::RetryPolicy;

use crate::error::SsoError;

/// How `AwsSso` keeps credentials valid. Defaults: no AWS CLI (a sign-in that cannot be
/// renewed silently is a typed error asking for a new device sign-in), the ledger under the
/// ccc config directory, a 12-hour window, 3 retries from 5 s.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SsoConfig {
    /// The AWS CLI executable used for `aws sso login` when silent refresh is impossible.
    pub aws_exec_file_path: PathBuf,
    /// Whether to run `aws sso login` then (an explicit choice: `AWS_EXEC_FILE_PATH` set, or
    /// the builder's `aws_exec_file_path` / `cli_fallback`); otherwise the sign-in is the
    /// caller's to redo, with [`crate::AwsSso::device_sign_in`].
    pub cli_fallback: bool,
    /// The ledger (a SQLite path or `postgres://` URL); `None` uses the default file.
    pub db_path: Option<String>,
    /// Refresh the sign-in when the last good one is older than this (`AWS_SSO_REFRESH_WINDOW`,
    /// in hours: the design's "hours between credential refreshes"). It counts from the last
    /// sign-in or token refresh, never from a role-credential fetch, so a busy process reaches
    /// it too.
    pub max_sign_in_age: Duration,
    /// Retries of a failing `aws sso login`.
    pub max_retries: u32,
    /// Delay before the first retry (doubling after).
    pub retry_delay: Duration,
}

impl std::fmt::Debug for SsoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // a team ledger URL may carry a password (`postgres://user:pw@host/db`)
        f.debug_struct("SsoConfig")
            .field("aws_exec_file_path", &self.aws_exec_file_path)
            .field("cli_fallback", &self.cli_fallback)
            .field("db_path", &self.db_path.as_deref().map(cred_store::redact_url))
            .field("max_sign_in_age", &self.max_sign_in_age)
            .field("max_retries", &self.max_retries)
            .field("retry_delay", &self.retry_delay)
            .finish()
    }
}

impl Default for SsoConfig {
    fn default() -> Self {
        Self {
            aws_exec_file_path: PathBuf::from("aws"),
            cli_fallback: false,
            db_path: None,
            max_sign_in_age: Duration::from_secs(12 * 3600),
            max_retries: 3,
            retry_delay: Duration::from_secs(5),
        }
    }
}

/// Builds an [`SsoConfig`].
#[derive(Debug, Clone, Default)]
pub struct SsoConfigBuilder {
    config: SsoConfig,
}

impl SsoConfigBuilder {
    /// The AWS CLI executable, for `aws sso login` when silent refresh is impossible (this
    /// turns the fallback on).
    #[must_use]
    pub fn aws_exec_file_path(mut self, p: impl Into<PathBuf>) -> Self {
        self.config.aws_exec_file_path = p.into();
        self.config.cli_fallback = true;
        self
    }
    /// Whether to fall back to `aws sso login` (default no).
    #[must_use]
    pub fn cli_fallback(mut self, on: bool) -> Self {
        self.config.cli_fallback = on;
        self
    }
    /// The ledger location.
    #[must_use]
    pub fn db_path(mut self, p: impl Into<String>) -> Self {
        self.config.db_path = Some(p.into());
        self
    }
    /// Sign in again when the last good sign-in is older than this.
    #[must_use]
    pub fn max_sign_in_age(mut self, d: Duration) -> Self {
        self.config.max_sign_in_age = d;
        self
    }
    /// Retries of the CLI login.
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        self.config.max_retries = n;
        self
    }
    /// First retry delay.
    #[must_use]
    pub fn retry_delay(mut self, d: Duration) -> Self {
        self.config.retry_delay = d;
        self
    }
    /// The config.
    pub fn build(self) -> SsoConfig {
        self.config
    }
}

fn number<T: std::str::FromStr>(variable: &'static str, value: &str, what: &str) -> Result<T, SsoError> {
    value.trim().parse().map_err(|_| SsoError::Config {
        variable,
        value: value.to_owned(),
        message: format!("expected {what}"),
    })
}

impl SsoConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> SsoConfigBuilder {
        SsoConfigBuilder::default()
    }

    /// From an environment lookup: `AWS_EXEC_FILE_PATH`, `AWS_CREDENTIALS_DB_PATH`,
    /// `AWS_SSO_REFRESH_WINDOW` (hours, may be fractional), `AWS_SSO_MAX_RETRIES`,
    /// `AWS_SSO_RETRY_DELAY` (seconds). Unset or empty variables keep the defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SsoError> {
        let mut c = Self::default();
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("AWS_EXEC_FILE_PATH") {
            c.aws_exec_file_path = PathBuf::from(v);
            c.cli_fallback = true;
        }
        if let Some(v) = get("AWS_CREDENTIALS_DB_PATH") {
            c.db_path = Some(v);
        }
        if let Some(v) = get("AWS_SSO_REFRESH_WINDOW") {
            let hours: f64 = number("AWS_SSO_REFRESH_WINDOW", &v, "a number of hours, e.g. 12 or 0.5")?;
            if !(hours.is_finite() && hours > 0.0 && hours <= 24.0 * 90.0) {
                return Err(SsoError::Config {
                    variable: "AWS_SSO_REFRESH_WINDOW",
                    value: v,
                    message: "expected hours between 0 and 2160".into(),
                });
            }
            c.max_sign_in_age = Duration::from_secs_f64(hours * 3600.0);
        }
        if let Some(v) = get("AWS_SSO_MAX_RETRIES") {
            let n: u32 = number("AWS_SSO_MAX_RETRIES", &v, "a whole number of retries, e.g. 3")?;
            if n > 100 {
                return Err(SsoError::Config {
                    variable: "AWS_SSO_MAX_RETRIES",
                    value: v,
                    message: "at most 100 retries".into(),
                });
            }
            c.max_retries = n;
        }
        if let Some(v) = get("AWS_SSO_RETRY_DELAY") {
            let secs: f64 = number("AWS_SSO_RETRY_DELAY", &v, "a number of seconds, e.g. 5")?;
            if !(secs.is_finite() && (0.0..=3600.0).contains(&secs)) {
                return Err(SsoError::Config {
                    variable: "AWS_SSO_RETRY_DELAY",
                    value: v,
                    message: "expected seconds between 0 and 3600".into(),
                });
            }
            c.retry_delay = Duration::from_secs_f64(secs);
        }
        Ok(c)
    }

    /// From the process environment. Call once, near `main`.
    #[allow(clippy::disallowed_methods)] // the one place sso-refresh reads the environment
    pub fn from_env() -> Result<Self, SsoError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The retry schedule of the CLI login: `retry_delay`, doubling, no jitter (a person
    /// may be watching the delays), capped at five minutes.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::new(self.max_retries, self.retry_delay).with_jitter(false).with_max_delay(Duration::from_secs(300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<SsoConfig, SsoError> {
        SsoConfig::from_lookup(|k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn from_env_table() {
        let d = SsoConfig::default();
        assert_eq!(from(&[]).unwrap(), d);
        assert_eq!(from(&[("AWS_SSO_REFRESH_WINDOW", "")]).unwrap(), d, "empty keeps the default");
        let c = from(&[
            ("AWS_EXEC_FILE_PATH", "/opt/aws/bin/aws"),
            ("AWS_CREDENTIALS_DB_PATH", "postgres://u@h/db"),
            ("AWS_SSO_REFRESH_WINDOW", "0.5"),
            ("AWS_SSO_MAX_RETRIES", "7"),
            ("AWS_SSO_RETRY_DELAY", "2.5"),
        ])
        .unwrap();
        assert_eq!(c.aws_exec_file_path, PathBuf::from("/opt/aws/bin/aws"));
        assert_eq!(c.db_path.as_deref(), Some("postgres://u@h/db"));
        assert_eq!(c.max_sign_in_age, Duration::from_secs(1800));
        assert_eq!(c.max_retries, 7);
        assert_eq!(c.retry_delay, Duration::from_millis(2500));

        let bad = [
            ("AWS_SSO_REFRESH_WINDOW", "twelve"),
            ("AWS_SSO_REFRESH_WINDOW", "-1"),
            ("AWS_SSO_REFRESH_WINDOW", "NaN"),
            ("AWS_SSO_MAX_RETRIES", "3.5"),
            ("AWS_SSO_MAX_RETRIES", "-2"),
            ("AWS_SSO_MAX_RETRIES", "1000"),
            ("AWS_SSO_RETRY_DELAY", "soon"),
            ("AWS_SSO_RETRY_DELAY", "99999"),
        ];
        for (var, value) in bad {
            let e = from(&[(var, value)]).unwrap_err();
            assert!(matches!(&e, SsoError::Config { variable, .. } if *variable == var), "{var}={value}: {e}");
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }

    #[test]
    fn builder_and_retry_schedule() {
        let c = SsoConfig::builder().max_retries(3).retry_delay(Duration::from_secs(5)).build();
        let delays: Vec<Duration> = c.retry_policy().backoff(0).collect();
        assert_eq!(delays, [Duration::from_secs(5), Duration::from_secs(10), Duration::from_secs(20)]);
    }

    #[test]
    fn debug_hides_a_ledger_password() {
        let c = SsoConfig::builder().db_path("postgres://team:hunter2@db.example/ledger?password=hunter3").build();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("hunter3"), "{shown}");
        assert!(shown.contains("db.example"), "{shown}");
    }
}
