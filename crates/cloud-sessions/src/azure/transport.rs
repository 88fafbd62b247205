//! azure_core's HTTP client (the workspace's reqwest) and process hook (tokio).

use std::ffi::OsStr;
use std::time::Duration;

use async_trait::async_trait;
use azure_identity::Executor;

/// The default HTTP client for Azure and AWS-side HTTP: rustls, a connect timeout, no
/// redirects (a bearer token never follows a redirect to another host). azure_core sends
/// through it directly (its `reqwest` feature implements `HttpClient` for `reqwest::Client`,
/// on the workspace's reqwest major).
pub(crate) fn default_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Runs `az` with the `PATH` the manager was given (the process's, unless a test injects one).
#[derive(Debug)]
pub(crate) struct CliExecutor {
    pub(crate) path: Option<String>,
    pub(crate) timeout: Duration,
}

#[async_trait]
impl Executor for CliExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> std::io::Result<std::process::Output> {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args).kill_on_drop(true).stdin(std::process::Stdio::null());
        if let Some(p) = &self.path {
            cmd.env("PATH", p);
        }
        match tokio::time::timeout(self.timeout, cmd.output()).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "az did not answer in time")),
        }
    }
}
