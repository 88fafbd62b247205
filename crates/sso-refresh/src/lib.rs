//! Keeps AWS IAM Identity Center (SSO) credentials valid.
//!
//! [`AwsSso`] decides ([`AwsSso::should_refresh_credentials`]) and refreshes
//! ([`AwsSso::refresh_credentials`], [`AwsSso::ensure_valid_credentials`]): first silently,
//! with the SSO-OIDC refresh token in the awscli token cache (`CreateToken`, then
//! `GetRoleCredentials`); only when that is refused, through `aws sso login` run by a
//! [`CommandRunner`], retried with growing delays. Every attempt lands in the cred-store
//! ledger. [`SsoConfig::from_env`] reads `AWS_EXEC_FILE_PATH`, `AWS_CREDENTIALS_DB_PATH`,
//! `AWS_SSO_REFRESH_WINDOW`, `AWS_SSO_MAX_RETRIES` and `AWS_SSO_RETRY_DELAY`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sso_refresh::SsoError> {
//! use sso_refresh::{AwsSso, SsoConfig};
//! let paths = cred_store::Paths::from_env()?;
//! let sso = AwsSso::builder(SsoConfig::from_env()?, &paths, "my-sso-profile").build().await?;
//! let creds = sso.ensure_valid_credentials().await?;
//! tracing::info!(expires = ?creds.expiration(), "credentials are valid");
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod assignments;
mod config;
mod device;
mod error;
mod journal;
mod profile;
mod runner;
mod sso;
mod upstream;

pub use assignments::{Assignment, Pace};
pub use config::{SsoConfig, SsoConfigBuilder};
pub use device::DeviceCode;
pub use error::SsoError;
pub use profile::SsoProfile;
#[cfg(any(test, feature = "test-util"))]
pub use runner::RecordingSleeper;
pub use runner::{BoxFuture, CommandOutput, CommandRunner, Sleeper, SystemRunner, TokioSleeper};
pub use sso::{AwsSso, AwsSsoBuilder, LongRunning, role_cache_file};
pub use upstream::SsoSource;
