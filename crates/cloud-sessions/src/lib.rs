//! AWS (and, declared but not yet built, Azure) sessions declared in YAML, for long
//! integration runs.
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
//! roles:
//!   ci:
//!     allowed_sessions: [deploy]
//! ```
//!
//! [`CloudSessionManager::from_yaml`] validates the file (errors carry the YAML path),
//! resolves `ENV/NAME` and `SEC/name` references, and builds sessions whose credentials
//! refresh themselves through cred-store's refreshing cache. Health checks, retry (transient
//! errors only), scheduled rotation, role-based access and extended sessions are methods of
//! the manager, a cheap-to-clone handle.

mod config;
mod error;
mod manager;
mod refs;
mod sources;

pub use config::{
    LoadedConfig, RoleSpec, SecretsSpec, SessionSpec, SessionType, SessionsFile, StoreSpec, parse_config,
};
pub use error::SessionError;
pub use manager::{AwsSession, CloudSessionManager, ExtendedSession, HealthReport, ManagerOptions, RotationReport};
pub use refs::{AwsSecretStore, BoxFuture, EnvLookup, LocalSecretStore, Resolver, SecretStore, ValueRef};
pub use sources::AssumeRoleSource;
