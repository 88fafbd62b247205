//! Shared types of the ccc credential toolkit.
//!
//! This crate does no I/O: time comes from a [`Clock`] the caller passes in, randomness for
//! jitter from a seeded generator, and nothing here touches files, the network or the
//! environment. Every secret is a [`secrecy::SecretString`], so `Debug` output is redacted.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use core_types::{AwsCredentials, Freshness, RefreshPolicy};
//!
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let creds = AwsCredentials::new("ASIAEXAMPLE", "wJalrXUtnFEMI", Some("FwoGZXIvYXdz".into()), Some(now + Duration::from_secs(120)));
//! // two minutes left, five-minute window: time to refresh, still usable meanwhile
//! let policy = RefreshPolicy::new(Duration::from_secs(300));
//! assert_eq!(policy.freshness_at(creds.expiration(), now), Freshness::RefreshDue);
//! assert!(!format!("{creds:?}").contains("wJalrXUtnFEMI"));
//! ```
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
