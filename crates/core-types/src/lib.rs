#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod breaker;
mod clock;
mod compare;
mod credentials;
mod error;
mod failure;
mod logging;
mod policy;
mod retry;
mod source;
mod token;

pub use breaker::{Admission, CallOutcome, CircuitBreaker, CircuitState};
#[cfg(any(test, feature = "test-util"))]
pub use clock::ManualClock;
pub use clock::{Clock, SystemClock};
pub use compare::{constant_time_eq, edit_distance};
pub use credentials::AwsCredentials;
pub use error::{ErrorKind, Kinded};
pub use failure::{CallFailure, describe_foreign_body, innermost_cause, one_line};
pub use logging::SECRET_BEARING_LOG_TARGETS;
pub use policy::{Expiry, Freshness, RefreshPolicy};
pub use retry::{Backoff, RetryPolicy, Verdict, retry_after};
pub use secrecy::{ExposeSecret, SecretString};
pub use source::{CredentialSource, Expiring};
pub use token::TokenSet;
