#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
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
