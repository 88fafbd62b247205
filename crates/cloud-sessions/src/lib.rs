//! AWS and Azure sessions declared in YAML, for long integration runs.
//!
//! ```yaml
//! cloud_sessions:
//!   - name: prod
//!     session_type: aws
//!     region: us-east-1
//!     profile: production
//!   - name: deploy
//!     session_type: aws
//!     region: eu-west-1
//!     role_arn: arn:aws:iam::123456789012:role/Deploy
//!     session_name: ci
//!     source: prod
//!     duration_seconds: 3600
//!   - name: azure-ci
//!     session_type: azure
//!     tenant_id: ENV/AZURE_TENANT_ID
//!     client_id: ENV/AZURE_CLIENT_ID
//!     client_secret: SEC/azure_ci_secret
//!   - name: azure-anywhere      # no kind: environment → workload → managed identity → az
//!     session_type: azure
//! roles:
//!   ci:
//!     allowed_sessions: [deploy]
//! ```
//!
//! [`plan`] validates the file (errors carry the YAML path) and orders what it declares
//! (sources before the roles they assume, a secret store right after the session that reads
//! it, sessions with `SEC/` values after the stores); [`CloudSessionManager::from_yaml`] plans,
//! then builds in that order: it resolves `ENV/NAME` and `SEC/name` references, and builds AWS sessions whose credentials
//! refresh themselves through cred-store's refreshing cache, and Azure sessions whose
//! credential chain caches tokens and reports which credential answered. Health checks, retry (transient
//! errors only), scheduled rotation, role-based access and extended sessions are methods of
//! the manager, a cheap-to-clone handle.
#![warn(missing_docs)]

// the README's examples compile (and run, where they need no network) as doctests
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "azure")]
mod azure;
#[cfg(feature = "azure")]
mod azure_builder;
mod build;
mod config;
#[cfg(feature = "console")]
pub mod console;
mod error;
mod extended;
mod health;
mod keys;
#[cfg(feature = "key-vault")]
mod keyvault;
mod manager;
mod options;
mod plan;
mod profile;
mod reactive;
mod refs;
mod renew;
mod reports;
mod rotation;
#[cfg(feature = "secrets-manager")]
mod secretsmanager;
mod served;
mod session;
mod sources;
mod team;

#[cfg(feature = "azure")]
pub use azure::{AttemptOutcome, AzureSession, ChainAttempt, MANAGEMENT_SCOPE};
#[cfg(feature = "azure")]
pub use azure_builder::AzureSessionBuilder;
pub use config::{
    LoadedConfig, RoleSpec, SecretsSpec, SessionSpec, SessionType, SessionsFile, StoreSpec, StoreType, TeamStoreSpec,
    parse_config,
};
pub use error::SessionError;
pub use extended::{DURATION_LIMITS, ExtendedSession, ExtendedSource};
pub use keys::{ACCEPT_WAIT, DEFAULT_SESSION_SECONDS, KeyRotated, rotate_access_key};
#[cfg(feature = "key-vault")]
pub use keyvault::{AzureKeyVaultStore, KEY_VAULT_API_VERSION};
pub use manager::CloudSessionManager;
/// The device code an [`AzureSession::device_sign_in`] shows.
#[cfg(feature = "azure-browser")]
pub use oauth_pkce::DeviceAuthorization;
pub use options::{ManagerOptions, MfaPrompt};
pub use plan::{
    AwsCredentialPlan, AwsSessionPlan, AzureCredentialPlan, AzureSessionPlan, Plan, RolePlan, RoleSource, Step,
    StorePlan, plan, plan_for,
};
#[cfg(feature = "sso")]
pub use profile::sso_handle;
pub use profile::{
    Named, ProfileCredentials, build_plan, credentials_for, extended_profile_credentials, plan_profile,
    profile_credentials,
};
pub use reactive::ReactiveRefresh;
pub use refs::{BoxFuture, EnvLookup, LocalSecretStore, Resolver, SecretStore, ValueRef};
pub use reports::{HealthReport, RotationReport};
pub use rotation::{REVOKE_POLICY_NAME, RotateNow, revoke_older_sessions_policy};
#[cfg(feature = "secrets-manager")]
pub use secretsmanager::AwsSecretStore;
pub use served::session_credentials;
pub use session::{AwsSession, Session};
pub use sources::from_sts;
