#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

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
