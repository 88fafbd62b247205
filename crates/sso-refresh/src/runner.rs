//! The outside world `AwsSso` acts on, behind traits so tests can stand in for it: running
//! the AWS CLI, and sleeping between retries.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

/// A boxed future, for object-safe async traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a finished command reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// Whether it exited 0.
    pub success: bool,
    /// Its exit code, if it exited.
    pub code: Option<i32>,
    /// Its standard error (the CLI explains failures there; it never holds tokens).
    pub stderr: String,
}

/// Runs external commands (the `_run_aws_command` hook of the original design).
pub trait CommandRunner: Send + Sync + fmt::Debug {
    /// Runs `program args` to completion.
    fn run<'a>(&'a self, program: &'a Path, args: &'a [String]) -> BoxFuture<'a, std::io::Result<CommandOutput>>;
}

/// Runs commands for real. Standard input and output are inherited, so `aws sso login` can
/// show its verification code and open the browser.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRunner;

impl CommandRunner for SystemRunner {
    fn run<'a>(&'a self, program: &'a Path, args: &'a [String]) -> BoxFuture<'a, std::io::Result<CommandOutput>> {
        let program: PathBuf = program.to_owned();
        let args = args.to_vec();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let out = std::process::Command::new(&program)
                    .args(&args)
                    .stdin(std::process::Stdio::inherit())
                    .stdout(std::process::Stdio::inherit())
                    .stderr(std::process::Stdio::piped())
                    .output()?;
                Ok(CommandOutput {
                    success: out.status.success(),
                    code: out.status.code(),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                })
            })
            .await
            .map_err(std::io::Error::other)?
        })
    }
}

/// Waits between retries.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Sleeps for `d`.
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()>;
}

/// Sleeps for real (tokio's timer).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

#[cfg(any(test, feature = "test-util"))]
pub use fake::RecordingSleeper;

#[cfg(any(test, feature = "test-util"))]
mod fake {
    use super::*;
    use core_types::ManualClock;
    use std::sync::{Arc, Mutex, PoisonError};

    /// A sleeper that returns at once, moves a [`ManualClock`] forward and records each delay.
    #[derive(Debug, Clone)]
    pub struct RecordingSleeper {
        clock: ManualClock,
        delays: Arc<Mutex<Vec<Duration>>>,
    }

    impl RecordingSleeper {
        /// Moves `clock` on each sleep.
        pub fn new(clock: ManualClock) -> Self {
            Self { clock, delays: Arc::default() }
        }

        /// The delays slept so far.
        pub fn delays(&self) -> Vec<Duration> {
            self.delays.lock().unwrap_or_else(PoisonError::into_inner).clone()
        }
    }

    impl Sleeper for RecordingSleeper {
        fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
            self.delays.lock().unwrap_or_else(PoisonError::into_inner).push(d);
            self.clock.advance(d);
            Box::pin(async {})
        }
    }
}
