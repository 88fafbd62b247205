#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
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
