//! Amazon Cognito sign-in for the ccc toolkit.
//!
//! [`CognitoAuthenticator`] signs a user in to a user pool — `USER_SRP_AUTH` by default, so
//! the password never leaves the machine, or `USER_PASSWORD_AUTH` — answers challenges (new
//! password, SMS / TOTP MFA), exchanges the ID token for AWS credentials through an identity
//! pool, refreshes, and signs out. [`JwtVerifier`] checks the pool's tokens against its JWKS.
//! [`CognitoSource`] keeps a user signed in behind `cred_store::Refreshing`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cognito_auth::CognitoError> {
//! use cognito_auth::{AuthOutcome, CognitoAuthenticator, CognitoConfig};
//! let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//! let mut config = CognitoConfig::new("us-east-1_AbC123", "client-id", "us-east-1");
//! config.identity_pool_id = Some("us-east-1:01234567-89ab-cdef-0123-456789abcdef".into());
//! let auth = CognitoAuthenticator::new(config, &sdk);
//! let password = core_types::SecretString::from("correct horse".to_owned());
//! if let AuthOutcome::Tokens(tokens) = auth.authenticate("alice", &password).await?
//!     && let Some(id_token) = &tokens.id_token
//! {
//!     let creds = auth.get_aws_credentials(id_token).await?;
//!     tracing::info!(expires = ?creds.expiration(), "signed in");
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod account;
mod auth;
mod config;
mod error;
mod jwt;
mod profile;
mod source;
#[doc(hidden)] // the SRP arithmetic, public only for the pycognito cross-check and the bench
pub mod srp;

pub use account::SignUp;
pub use auth::{AuthOutcome, Challenge, ChallengeAnswer, ChallengeName, CognitoAuthenticator, TotpSetup};
pub use config::{
    ATTEMPT_TIMEOUT_KEY, AuthFlow, CognitoConfig, DEFAULT_ATTEMPT_TIMEOUT, attempt_timeout, keys,
    validate_identity_pool_id, validate_region, validate_user_pool_id,
};
pub use error::CognitoError;
pub use jwt::{JWKS_REFETCH_INTERVAL, JwtVerifier, VerifiedToken};
pub use profile::{
    CognitoProfile, CognitoProfileBuilder, DEFAULT_PROFILE_KEY, PromptError, SignedIn, SignedOut, USERNAME_SETTING,
    default_profile, signed_in_user,
};
pub use source::{CognitoSource, CognitoTokens, FleetEntries, MemoryTokens, TokenEntries};
